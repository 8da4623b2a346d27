"""Alibaba Function Compute 3.0 HTTP trigger, built-in Python runtime.

The event reaches the handler as bytes of JSON (the handler decodes it before calling
:func:`parse`): ``rawPath`` (percent-encoded), ``headers`` and ``queryParameters``
(string to string; repeated names arrive comma-joined and stay one value, since the
original split cannot be recovered), ``body``, ``isBase64Encoded`` and
``requestContext.http`` with ``method``, ``path`` and ``sourceIp``.

The response's headers are string to string. A repeated header is comma-joined, except
``Set-Cookie``, which cannot be joined safely; ``Options.fc_cookies`` chooses what happens
to several cookies (see :data:`~faas_bridge.options.FcCookieMode`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ...http import (
    MB,
    Request,
    Response,
    case_variants,
    decode_body,
    encode_body,
    encode_query,
    first_forwarded_for,
    get_header,
    header_pairs,
    scheme_from,
    server_from_host,
)
from ...options import Options
from .._common import context_value, make_request, require_mapping, require_method

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ...options import FcCookieMode

NAME = "alibaba_fc"
CLOUD = "alibaba"  # the cloud module (clouds/alibaba.py) this format belongs to
CLOUD_DEFAULT = True  # the format the cloud name "alibaba" means
SIGNATURE = "rawPath, requestContext and version 'v1' (FC 3.0 HTTP trigger)"
# Body limits, in bytes: 32 MB synchronous request payload (FC docs); the response
# limit is unverified and assumed equal.
REQUEST_LIMIT = 32 * MB
RESPONSE_LIMIT = 32 * MB


def matches(event: Mapping[str, Any]) -> bool:
    # AWS payload 2.0 events also carry rawPath and requestContext, with version "2.0":
    # only FC 3.0's "v1" is this format (anything else is an unknown event).
    return "rawPath" in event and "requestContext" in event and event.get("version") == "v1"


def parse(event: Mapping[str, Any], context: Any, options: Options) -> Request:
    raw_headers = require_mapping(event.get("headers"), "headers")
    request_context = require_mapping(event.get("requestContext"), "requestContext")
    http = require_mapping(request_context.get("http"), "requestContext.http")
    # FC keeps the names' case: try the canonical spellings before the general lookup.
    scheme = raw_headers.get("X-Forwarded-Proto")
    if scheme != "https" and scheme != "http":
        scheme = scheme_from(get_header(raw_headers, "x-forwarded-proto"))
    host = raw_headers.get("Host")
    if type(host) is not str:
        host = get_header(raw_headers, "host") or request_context.get("domainName")
    if type(host) is str and "," in host:  # FC folds a repeated Host into "a,a": unfold it
        host = host.split(",", 1)[0].strip()
        raw_headers = {
            name: host if name.lower() == "host" else value for name, value in raw_headers.items()
        }
    client_ip = http.get("sourceIp")
    if options.trust_forwarded_for:
        client_ip = (
            first_forwarded_for(get_header(raw_headers, "x-forwarded-for", "X-Forwarded-For"))
            or client_ip
        )
    request_id = request_context.get("requestId")
    if not isinstance(request_id, str) or not request_id:
        request_id = context_value(context, "request_id")
    return make_request(
        NAME,  # platform
        event,
        context,
        options,
        require_method(http.get("method")),  # method
        event.get("rawPath") or http.get("path") or "/",  # path
        "",  # stage_root
        encode_query(event.get("queryParameters")),  # query_string
        header_pairs(raw_headers),  # headers
        decode_body(event.get("body"), event.get("isBase64Encoded")),  # body
        scheme,
        server_from_host(host if isinstance(host, str) else None, scheme),  # server
        client_ip if isinstance(client_ip, str) else None,  # client_ip
        request_id,
    )


def render(response: Response, options: Options) -> dict[str, Any]:
    body, is_base64 = encode_body(response, options.text_types)
    return {
        "statusCode": response.status,
        "headers": fold_headers(response.headers, options.fc_cookies),
        "isBase64Encoded": is_base64,
        "body": body,
    }


def fold_headers(headers: list[tuple[str, str]], cookie_mode: FcCookieMode) -> dict[str, str]:
    """Header pairs as FC's string-to-string map.

    Repeated headers are comma-joined (equivalent in HTTP), except Set-Cookie: with
    ``"vary-case"`` each cookie gets its own spelling of the name (``Set-Cookie``,
    ``set-cookie``, ``SET-COOKIE``...), which keeps every cookie if the gateway copies the
    map into a header list and, at worst, one of them if it merges names; ``"join"``
    comma-joins them (breaks cookies whose ``Expires`` holds a comma); ``"first"`` and
    ``"last"`` keep one.
    """
    folded: dict[str, str] = {}
    first_spelling: dict[str, str] = {}
    cookies: list[tuple[str, str]] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "set-cookie":
            cookies.append((name, value))
            continue
        key = first_spelling.get(lower)
        if key is None:
            first_spelling[lower] = name
            folded[name] = value
        else:
            folded[key] = f"{folded[key]}, {value}"
    if len(cookies) == 1:
        folded[cookies[0][0]] = cookies[0][1]
    elif cookies:
        name = cookies[0][0]
        if cookie_mode == "vary-case":
            for spelling, (_, value) in zip(case_variants(name), cookies):
                folded[spelling] = value
        elif cookie_mode == "join":
            folded[name] = ", ".join(value for _, value in cookies)
        elif cookie_mode == "first":
            folded[name] = cookies[0][1]
        else:
            folded[name] = cookies[-1][1]
    return folded

"""Tencent SCF behind an API Gateway trigger (integration request / integrated response).

Event fields: ``httpMethod`` (the real method), ``path`` (without the stage), ``queryString``
(lists for repeated keys, ``true`` for keys without a value), ``headers`` (lower-case),
``body``, ``isBase64Encoded`` (bool, ``"true"`` or absent) and ``requestContext`` with
``stage``, ``sourceIp`` and sometimes ``requestId``. The response is the integrated-response
dict; a header sent several times is a list of strings.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...http import (
    _SERVERS,
    MB,
    Request,
    Response,
    decode_body,
    encode_body,
    encode_query,
    first_forwarded_for,
    fold_headers,
    get_header,
    header_pairs,
    remember,
    scheme_from,
    server_from_host,
)
from ...options import Options
from .._common import context_value, make_request, require_mapping, require_method

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "tencent_apigw"
CLOUD = "tencent"  # the cloud module (clouds/tencent.py) this format belongs to
SIGNATURE = "httpMethod and requestContext"
# Body limits, in bytes (platforms.md: 6 MB request, 6 MB response).
REQUEST_LIMIT = 6 * MB
RESPONSE_LIMIT = 6 * MB

# Default API Gateway domains put "/<stage>" in the public URL but not in event["path"].
DEFAULT_DOMAIN_SUFFIXES = (".apigw.tencentcs.com", ".apigateway.myqcloud.com", ".tencentapigw.com")


def matches(event: Mapping[str, Any]) -> bool:
    if "httpMethod" not in event or "requestContext" not in event or "rawPath" in event:
        return False
    request_context = event["requestContext"]
    if type(request_context) is dict:  # as decoded JSON gives it: no ABC check needed
        return "envId" not in request_context  # CloudBase's
    return not (isinstance(request_context, Mapping) and "envId" in request_context)


def parse(event: Mapping[str, Any], context: Any, options: Options) -> Request:
    # Decoded JSON gives plain dicts and strings: each field is checked with a type test
    # first, and only an unusual one takes the general helper (this runs on every call).
    raw_headers = event.get("headers")
    if type(raw_headers) is not dict:
        raw_headers = require_mapping(raw_headers, "headers")
    request_context = event.get("requestContext")
    if type(request_context) is not dict:
        request_context = require_mapping(request_context, "requestContext")
    method = event.get("httpMethod")
    if type(method) is not str or not method.isupper():
        method = require_method(method)
    query = event.get("queryString")
    if query is None:
        query = event.get("queryStringParameters")
    body = event.get("body")
    body = decode_body(body, event.get("isBase64Encoded")) if body else b""
    # Real events carry lower-case names: try the plain lookups before the general one.
    scheme = raw_headers.get("x-api-scheme")
    if scheme != "https" and scheme != "http":
        scheme = scheme_from(
            get_header(raw_headers, "x-api-scheme") or get_header(raw_headers, "x-forwarded-proto")
        )
    host = raw_headers.get("host")
    if type(host) is not str:
        host = get_header(raw_headers, "host")
    client_ip = request_context.get("sourceIp")
    if options.trust_forwarded_for:
        client_ip = first_forwarded_for(get_header(raw_headers, "x-forwarded-for")) or client_ip
    request_id = request_context.get("requestId")
    if not request_id or type(request_id) is not str:  # absent in recorded events
        request_id = raw_headers.get("x-api-requestid")
        if not request_id or type(request_id) is not str:
            request_id = get_header(raw_headers, "x-api-requestid") or ""
        request_id = request_id.strip() or context_value(context, "request_id")
    stage = request_context.get("stage")
    stage_prefix = _STAGE_ROOTS.get((stage, host)) if options.stage_prefix else ""
    if stage_prefix is None:
        stage_prefix = stage_root(stage, host, options)
    server = _SERVERS.get((host, scheme))
    if server is None:
        server = server_from_host(host, scheme)
    return make_request(
        NAME,  # platform
        event,
        context,
        options,
        method,
        event.get("path") or "/",  # path
        stage_prefix,  # stage_root
        encode_query(query),  # query_string
        header_pairs(raw_headers),  # headers
        body,
        scheme,
        server,
        client_ip if type(client_ip) is str else None,  # client_ip
        request_id,
    )


_STAGE_ROOTS: dict[tuple[object, object], str] = {}


def stage_root(stage: object, host: object, options: Options) -> str:
    """``"/release"`` when the request came through a default domain that shows the stage."""
    if not options.stage_prefix:
        return ""
    if type(stage) is str and type(host) is str:
        key = (stage, host)
        known = _STAGE_ROOTS.get(key)
        if known is None:
            known = remember(_STAGE_ROOTS, key, _stage_root(stage, host))
        return known
    return _stage_root(stage, host)


def _stage_root(stage: object, host: object) -> str:
    if (
        isinstance(stage, str)
        and stage
        and isinstance(host, str)
        and host.split(":", 1)[0].lower().endswith(DEFAULT_DOMAIN_SUFFIXES)
    ):
        return "/" + stage.strip("/")
    return ""


def render(response: Response, options: Options) -> dict[str, Any]:
    body, is_base64 = encode_body(response, options.text_types)
    facts = response.facts
    return {
        "isBase64Encoded": is_base64,
        "statusCode": response.status,
        "headers": (
            dict(response.headers)  # checked, and no name repeats: nothing to fold
            if facts is not None and not facts.repeats
            else fold_headers(response.headers, facts)
        ),
        "body": body,
    }

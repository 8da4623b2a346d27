"""Tencent CloudBase HTTP access service ("HTTP 访问服务") calling an event cloud function.

Event fields: ``path``, ``httpMethod``, ``headers``, ``queryStringParameters``, ``body``,
``isBase64Encoded`` and ``requestContext`` with ``requestId``, ``envId``, ``appId``, ``uin``.
The event has no trusted client address: the first ``X-Forwarded-For`` hop is used, and
it can be forged by the client. The response is the integrated-response dict, header
lists for repeated headers as on SCF.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...http import (
    MB,
    HeaderList,
    Request,
    Response,
    decode_body,
    encode_query,
    first_forwarded_for,
    get_header,
    header_pairs,
    scheme_from,
    server_from_host,
)
from ...options import Options
from .. import tencent_apigw
from .._common import context_value, make_request, require_mapping, require_method

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "cloudbase"
CLOUD = "cloudbase"  # the cloud module (clouds/cloudbase.py) this format belongs to
SIGNATURE = "httpMethod and requestContext.envId"
# Body limits, in bytes (unverified: assumed equal to SCF's).
REQUEST_LIMIT = 6 * MB
RESPONSE_LIMIT = 6 * MB


def matches(event: Mapping[str, Any]) -> bool:
    if "httpMethod" not in event or "rawPath" in event:
        return False
    request_context = event.get("requestContext")
    if type(request_context) is dict:  # as decoded JSON gives it: no ABC check needed
        return "envId" in request_context
    return isinstance(request_context, Mapping) and "envId" in request_context


def parse(event: Mapping[str, Any], context: Any, options: Options) -> Request:
    raw_headers = require_mapping(event.get("headers"), "headers")
    request_context = require_mapping(event.get("requestContext"), "requestContext")
    query = event.get("queryStringParameters")
    if query is None:
        query = event.get("queryString")
    multi = event.get("multiValueHeaders") or None  # doc revision 2024-01 (876/41776)
    # Real events carry lower-case names: try the plain lookups before the general one.
    scheme = raw_headers.get("x-forwarded-proto")
    if scheme != "https" and scheme != "http":
        scheme = scheme_from(get_header(raw_headers, "x-forwarded-proto"))
    host = raw_headers.get("host")
    if type(host) is not str:
        host = get_header(raw_headers, "host")
    forwarded = raw_headers.get("x-forwarded-for")  # the only client address: forgeable
    if type(forwarded) is not str:
        forwarded = get_header(raw_headers, "x-forwarded-for")
    request_id = request_context.get("requestId")
    if not isinstance(request_id, str) or not request_id:
        request_id = get_header(raw_headers, "x-cloudbase-request-id") or context_value(
            context, "request_id"
        )
    return make_request(
        NAME,  # platform
        event,
        context,
        options,
        require_method(event.get("httpMethod")),  # method
        event.get("path") or "/",  # path
        "",  # stage_root
        encode_query(query),  # query_string
        header_pairs(raw_headers) if multi is None else merge_multi(raw_headers, multi),
        decode_body(event.get("body"), event.get("isBase64Encoded")),  # body
        scheme,
        server_from_host(host, scheme),  # server
        first_forwarded_for(forwarded),  # client_ip
        request_id,
    )


def merge_multi(headers: Mapping[str, Any], multi: object) -> HeaderList:
    """The request headers when the event also has ``multiValueHeaders``: a name found
    there gives all its values (repeats reach the app as repeats), the others come from
    ``headers``."""
    lists = require_mapping(multi, "multiValueHeaders")
    by_lower = {str(name).lower(): name for name in lists}
    pairs: HeaderList = []
    for name, value in _as_pairs(header_pairs(headers)):
        if name.lower() not in by_lower:
            pairs.append((name, value))
    for name, values in lists.items():
        pairs.extend(_as_pairs(header_pairs({name: values})))
    return pairs


def _as_pairs(headers: HeaderList | dict[str, str]) -> HeaderList:
    return list(headers.items()) if type(headers) is dict else headers  # type: ignore[return-value]


def render(response: Response, options: Options) -> dict[str, Any]:
    return tencent_apigw.render(response, options)

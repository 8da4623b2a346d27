"""Tencent SCF function URL calling an event function.

The event is the API Gateway one without ``requestContext``, ``isBase64Encoded`` and the
``*Parameters`` fields: ``httpMethod``, ``path``, ``queryString``, ``headers``, ``body``.
The client address is the ``x-scf-remote-addr`` header, which the platform sets.
The response uses the same integrated-response shape as API Gateway.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...http import (
    MB,
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

NAME = "tencent_url"
CLOUD = "tencent"  # the cloud module (clouds/tencent.py) this format belongs to
SIGNATURE = "httpMethod and path, without requestContext, queryParameters or pathParameters"
# Body limits, in bytes (as API Gateway (SCF's synchronous invocation limits)).
REQUEST_LIMIT = 6 * MB
RESPONSE_LIMIT = 6 * MB


def matches(event: Mapping[str, Any]) -> bool:
    # queryParameters, pathParameters: Alibaba API Gateway's event, which also has no
    # requestContext (alibaba_apigw.matches takes either).
    return (
        "httpMethod" in event
        and "path" in event
        and "requestContext" not in event
        and "queryParameters" not in event
        and "pathParameters" not in event
    )


def parse(event: Mapping[str, Any], context: Any, options: Options) -> Request:
    raw_headers = require_mapping(event.get("headers"), "headers")
    query = event.get("queryString")
    if query is None:
        query = event.get("queryStringParameters")
    # Real events carry lower-case names: try the plain lookups before the general one.
    scheme = raw_headers.get("x-forwarded-proto")
    if scheme != "https" and scheme != "http":
        scheme = scheme_from(get_header(raw_headers, "x-forwarded-proto"))
    host = raw_headers.get("host")
    if type(host) is not str:
        host = get_header(raw_headers, "host")
    client_ip = raw_headers.get("x-scf-remote-addr")
    if type(client_ip) is not str:
        client_ip = get_header(raw_headers, "x-scf-remote-addr")
    if options.trust_forwarded_for:
        client_ip = first_forwarded_for(get_header(raw_headers, "x-forwarded-for")) or client_ip
    return make_request(
        NAME,  # platform
        event,
        context,
        options,
        require_method(event.get("httpMethod")),  # method
        event.get("path") or "/",  # path
        "",  # stage_root
        encode_query(query),  # query_string
        header_pairs(raw_headers),  # headers
        decode_body(event.get("body"), event.get("isBase64Encoded")),  # body
        scheme,
        server_from_host(host, scheme),  # server
        client_ip,  # client_ip
        context_value(context, "request_id")
        or get_header(raw_headers, "x-scf-request-id"),  # request_id
    )


def render(response: Response, options: Options) -> dict[str, Any]:
    return tencent_apigw.render(response, options)

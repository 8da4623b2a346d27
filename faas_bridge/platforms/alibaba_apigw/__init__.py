"""Alibaba Cloud API Gateway in front of a Function Compute event function.

An API whose backend is an FC event function sends the function its own event (bytes of
JSON on FC's built-in runtimes, decoded by the handler before :func:`parse`): ``path``
(the request path), ``httpMethod``, ``headers`` (names in their original case; ``Host`` is
replaced by ``CA-Host``), ``queryParameters`` and ``pathParameters`` (string to string),
``body`` and ``isBase64Encoded`` (a boolean, or ``"true"``/``"false"``). There is no
``requestContext``, ``rawPath`` or ``queryString``: that, with either parameters field, is
how it is told apart from FC's own HTTP trigger and from a Tencent function-URL event (which
has neither). The function answers
``{"isBase64Encoded", "statusCode", "headers", "body"}``; API Gateway answers 503 when it
cannot read that.

Sources: the API Gateway trigger pages of Function Compute,
https://www.alibabacloud.com/help/doc-detail/74797.html,
https://www.alibabacloud.com/help/en/functioncompute/fc/configure-an-api-gateway-trigger and
https://help.aliyun.com/document_detail/85208.html (event and response formats, 503 on a
malformed response); API Gateway's system parameters,
https://www.alibabacloud.com/help/doc-detail/43994.html; API Gateway's limits,
https://help.aliyun.com/en/api-gateway/traditional-api-gateway/product-overview/limits
(request body at most 8 MB on shared/serverless instances, 32 MB on dedicated ones; a
Function Compute response body at most 6 MB).

Unverified (no document found): how repeated query keys and repeated headers arrive (taken
as FC's HTTP trigger does it: comma-joined); whether ``X-Forwarded-For`` ends with the
address the gateway saw (the client address is read from its last entry, then
``X-Real-IP``); several ``Set-Cookie`` headers in the answer's string-to-string headers
(sent as ``Options.fc_cookies`` says, as for FC); whether the 6 MB response limit counts
the function's returned JSON or the decoded body (the returned JSON is counted, as for the
other formats).
"""

from __future__ import annotations

from collections.abc import Mapping

from ...http import (
    Request,
    Response,
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
from ..alibaba_fc import fold_headers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "alibaba_apigw"
CLOUD = "alibaba"  # the cloud module (clouds/alibaba.py) this format belongs to
SIGNATURE = (
    "httpMethod and queryParameters or pathParameters, without requestContext (API Gateway -> FC)"
)
# Body limits, in bytes, the decimal reading of the limits page's "8 MB" (request body, shared
# and serverless instances; dedicated ones allow 32 MB) and "6 MB" (Function Compute response).
REQUEST_LIMIT = 8_000_000
RESPONSE_LIMIT = 6_000_000


def matches(event: Mapping[str, Any]) -> bool:
    # Either parameters field is the gateway's own (the docs and captures show both, always):
    # tencent_url.matches refuses both, so neither event is taken for the other.
    return (
        "httpMethod" in event
        and ("queryParameters" in event or "pathParameters" in event)
        and "requestContext" not in event
    )


def parse(event: Mapping[str, Any], context: Any, options: Options) -> Request:
    raw_headers = require_mapping(event.get("headers"), "headers")
    scheme = scheme_from(get_header(raw_headers, "x-forwarded-proto", "X-Forwarded-Proto"))
    host = get_header(raw_headers, "host", "Host") or get_header(raw_headers, "ca-host", "CA-Host")
    forwarded = get_header(raw_headers, "x-forwarded-for", "X-Forwarded-For")
    if options.trust_forwarded_for:
        client_ip = first_forwarded_for(forwarded)
    else:
        client_ip = _last_forwarded_for(forwarded)
    client_ip = client_ip or get_header(raw_headers, "x-real-ip", "X-Real-IP")
    request_id = context_value(context, "request_id") or get_header(
        raw_headers, "x-ca-api-gateway", "X-Ca-Api-Gateway"
    )
    return make_request(
        NAME,  # platform
        event,
        context,
        options,
        require_method(event.get("httpMethod")),  # method
        event.get("path") or "/",  # path
        "",  # stage_root
        encode_query(event.get("queryParameters")),  # query_string
        header_pairs(raw_headers),  # headers
        decode_body(event.get("body"), event.get("isBase64Encoded")),  # body
        scheme,
        server_from_host(host, scheme),  # server
        client_ip,  # client_ip
        request_id,
    )


def _last_forwarded_for(value: str | None) -> str | None:
    """The last address of ``X-Forwarded-For``: the one the gateway appended."""
    if not value:
        return None
    last = value.rsplit(",", 1)[-1].strip()
    return last or None


def render(response: Response, options: Options) -> dict[str, Any]:
    body, is_base64 = encode_body(response, options.text_types)
    return {
        "isBase64Encoded": is_base64,
        "statusCode": response.status,
        "headers": fold_headers(response.headers, options.fc_cookies),
        "body": body,
    }

"""API Gateway's side of the ``alibaba_apigw`` format: the event an API with an FC
event-function backend sends (bytes of JSON, ``Host`` moved to ``CA-Host``, the gateway's
request id in ``X-Ca-Api-Gateway``, the client in ``X-Forwarded-For``/``X-Real-IP``, repeats
comma-joined), the FC context, how the gateway reads the return (an integrated response
only: anything else is its 503), and its own error replies (a status and an
``X-Ca-Error-Code``, which the gateway sends as headers and the emulator shows in a JSON
body; https://help.aliyun.com/document_detail/43906.htm).
"""

from __future__ import annotations

import json
from typing import Any

from ...errors import InvalidResponseError
from .._gateway import (
    Decoded,
    Draft,
    decode_integrated,
    describe,
    find,
    fold_keep_case,
    is_integrated,
    json_body,
)
from ..alibaba_fc.gateway import build_context, time_limit, with_time_limit

__all__ = ["build", "build_context", "decode", "deliver", "time_limit", "with_time_limit"]

NAME = "alibaba_apigw"
DEFAULT_HOST = "6f6543b4ff354955a3d2ba0475c49999-cn-hangzhou.alicloudapi.com"
REQUEST_ID_HEADER = "X-Ca-Request-Id"
SCHEME_HEADER = "x-forwarded-proto"
STAGE_HOST = None
ATTACHMENT_ON_DEFAULT_DOMAIN = False

# kind -> (status, X-Ca-Error-Code). I404NF and I413RL are in API Gateway's error-code table
# (https://www.alibabacloud.com/help/en/api-gateway/traditional-api-gateway/support/api-gateway-error-code-table);
# a malformed or failed FC answer is the trigger page's 503, with a code not documented.
_ERRORS: dict[str, tuple[int, str]] = {
    "not_found": (404, "I404NF"),
    "request_too_large": (413, "I413RL"),
    "invalid_response": (503, ""),
    "response_too_large": (503, ""),
    "function_error": (503, ""),
    "timeout": (504, ""),
}


def build(request: Draft) -> dict[str, Any]:
    text, is_base64 = request.body_fields
    headers = fold_keep_case(
        (name, value) for name, value in request.headers if name.lower() != "host"
    )
    headers["CA-Host"] = request.host  # the gateway replaces Host with CA-Host
    if request.body and find(headers.items(), "content-length") is None:
        headers["Content-Length"] = str(len(request.body))
    if find(headers.items(), "x-forwarded-proto") is None:
        headers["X-Forwarded-Proto"] = "https"
    forwarded = find(headers.items(), "x-forwarded-for")
    for name in [n for n in headers if n.lower() in ("x-forwarded-for", "x-real-ip")]:
        del headers[name]
    headers["X-Forwarded-For"] = (
        f"{forwarded},{request.client_ip}" if forwarded else request.client_ip
    )
    headers["X-Real-IP"] = request.client_ip
    headers["X-Ca-Api-Gateway"] = request.request_id.upper()
    query: dict[str, str] = {}
    for key, value in request.query:  # unverified: repeats comma-joined, as FC does
        item = value or ""
        query[key] = f"{query[key]},{item}" if key in query else item
    return {
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "queryParameters": query,
        "pathParameters": {},
        "body": text,
        "isBase64Encoded": is_base64,
    }


def deliver(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8")  # FC runtimes pass bytes


def decode(returned: Any) -> Decoded:
    if is_integrated(returned):
        return decode_integrated(NAME, returned, header_lists=False)
    raise InvalidResponseError(
        f"{NAME}: API Gateway needs an object with statusCode, headers, body and "
        f"isBase64Encoded, got {describe(returned)} (it answers 503)"
    )


def error_body(kind: str, status: int, reason: str) -> tuple[int, bytes]:
    status, code = _ERRORS[kind]
    return status, json_body({"X-Ca-Error-Code": code, "X-Ca-Error-Message": reason})

"""FC 3.0 HTTP trigger's side of the ``alibaba_fc`` format: the event a request becomes
(bytes of JSON, ``rawPath`` percent-encoded, repeats comma-joined), the FC context object,
how the trigger decodes the return (string-to-string headers; bytes and strings sent as they
are, other values as JSON: unverified), and FC's error replies (``ErrorCode``/``ErrorMessage``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, unquote

from .._gateway import (
    Decoded,
    Draft,
    decode_integrated,
    find,
    fold_keep_case,
    is_integrated,
    json_body,
    plain_json,
    plain_text,
)

NAME = "alibaba_fc"
DEFAULT_HOST = "demo-trigger-abcdefghij.cn-hangzhou.fcapp.run"
REQUEST_ID_HEADER = "X-Fc-Request-Id"
SCHEME_HEADER = "x-forwarded-proto"
STAGE_HOST = None
# FC's default *.fcapp.run domain adds Content-Disposition: attachment (browsers download).
ATTACHMENT_ON_DEFAULT_DOMAIN = True

# Characters FC leaves as they are when it percent-encodes a path into rawPath.
_PATH_SAFE = "/:@!$&'()*+,;="
_ERROR_CODES = {
    "not_found": "PathNotFound",
    "request_too_large": "RequestEntityTooLarge",
    "invalid_response": "InvalidFunctionResponse",
    "response_too_large": "FunctionResponseTooLarge",
    "function_error": "UnhandledInvocationError",
    "timeout": "FunctionTimeout",
}


def build(request: Draft) -> dict[str, Any]:
    text, is_base64 = request.body_fields
    headers = fold_keep_case(request.headers)
    if find(headers.items(), "host") is None:
        headers["Host"] = request.host
    if request.body and find(headers.items(), "content-length") is None:
        headers["Content-Length"] = str(len(request.body))
    if find(headers.items(), "x-forwarded-proto") is None:
        headers["X-Forwarded-Proto"] = "https"
    query: dict[str, str] = {}
    for key, value in request.query:  # no raw query string: repeats comma-joined
        item = value or ""
        query[key] = f"{query[key]},{item}" if key in query else item
    if "%" in request.path:
        raw_path, decoded = quote(request.path, safe=_PATH_SAFE + "%"), unquote(request.path)
    else:
        raw_path, decoded = quote(request.path, safe=_PATH_SAFE), request.path
    domain = request.host.split(":", 1)[0]
    now = time.time()
    return {
        "version": "v1",
        "rawPath": raw_path,
        "headers": headers,
        "queryParameters": query,
        "body": text,
        "isBase64Encoded": is_base64,
        "requestContext": {
            "accountId": "1234567890123456",
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": decoded,
                "protocol": "HTTP/1.1",
                "sourceIp": request.client_ip,
                "userAgent": find(headers.items(), "user-agent") or "",
            },
            "requestId": request.request_id,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "timeEpoch": str(int(now * 1000)),
        },
    }


def deliver(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8")  # FC 3.0 passes bytes


def build_context(request_id: str, overrides: dict[str, Any]) -> Any:
    """The FC context: an object with attributes (``request_id``, ``function.timeout``,
    ``credentials``...); a mapping given as an override becomes a nested attribute object."""
    context = SimpleNamespace(
        request_id=request_id,
        credentials=SimpleNamespace(access_key_id="", access_key_secret="", security_token=""),
        function=SimpleNamespace(name="demo", handler="index.handler", memory=512, timeout=60),
        service=SimpleNamespace(name="demo", log_project="", log_store=""),
        region="cn-hangzhou",
        account_id="1234567890123456",
    )
    for key, value in overrides.items():
        setattr(context, key, _namespace(value))
    return context


def _namespace(value: Any) -> Any:
    if isinstance(value, Mapping):
        return SimpleNamespace(**{str(k): _namespace(v) for k, v in value.items()})
    return value


def time_limit(context: Any) -> float:
    return float(context.function.timeout)


def with_time_limit(context: Any, seconds: float) -> Any:
    context.function.timeout = math.ceil(seconds)
    return context


def decode(returned: Any) -> Decoded:
    if is_integrated(returned):
        return decode_integrated(NAME, returned, header_lists=False, bytes_body=True)
    if isinstance(returned, (bytes, bytearray)):
        return Decoded(200, [("Content-Type", "application/octet-stream")], bytes(returned))
    if isinstance(returned, str):
        return plain_text(returned)
    return plain_json(NAME, returned)


def error_body(kind: str, status: int, reason: str) -> tuple[int, bytes]:
    return status, json_body({"ErrorCode": _ERROR_CODES[kind], "ErrorMessage": reason})

"""CloudBase's HTTP access service side of the ``cloudbase`` format: the event a request
becomes (``requestContext.envId``, ``x-cloudbase-request-id``), the context, and how the
service decodes the return (a string as text/plain, other values as JSON, or an integrated
response).
"""

from __future__ import annotations

from typing import Any

from .._gateway import (
    Decoded,
    Draft,
    decode_integrated,
    fold_lower,
    is_integrated,
    json_body,
    plain_json,
    plain_text,
    tencent_query,
)
from ..tencent_apigw.gateway import build_context, deliver, time_limit, with_time_limit

__all__ = ["build", "build_context", "decode", "deliver", "time_limit", "with_time_limit"]

NAME = "cloudbase"
DEFAULT_HOST = "env-1a2b3c.ap-shanghai.app.tcloudbase.com"
REQUEST_ID_HEADER = "X-Cloudbase-Request-Id"
SCHEME_HEADER = "x-forwarded-proto"
STAGE_HOST = None
ATTACHMENT_ON_DEFAULT_DOMAIN = False


def build(request: Draft) -> dict[str, Any]:
    text, is_base64 = request.body_fields
    headers = fold_lower(request.headers)
    headers.setdefault("host", request.host)
    if request.body:
        headers.setdefault("content-length", str(len(request.body)))
    headers.setdefault("x-forwarded-for", request.client_ip)
    headers.setdefault("x-forwarded-proto", "https")
    headers.setdefault("x-cloudbase-request-id", request.request_id)
    label = request.host.split(".", 1)[0]
    env_id = label if "tcloudbase.com" in request.host else "env-1a2b3c"
    event: dict[str, Any] = {
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "queryStringParameters": tencent_query(request.query),
        "requestContext": {
            "requestId": request.request_id,
            "envId": env_id,
            "appId": 1250000000,
            "uin": 100000000001,
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }
    if not request.query:  # the documented event has no query field then
        del event["queryStringParameters"]
    return event


def decode(returned: Any) -> Decoded:
    if is_integrated(returned):
        return decode_integrated(NAME, returned, header_lists=True)
    if isinstance(returned, str):
        return plain_text(returned)
    return plain_json(NAME, returned)


def error_body(kind: str, status: int, reason: str) -> tuple[int, bytes]:
    return status, json_body({"errno": status, "error": reason})

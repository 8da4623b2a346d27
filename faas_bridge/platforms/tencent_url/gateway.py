"""Tencent SCF function URLs' side of the ``tencent_url`` format: the event a request
becomes (``x-scf-remote-addr`` set by the platform), the SCF context, and how the platform
decodes the return (an integrated response, or any JSON value sent as 200 JSON).
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
    tencent_query,
)
from ..tencent_apigw.gateway import build_context, deliver, time_limit, with_time_limit

__all__ = ["build", "build_context", "decode", "deliver", "time_limit", "with_time_limit"]

NAME = "tencent_url"
DEFAULT_HOST = "1250000000-abcd1234.ap-guangzhou.tencentscf.com"
REQUEST_ID_HEADER = "X-Scf-Request-Id"
SCHEME_HEADER = "x-forwarded-proto"
STAGE_HOST = None
ATTACHMENT_ON_DEFAULT_DOMAIN = False


def build(request: Draft) -> dict[str, Any]:
    text, is_base64 = request.body_fields
    headers = fold_lower(request.headers)
    headers.setdefault("host", request.host)
    if request.body:
        headers.setdefault("content-length", str(len(request.body)))
    headers.setdefault("x-forwarded-proto", "https")
    headers["x-scf-remote-addr"] = request.client_ip  # set by the platform, never the client
    event: dict[str, Any] = {
        "headers": headers,
        "httpMethod": request.method,
        "path": request.path,
        "queryString": tencent_query(request.query),
    }
    if request.body:
        event["body"] = text
    if is_base64:  # undocumented for function URLs: the flag API Gateway uses
        event["isBase64Encoded"] = True
    return event


def decode(returned: Any) -> Decoded:
    if is_integrated(returned):
        return decode_integrated(NAME, returned, header_lists=True)
    return plain_json(NAME, returned)


def error_body(kind: str, status: int, reason: str) -> tuple[int, bytes]:
    return status, json_body({"errno": status, "error": reason})

"""Tencent API Gateway's side of the ``tencent_apigw`` format: the integration-request event
a request becomes, the SCF context, how the gateway decodes the integrated response, and its
own error replies (the documented ``403 Invalid scf response format``).
"""

from __future__ import annotations

from typing import Any

from ...errors import InvalidResponseError
from .._gateway import (
    Decoded,
    Draft,
    decode_integrated,
    describe,
    fold_lower,
    is_integrated,
    json_body,
    tencent_query,
)

NAME = "tencent_apigw"
DEFAULT_HOST = "service-abcd1234-1250000000.gz.apigw.tencentcs.com"
REQUEST_ID_HEADER = "X-Api-RequestId"
SCHEME_HEADER = "x-api-scheme"
# The Host the emulator gives requests under /<stage>/: a default domain, so the handler puts
# the stage in front of the app's URLs as it does in the cloud.
STAGE_HOST = "service-emulated-1250000000.gz.apigw.tencentcs.com"
ATTACHMENT_ON_DEFAULT_DOMAIN = False
INVALID_RESPONSE = (
    b'{"errno":403,"error":"Invalid scf response format. please check your scf response format."}'
)


def build(request: Draft) -> dict[str, Any]:
    text, is_base64 = request.body_fields
    headers = fold_lower(request.headers)
    headers.setdefault("host", request.host)
    if request.body:
        headers.setdefault("content-length", str(len(request.body)))
    headers.setdefault("requestsource", "APIGW")
    headers.setdefault("x-api-scheme", "https")
    headers.setdefault("x-api-requestid", request.request_id)
    headers.setdefault("x-b3-traceid", request.request_id)
    headers.setdefault("x-qualifier", "$DEFAULT")
    label = request.host.split(".", 1)[0]
    service_id = label.rsplit("-", 1)[0] if label.startswith("service-") else "service-abcd1234"
    event: dict[str, Any] = {
        "headerParameters": {},
        "headers": headers,
        "httpMethod": request.method,
        "isBase64Encoded": is_base64,
        "path": request.path,
        "pathParameters": {},
        "queryString": tencent_query(request.query),
        "queryStringParameters": {},
        "requestContext": {
            "httpMethod": "ANY",
            "identity": {},
            "path": "/",
            "serviceId": service_id,
            "sourceIp": request.client_ip,
            "stage": request.stage,
        },
    }
    if request.body:  # real events carry no "body" on a bodyless request
        event["body"] = text
    return event


def deliver(event: dict[str, Any]) -> Any:
    return event  # the Python runtime passes the decoded dict


def build_context(request_id: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The SCF context: a dict (``request_id``, ``time_limit_in_ms``, ``function_name``...)."""
    context: dict[str, Any] = {
        "memory_limit_in_mb": 128,
        "time_limit_in_ms": 3000,
        "request_id": request_id,
        "function_name": "demo",
        "function_version": "$LATEST",
        "namespace": "default",
        "tencentcloud_region": "ap-guangzhou",
        "tencentcloud_appid": "1250000000",
        "tencentcloud_uin": "100000000001",
        "environ": "SCF_NAMESPACE=default",
    }
    context.update(overrides)
    return context


def time_limit(context: Any) -> float:
    return float(context["time_limit_in_ms"]) / 1000


def with_time_limit(context: Any, seconds: float) -> Any:
    context["time_limit_in_ms"] = round(seconds * 1000)
    return context


def decode(returned: Any) -> Decoded:
    if is_integrated(returned):
        return decode_integrated(NAME, returned, header_lists=True)
    raise InvalidResponseError(
        f"{NAME}: API Gateway answers 403 'Invalid scf response format' unless the "
        f"handler returns an object with 'statusCode' (got {describe(returned)})"
    )


def error_body(kind: str, status: int, reason: str) -> tuple[int, bytes]:
    if kind == "invalid_response":
        return 403, INVALID_RESPONSE
    return status, json_body({"errno": status, "error": reason})

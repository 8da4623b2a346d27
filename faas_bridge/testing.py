"""Offline testing helpers: events as each gateway builds them, and their responses decoded.

::

    from faas_bridge.testing import build_event, build_context, parse_response

    event = build_event("tencent_apigw", "POST", "/api/items", json={"name": "x"})
    response = parse_response("tencent_apigw", main_handler(event, build_context("tencent_apigw")))
    assert response.status_code == 201

Nothing here is imported by the event path; import it from tests only.
"""

from __future__ import annotations

import base64
import json as jsonlib
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from types import SimpleNamespace
from typing import Any, Union
from urllib.parse import quote

from .errors import BridgeError
from .platforms import PLATFORMS

__all__ = [
    "PLATFORM_NAMES",
    "Headers",
    "InvalidResponseError",
    "TestResponse",
    "build_context",
    "build_event",
    "parse_response",
]

PLATFORM_NAMES: tuple[str, ...] = ("tencent_apigw", "tencent_url", "cloudbase", "alibaba_fc")

QueryInput = Union[Mapping[str, Union[str, Iterable[str], None]], Iterable[tuple[str, str]]]
HeadersInput = Union[Mapping[str, str], Iterable[tuple[str, str]]]

_TEXT_PREFIXES = ("text/", "application/json", "application/xml", "application/x-www-form")


class InvalidResponseError(BridgeError, AssertionError):
    """A handler returned something the platform's gateway would reject."""


# --------------------------------------------------------------------------------------------
# Events


def build_event(
    platform: str,
    method: str = "GET",
    path: str = "/",
    *,
    query: QueryInput | None = None,
    headers: HeadersInput | None = None,
    body: bytes | str = b"",
    json: Any = None,
    client_ip: str = "203.0.113.10",
    host: str | None = None,
    stage: str = "release",
    request_id: str | None = None,
    **overrides: Any,
) -> Any:
    """An HTTP event exactly as ``platform``'s gateway would deliver it.

    ``path`` is the decoded path (``"/你好"``); ``query`` a mapping whose values may be lists,
    or a list of pairs (``None`` as a value means a key without ``=``); ``json`` sets a JSON
    body and Content-Type. Top-level ``overrides`` replace fields of the finished event.
    Alibaba FC events are returned as bytes of JSON, as the FC 3.0 runtime passes them.
    """
    if platform not in PLATFORMS:
        raise BridgeError(f"unknown platform {platform!r}; expected one of {PLATFORM_NAMES}")
    header_pairs = list(headers.items() if isinstance(headers, Mapping) else headers or [])
    if json is not None:
        body = jsonlib.dumps(json).encode("utf-8")
        if not any(name.lower() == "content-type" for name, _ in header_pairs):
            header_pairs.append(("Content-Type", "application/json"))
    body_bytes = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    query_pairs = _query_pairs(query)
    request_id = request_id or uuid.uuid4().hex
    method = method.upper()
    if platform == "alibaba_fc":
        event = _fc_event(
            method, path, query_pairs, header_pairs, body_bytes, client_ip, host, request_id
        )
    elif platform == "cloudbase":
        event = _cloudbase_event(
            method, path, query_pairs, header_pairs, body_bytes, client_ip, host, request_id
        )
    else:
        event = _tencent_event(
            platform,
            method,
            path,
            query_pairs,
            header_pairs,
            body_bytes,
            client_ip,
            host,
            stage,
            request_id,
        )
    event.update(overrides)
    if platform == "alibaba_fc":
        return jsonlib.dumps(event, ensure_ascii=False).encode("utf-8")
    return event


def _query_pairs(query: QueryInput | None) -> list[tuple[str, str | None]]:
    if not query:
        return []
    if isinstance(query, Mapping):
        pairs: list[tuple[str, str | None]] = []
        for key, value in query.items():
            if value is None or isinstance(value, str):
                pairs.append((key, value))
            else:
                pairs.extend((key, item) for item in value)
        return pairs
    return list(query)


def _fold_lower(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as Tencent delivers them: lower-case names, repeats comma-joined."""
    folded: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key in folded:
            folded[key] += ("; " if key == "cookie" else ",") + value
        else:
            folded[key] = value
    return folded


def _fold_keep_case(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as FC delivers them: original case, repeats comma-joined."""
    folded: dict[str, str] = {}
    spelling: dict[str, str] = {}
    for name, value in pairs:
        key = spelling.setdefault(name.lower(), name)
        folded[key] = f"{folded[key]},{value}" if key in folded else value
    return folded


def _tencent_query(pairs: list[tuple[str, str | None]]) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for key, value in pairs:
        item: Any = True if value is None else value
        if key in query:
            current = query[key]
            query[key] = [*current, item] if isinstance(current, list) else [current, item]
        else:
            query[key] = item
    return query


def _body_fields(body: bytes, headers: Mapping[str, str]) -> tuple[str, bool]:
    """``(body, isBase64Encoded)``: base64 when the bytes are not UTF-8 text."""
    if not body:
        return "", False
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    binary_type = bool(content_type) and not content_type.lower().startswith(_TEXT_PREFIXES)
    if not binary_type:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def _tencent_event(
    platform: str,
    method: str,
    path: str,
    query_pairs: list[tuple[str, str | None]],
    header_pairs: list[tuple[str, str]],
    body: bytes,
    client_ip: str,
    host: str | None,
    stage: str,
    request_id: str,
) -> dict[str, Any]:
    headers = _fold_lower(header_pairs)
    text, is_base64 = _body_fields(body, headers)
    if body:
        headers.setdefault("content-length", str(len(body)))
    if platform == "tencent_url":
        headers.setdefault("host", host or "1250000000-abcd1234.ap-guangzhou.tencentscf.com")
        headers.setdefault("x-forwarded-proto", "https")
        headers["x-scf-remote-addr"] = client_ip
        event: dict[str, Any] = {
            "headers": headers,
            "httpMethod": method,
            "path": path,
            "queryString": _tencent_query(query_pairs),
        }
        if body:
            event["body"] = text
        if is_base64:
            event["isBase64Encoded"] = True
        return event
    headers.setdefault("host", host or "service-abcd1234-1250000000.gz.apigw.tencentcs.com")
    headers.setdefault("requestsource", "APIGW")
    headers.setdefault("x-api-scheme", "https")
    headers.setdefault("x-api-requestid", request_id)
    headers.setdefault("x-b3-traceid", request_id)
    headers.setdefault("x-qualifier", "$DEFAULT")
    event = {
        "headerParameters": {},
        "headers": headers,
        "httpMethod": method,
        "isBase64Encoded": is_base64,
        "path": path,
        "pathParameters": {},
        "queryString": _tencent_query(query_pairs),
        "queryStringParameters": {},
        "requestContext": {
            "httpMethod": "ANY",
            "identity": {},
            "path": "/",
            "serviceId": "service-abcd1234",
            "sourceIp": client_ip,
            "stage": stage,
        },
    }
    if body:
        event["body"] = text
    return event


def _cloudbase_event(
    method: str,
    path: str,
    query_pairs: list[tuple[str, str | None]],
    header_pairs: list[tuple[str, str]],
    body: bytes,
    client_ip: str,
    host: str | None,
    request_id: str,
) -> dict[str, Any]:
    headers = _fold_lower(header_pairs)
    text, is_base64 = _body_fields(body, headers)
    headers.setdefault("host", host or "env-1a2b3c.ap-shanghai.app.tcloudbase.com")
    headers.setdefault("x-forwarded-for", client_ip)
    headers.setdefault("x-forwarded-proto", "https")
    headers.setdefault("x-cloudbase-request-id", request_id)
    return {
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "queryStringParameters": _tencent_query(query_pairs),
        "requestContext": {
            "requestId": request_id,
            "envId": "env-1a2b3c",
            "appId": 1250000000,
            "uin": 100000000001,
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }


def _fc_event(
    method: str,
    path: str,
    query_pairs: list[tuple[str, str | None]],
    header_pairs: list[tuple[str, str]],
    body: bytes,
    client_ip: str,
    host: str | None,
    request_id: str,
) -> dict[str, Any]:
    domain = host or "demo-trigger-abcdefghij.cn-hangzhou.fcapp.run"
    headers = _fold_keep_case(header_pairs)
    text, is_base64 = _body_fields(body, headers)
    if not any(name.lower() == "host" for name in headers):
        headers["Host"] = domain
    headers.setdefault("X-Forwarded-Proto", "https")
    user_agent = next((v for k, v in headers.items() if k.lower() == "user-agent"), "")
    if body:
        headers.setdefault("Content-Length", str(len(body)))
    query: dict[str, str] = {}
    for key, value in query_pairs:
        item = value or ""
        query[key] = f"{query[key]},{item}" if key in query else item
    now = time.time()
    return {
        "version": "v1",
        "rawPath": quote(path, safe="/:@!$&'()*+,;="),
        "headers": headers,
        "queryParameters": query,
        "body": text,
        "isBase64Encoded": is_base64,
        "requestContext": {
            "accountId": "1234567890123456",
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": client_ip,
                "userAgent": user_agent,
            },
            "requestId": request_id,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "timeEpoch": str(int(now * 1000)),
        },
    }


def build_context(platform: str, **overrides: Any) -> Any:
    """A function context like the platform's runtime passes: a dict on Tencent and
    CloudBase, an object with attributes on Alibaba FC."""
    request_id = overrides.pop("request_id", None) or str(uuid.uuid4())
    if platform == "alibaba_fc":
        context = SimpleNamespace(
            request_id=request_id,
            credentials=SimpleNamespace(access_key_id="", access_key_secret="", security_token=""),
            function=SimpleNamespace(name="demo", handler="index.handler", memory=512, timeout=60),
            service=SimpleNamespace(name="demo", log_project="", log_store=""),
            region="cn-hangzhou",
            account_id="1234567890123456",
        )
        for key, value in overrides.items():
            setattr(context, key, value)
        return context
    if platform not in PLATFORMS:
        raise BridgeError(f"unknown platform {platform!r}; expected one of {PLATFORM_NAMES}")
    context_dict: dict[str, Any] = {
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
    context_dict.update(overrides)
    return context_dict


# --------------------------------------------------------------------------------------------
# Responses


class Headers:
    """A case-insensitive header multi-dict that keeps every repeat (every Set-Cookie)."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._pairs = list(pairs)

    def get(self, name: str, default: str | None = None) -> str | None:
        lower = name.lower()
        for key, value in self._pairs:
            if key.lower() == lower:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        lower = name.lower()
        return [value for key, value in self._pairs if key.lower() == lower]

    getlist = get_all

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def __repr__(self) -> str:
        return f"Headers({self._pairs!r})"


class TestResponse:
    """A response as the client of the platform's gateway would receive it."""

    __test__ = False  # not a pytest test class

    def __init__(self, status_code: int, headers: Headers, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode(self.charset, "replace")

    @property
    def charset(self) -> str:
        content_type = self.headers.get("content-type") or ""
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"')
        return "utf-8"

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    @property
    def cookies(self) -> dict[str, str]:
        """``name -> value`` of every ``Set-Cookie`` in the response."""
        cookies: dict[str, str] = {}
        for header in self.headers.get_all("set-cookie"):
            name, _, value = header.split(";", 1)[0].partition("=")
            cookies[name.strip()] = value.strip()
        return cookies

    def __repr__(self) -> str:
        return f"<TestResponse {self.status_code} {len(self.content)} bytes>"


def parse_response(platform: str, returned: Any) -> TestResponse:
    """Decode what a handler returned the way ``platform``'s gateway does.

    Lists of header values become repeated headers, base64 bodies are decoded, a plain
    string or object gets the platform's default treatment (CloudBase; JSON on the function
    URL), and a return the gateway would reject raises :class:`InvalidResponseError`
    naming the field.
    """
    if platform not in PLATFORMS:
        raise BridgeError(f"unknown platform {platform!r}; expected one of {PLATFORM_NAMES}")
    if platform == "cloudbase" and isinstance(returned, str):
        return TestResponse(
            200, Headers([("Content-Type", "text/plain; charset=utf-8")]), returned.encode("utf-8")
        )
    if isinstance(returned, (bytes, bytearray)) and platform == "alibaba_fc":
        return TestResponse(
            200, Headers([("Content-Type", "application/octet-stream")]), bytes(returned)
        )
    if not isinstance(returned, Mapping) or "statusCode" not in returned:
        if platform in ("cloudbase", "tencent_url"):
            body = jsonlib.dumps(returned, ensure_ascii=False).encode("utf-8")
            return TestResponse(200, Headers([("Content-Type", "application/json")]), body)
        raise InvalidResponseError(
            f"{platform}: the return value must be an object with 'statusCode' "
            f"(got {type(returned).__name__})"
        )
    status = returned["statusCode"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise InvalidResponseError(
            f"{platform}: 'statusCode' must be an int 100-599, got {status!r}"
        )
    raw_headers = returned.get("headers") or {}
    if not isinstance(raw_headers, Mapping):
        raise InvalidResponseError(f"{platform}: 'headers' must be an object")
    pairs: list[tuple[str, str]] = []
    for name, value in raw_headers.items():
        if isinstance(value, str):
            pairs.append((name, value))
        elif (
            isinstance(value, list)
            and platform != "alibaba_fc"
            and all(isinstance(item, str) for item in value)
        ):
            pairs.extend((name, item) for item in value)
        else:
            raise InvalidResponseError(
                f"{platform}: header {name!r} must be a string"
                + ("" if platform == "alibaba_fc" else " or a list of strings")
                + f", got {value!r}"
            )
    raw_body = returned.get("body")
    if raw_body is None:
        raw_body = ""
    if not isinstance(raw_body, str):
        raise InvalidResponseError(
            f"{platform}: 'body' must be a string, got {type(raw_body).__name__}"
        )
    flag = returned.get("isBase64Encoded", False)
    if not isinstance(flag, bool):
        raise InvalidResponseError(f"{platform}: 'isBase64Encoded' must be a bool, got {flag!r}")
    content: bytes
    if flag:
        try:
            content = base64.b64decode(raw_body, validate=True)
        except ValueError:
            raise InvalidResponseError(f"{platform}: 'body' is not valid base64") from None
    else:
        content = raw_body.encode("utf-8")
    return TestResponse(status, Headers(pairs), content)

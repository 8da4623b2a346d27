"""Differential tests for ASGI apps: a request through faas_bridge as each platform's event
must look the same to the app, and its response the same to the client, as the same request
sent straight to the app with Starlette's TestClient. Mirrors ``test_differential.py``."""

from __future__ import annotations

import gzip
import json
from functools import cache
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings

from faas_bridge import Handler, make_handler
from faas_bridge.testing import (
    PLATFORM_NAMES,
    Headers,
    TestResponse,
    build_context,
    build_event,
    parse_response,
)

from . import probe, probe_asgi
from .conftest import ON_FC
from .test_differential import REQUESTS, comparable, request_parts

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")

FACTORIES: dict[str, Callable[[], Any]] = {
    "starlette": probe_asgi.make_starlette_app,
    "fastapi": probe_asgi.make_fastapi_app,
    "django": probe_asgi.make_django_asgi_app,
}


@cache
def app_and_handler(framework: str) -> tuple[Any, Handler, Any]:
    """One app, its handler and a TestClient per framework (the loop and lifespan persist)."""
    from starlette.testclient import TestClient

    app = FACTORIES[framework]()
    handler = make_handler(app)
    assert handler.interface == "asgi"
    return app, handler, TestClient(app, follow_redirects=False)


def direct(
    framework: str,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes,
) -> tuple[dict[str, Any], TestResponse]:
    client = app_and_handler(framework)[2]
    client.cookies.clear()  # TestClient keeps a cookie jar; every request here stands alone
    response = client.request(method, path, params=query, headers=headers, content=body)
    # httpx has already undone Content-Encoding; the headers still say it was there.
    result = TestResponse(response.status_code, Headers(response.headers.multi_items()), b"")
    result.content = response.content
    return seen_by_app(result), result


def via_platform(
    framework: str,
    platform: str,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes,
) -> tuple[dict[str, Any], TestResponse]:
    handler = app_and_handler(framework)[1]
    event = build_event(
        platform, method, path, query=query, headers=headers, body=body, host="api.example.cn"
    )
    result = parse_response(platform, handler(event, build_context(platform)))
    if result.headers.get("content-encoding") == "gzip":
        result.content = gzip.decompress(result.content)
    return seen_by_app(result), result


def seen_by_app(response: TestResponse) -> dict[str, Any]:
    if response.headers.get("content-type") != "application/json" or not response.content:
        return {}
    report: dict[str, Any] = json.loads(response.content)
    return report


@pytest.mark.parametrize("framework", sorted(FACTORIES))
@pytest.mark.parametrize("platform", PLATFORM_NAMES)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**REQUESTS)
def test_same_request_same_response(
    framework: str,
    platform: str,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    cookies: dict[str, str],
    extra: dict[str, str],
    body: bytes,
    respond: str,
) -> None:
    query, headers, body = request_parts(platform, method, query, cookies, extra, body, respond)

    expected_seen, expected = direct(framework, method, path, query, headers, body)
    seen, got = via_platform(framework, platform, method, path, query, headers, body)

    assert seen == expected_seen
    assert comparable(got) == comparable(expected)


@pytest.mark.parametrize("framework", sorted(FACTORIES))
@pytest.mark.parametrize("platform", PLATFORM_NAMES)
@pytest.mark.parametrize("respond", probe.RESPONSES)
def test_each_response_kind(framework: str, platform: str, respond: str) -> None:
    """Every response shape on every platform, deterministically (hypothesis may skip some)."""
    query = [("q", "云 函数"), ("tag", "a"), ("respond", respond)]
    if platform not in ON_FC:
        query.insert(1, ("tag", "b"))
    headers = [("Cookie", "a=1; b=2"), ("Content-Type", "application/octet-stream")]
    body = bytes(range(256))
    expected_seen, expected = direct(framework, "POST", "/商品/a b", query, headers, body)
    seen, got = via_platform(framework, platform, "POST", "/商品/a b", query, headers, body)
    assert seen == expected_seen
    assert comparable(got) == comparable(expected)
    if respond == "json":
        assert got.status_code == 200
        assert seen["path"] == "/商品/a b"
        assert seen["cookies"] == {"a": "1", "b": "2"}
        assert seen["body_length"] == 256
    if respond == "cookies":
        assert len(got.headers.get_all("set-cookie")) == 3
    if respond == "binary-echo":
        assert got.content == body
    if respond == "no-content":
        assert got.status_code == 204
        assert got.content == b""
    if respond == "redirect":
        assert got.status_code == 302
        assert got.headers["location"] == "/elsewhere?x=1"

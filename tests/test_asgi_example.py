"""The FastAPI example behind every platform, as a user would exercise it."""

from __future__ import annotations

import hashlib
import importlib
import logging
from typing import Any

import pytest

from examples import load_index
from faas_bridge.testing import (
    PLATFORM_NAMES,
    TestResponse,
    build_context,
    build_event,
    parse_response,
)

from .conftest import ON_FC


@pytest.fixture(scope="module")
def index() -> Any:
    return load_index("fastapi_app")


def send(index: Any, platform: str, method: str, path: str, **kwargs: Any) -> TestResponse:
    event = build_event(platform, method, path, **kwargs)
    return parse_response(platform, index.main_handler(event, build_context(platform)))


def test_index_exposes_the_three_entry_names(index: Any) -> None:
    assert index.main_handler is index.main is index.handler
    assert index.handler.interface == "asgi"


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_json_crud_on_the_store_created_in_lifespan(index: Any, platform: str) -> None:
    created = send(index, platform, "POST", "/api/items", json={"name": "龙井", "price": 42})
    assert created.status_code == 201
    item = created.json()
    assert item["name"] == "龙井"
    stage = "/release" if platform == "tencent_apigw" else ""
    location = created.headers["location"]
    assert location == f"{stage}/api/items/{item['id']}"
    path = location[len(stage) :]
    # the store outlives the invocation: lifespan ran once, not per call
    assert send(index, platform, "GET", path).json() == item
    assert item in send(index, platform, "GET", "/api/items").json()
    replaced = send(
        index, platform, "PUT", path, json={"name": "碧螺春", "price": 50, "tags": ["x"]}
    )
    assert replaced.json() == {"id": item["id"], "name": "碧螺春", "price": 50.0, "tags": ["x"]}
    assert send(index, platform, "DELETE", path).status_code == 204
    assert send(index, platform, "GET", path).status_code == 404


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_validation_errors_are_422_json(index: Any, platform: str) -> None:
    response = send(index, platform, "POST", "/api/items", json={"name": "", "price": -1})
    assert response.status_code == 422
    assert {error["loc"][-1] for error in response.json()["detail"]} == {"name", "price"}


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_dependency_reads_the_platform_event_and_context(index: Any, platform: str) -> None:
    event = build_event(platform, "GET", "/api/whoami", request_id="req-42")
    context = build_context(platform, request_id="req-42")
    info = parse_response(platform, index.handler(event, context)).json()
    assert info["platform"] == platform
    assert info["function_name"] == "demo"
    assert info["time_limit_s"] == (60 if platform in ON_FC else 3.0)
    assert info["request_id"] == "req-42"
    assert info["client"] == "203.0.113.10"


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_file_upload_and_binary_download(index: Any, platform: str) -> None:
    payload = bytes(range(256)) * 4
    boundary = "faasbridgeboundary"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="数据.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    uploaded = send(index, platform, "POST", "/upload", body=body, headers=headers).json()
    assert uploaded == {
        "filename": "数据.bin",
        "content_type": "application/octet-stream",
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }

    download = send(index, platform, "GET", "/download/pixel.png")
    assert download.headers["content-type"] == "image/png"
    assert download.content.startswith(b"\x89PNG\r\n\x1a\n")
    example = importlib.import_module("main")  # on sys.path through load_index
    assert download.content == example.tiny_png()


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_cookies_round_trip(index: Any, platform: str) -> None:
    login = send(index, platform, "POST", "/login", query={"user": "lin"})
    assert login.cookies == {"session": "s-lin", "theme": "dark"}
    cookie = "; ".join(f"{k}={v}" for k, v in login.cookies.items())
    me = send(index, platform, "GET", "/me", headers={"Cookie": cookie})
    assert me.json() == {"user": "lin", "theme": "dark"}


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_sse_stream_arrives_whole_in_event_mode(index: Any, platform: str) -> None:
    response = send(index, platform, "GET", "/events", query={"count": "4"})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.count("event: tick\n") == 4
    assert response.text.endswith("data: 3\n\n")


def test_never_ending_sse_is_cut_at_the_deadline(index: Any) -> None:
    event = build_event("cloudbase", "GET", "/events", query={"count": "0"})
    context = build_context("cloudbase", time_limit_in_ms=300)
    response = parse_response("cloudbase", index.main(event, context))
    assert response.status_code == 200
    assert response.text.startswith("id: 0\nevent: tick\ndata: 0\n\n")


def test_openapi_docs_work_under_the_tencent_stage(index: Any) -> None:
    docs = send(index, "tencent_apigw", "GET", "/docs")
    assert docs.status_code == 200
    assert "'/release/openapi.json'" in docs.text or '"/release/openapi.json"' in docs.text
    schema = send(index, "tencent_apigw", "GET", "/openapi.json").json()
    assert schema["servers"] == [{"url": "/release"}]
    assert "/api/items/{item_id}" in schema["paths"]
    home = send(index, "tencent_apigw", "GET", "/")
    assert "href='/release/api/items'" in home.text
    assert "href='/release/docs'" in home.text


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_redirect_and_error(index: Any, platform: str, caplog: pytest.LogCaptureFixture) -> None:
    stage = "/release" if platform == "tencent_apigw" else ""
    redirect = send(index, platform, "GET", "/go")
    assert (redirect.status_code, redirect.headers["location"]) == (302, f"{stage}/api/items")
    with caplog.at_level(logging.CRITICAL, logger="faas_bridge"):
        error = send(index, platform, "GET", "/boom")
    assert error.status_code == 500
    assert "Traceback" not in error.text


def test_fc2_wsgi_entry(index: Any) -> None:
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path="/api/items/1", method="GET").get_environ()
    started: list[str] = []
    body = b"".join(index.handler(environ, lambda status, headers: started.append(status)))
    assert started == ["200 OK"]
    assert b'"name":"tea"' in body

"""The Flask example behind every platform, as a user would exercise it."""

from __future__ import annotations

import hashlib
import uuid
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
    return load_index("flask_app")


def send(index: Any, platform: str, method: str, path: str, **kwargs: Any) -> TestResponse:
    event = build_event(platform, method, path, **kwargs)
    return parse_response(platform, index.main_handler(event, build_context(platform)))


def test_index_exposes_the_three_entry_names(index: Any) -> None:
    assert index.main_handler is index.main is index.handler


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_json_crud(index: Any, platform: str) -> None:
    created = send(index, platform, "POST", "/api/items", json={"name": "龙井", "price": 42})
    assert created.status_code == 201
    item = created.json()
    assert item["name"] == "龙井"
    location = created.headers["location"]
    stage = "/release" if platform == "tencent_apigw" else ""
    assert location == f"{stage}/api/items/{item['id']}"
    fetched = send(index, platform, "GET", location[len(stage) :])
    assert fetched.json() == item
    assert send(index, platform, "DELETE", location[len(stage) :]).status_code == 204
    assert send(index, platform, "GET", location[len(stage) :]).status_code == 404


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_login_sets_every_cookie_and_redirects_with_url_for(index: Any, platform: str) -> None:
    response = send(index, platform, "GET", "/login", query={"user": "韩梅梅"})
    assert response.status_code == 302
    stage = "/release" if platform == "tencent_apigw" else ""
    assert response.headers["location"] == f"{stage}/whoami"
    assert set(response.cookies) == {"theme", "lang", "session"}
    cookie_header = "; ".join(f"{k}={v}" for k, v in response.cookies.items())
    me = send(index, platform, "GET", "/whoami", headers={"Cookie": cookie_header})
    assert me.json() == {"user": "韩梅梅", "theme": "dark"}


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_multipart_upload_and_binary_download(index: Any, platform: str) -> None:
    payload = bytes(range(256)) * 8
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="数据.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    uploaded = send(
        index,
        platform,
        "POST",
        "/upload",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert uploaded.json() == {
        "filename": "数据.bin",
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }
    image = send(index, platform, "GET", "/download/pixel.png")
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    import app as flask_example  # type: ignore[import-not-found]  # on sys.path via load_index

    assert image.content == flask_example.tiny_png()


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_chinese_route_gzip_and_app_error(index: Any, platform: str) -> None:
    hello = send(index, platform, "GET", "/你好")
    assert hello.json() == {"message": "你好，世界", "path": "/你好"}
    compressed = send(index, platform, "GET", "/compressed")
    import gzip
    import json

    assert json.loads(gzip.decompress(compressed.content))["compressed"] is True
    boom = send(index, platform, "GET", "/boom")
    assert boom.status_code == 500
    assert "must not reach the client" not in boom.text


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_echo_sees_the_request_intact(index: Any, platform: str) -> None:
    seen = send(
        index,
        platform,
        "PUT",
        "/api/echo",
        query=[("tag", "a"), ("tag", "b"), ("q", "云 函数")]
        if platform not in ON_FC
        else {"q": "云 函数"},
        headers={"Cookie": "x=1; y=2", "Content-Type": "application/octet-stream"},
        body=b"\x00\xff" * 10,
        client_ip="198.51.100.77",
    ).json()
    assert seen["method"] == "PUT"
    assert seen["cookies"] == {"x": "1", "y": "2"}
    assert seen["remote_addr"] == "198.51.100.77"
    assert seen["platform"] == platform
    assert seen["body_sha256"] == hashlib.sha256(b"\x00\xff" * 10).hexdigest()
    if platform not in ON_FC:
        assert seen["args"] == {"tag": ["a", "b"], "q": ["云 函数"]}
    assert seen["url"].startswith("https://")

"""The web-mode middleware in process: platform headers to context, lifecycle calls, logs."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import logging
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from flask import Flask, jsonify, request
from werkzeug.test import Client

from faas_bridge import make_handler
from faas_bridge.errors import ConfigurationError
from faas_bridge.serve import app_for_serving, resolve_port
from faas_bridge.web import (
    AsgiContextMiddleware,
    WsgiContextMiddleware,
    decode_cloudbase_context,
    is_credential_header,
    log_safe,
    log_target,
    read_web_context,
    resolve_web_cloud,
)

REFERENCE = Path(
    os.environ.get(
        "FAAS_BRIDGE_REFERENCE_EVENTS",
        Path(__file__).resolve().parents[2] / "shared" / "reference-events",
    )
)

flask_app = Flask(__name__)
calls: list[str] = []


@flask_app.route("/seen", methods=["GET", "POST"])
def seen() -> Any:
    calls.append(request.path)
    keys = ("faas_bridge.platform", "faas_bridge.request_id", "faas_bridge.context")
    seen = {key: request.environ.get(key) for key in keys}
    return jsonify({**seen, "remote_addr": request.remote_addr, "url": request.url})


def encode_context(payload: dict[str, Any]) -> str:
    return base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()


# --- reading the headers ------------------------------------------------------------------


def test_a_local_run_trusts_no_header() -> None:
    info = read_web_context({"x-scf-request-id": "r-1", "x-fc-client-ip": "6.6.6.6"}, None)
    assert info.platform is None
    assert info.request_id == ""
    assert info.client is None


@pytest.mark.parametrize(
    ("environ", "cloud"),
    [
        ({"TENCENTCLOUD_RUNENV": "SCF", "SCF_FUNCTIONNAME": "f"}, "tencent"),
        (
            {"TENCENTCLOUD_RUNENV": "SCF", "TCB_CONTEXT_KEYS": "TCB_ENV", "TCB_ENV": "e"},
            "cloudbase",
        ),
        ({"TENCENTCLOUD_RUNENV": "SCF", "WX_CONTEXT_KEYS": ""}, "cloudbase"),
        ({"FC_FUNCTION_NAME": "f", "FC_REGION": "cn-hangzhou"}, "alibaba"),
        ({"FC_FUNCTION_NAME": "f"}, None),
        ({"TENCENTCLOUD_RUNENV": "local"}, None),
        ({}, None),
    ],
)
def test_the_cloud_is_detected_from_its_runtime_variables(
    environ: dict[str, str], cloud: str | None
) -> None:
    assert resolve_web_cloud(None, environ) == cloud


def test_the_given_platform_wins_over_the_environment() -> None:
    fc = {"FC_FUNCTION_NAME": "f", "FC_REGION": "cn-hangzhou"}
    assert resolve_web_cloud("tencent", fc) == "tencent"
    assert resolve_web_cloud("alibaba_fc", {}) == "alibaba"
    assert resolve_web_cloud("local", fc) is None
    with pytest.raises(ConfigurationError):
        resolve_web_cloud("aws", {})


def test_tencent_headers() -> None:
    info = read_web_context(
        {
            "x-scf-request-id": "r-1",
            "x-scf-namespace": "default",
            "x-scf-timeout": "3000",
            "x-scf-remote-addr": "203.0.113.5",
            "x-forwarded-for": "10.0.0.9",
        },
        "tencent",
    )
    assert info.platform == "tencent_web"
    assert info.request_id == "r-1"
    assert info.context == {
        "request_id": "r-1",
        "namespace": "default",
        "timeout": "3000",
        "remote_addr": "203.0.113.5",
    }
    assert info.client == "203.0.113.5"  # the platform's field wins over X-Forwarded-For


def test_fc_with_an_empty_client_ip_has_no_client_address() -> None:
    info = read_web_context(
        {
            "x-fc-request-id": "1-67a4",
            "x-fc-client-ip": "",
            "x-fc-control-path": "/http-invoke",
            "x-forwarded-for": "140.205.11.250, 100.117.33.237",  # the client could write it
            "x-forwarded-proto": "http, https",  # the last value is the nearest proxy's
        },
        "alibaba",
    )
    assert info.platform == "alibaba_fc_web"
    assert info.client is None
    assert info.scheme == "https"
    assert info.lifecycle is None


def test_a_client_address_that_is_no_ip_address_is_ignored() -> None:
    info = read_web_context({"x-fc-client-ip": "6.6.6.6\x1b[2J"}, "alibaba")
    assert info.client is None


@pytest.mark.parametrize(
    ("cloud", "header"),
    [
        ("tencent", "x-scf-request-id"),
        ("cloudbase", "x-cloudbase-context"),
        ("alibaba", "x-fc-client-ip"),
        ("alibaba", "x-fc-access-key-id"),
    ],
)
def test_a_trusted_header_joined_by_the_server_is_refused(cloud: str, header: str) -> None:
    assert read_web_context({header: "forged, real"}, cloud).refused


def test_recorded_fc_web_function_headers() -> None:
    path = REFERENCE / "alibaba-fc3-webfn-headers-higress-docs-1.json"
    if not path.exists():
        pytest.skip("reference events not available")
    headers = json.loads(path.read_text())["headers"]
    info = read_web_context({name.lower(): value for name, value in headers.items()}, "alibaba")
    assert info.platform == "alibaba_fc_web"
    assert info.request_id == "1-67a46b2e-15de0407-cbb76138ab7f"
    assert info.context is not None
    assert info.context["function_name"] == "key-rate-limit-plugin-fmic"
    assert info.lifecycle is None


def test_cloudbase_context_decodes_the_recorded_payload() -> None:
    path = REFERENCE / "cloudbase-xcloudbasecontext-decoded-userrepo-1.json"
    if not path.exists():
        pytest.skip("reference events not available")
    payload = json.loads(path.read_text())
    info = read_web_context({"x-cloudbase-context": encode_context(payload)}, "cloudbase")
    assert info.platform == "cloudbase_web"
    assert info.context == payload
    assert payload["wechatContext"]["openId"] == "ojZaL7XZRCZbGBG8cxBNOxFkBXvc"


@pytest.mark.parametrize(
    "encoded",
    [
        encode_context({"envId": "e"}),
        base64.urlsafe_b64encode(gzip.compress(b'{"envId": "e"}')).decode().rstrip("="),
        base64.b64encode(b'{"envId": "e"}').decode(),
        '{"envId": "e"}',
    ],
    ids=["gzip-base64", "urlsafe-unpadded", "plain-base64", "plain-json"],
)
def test_cloudbase_context_forms(encoded: str) -> None:
    assert decode_cloudbase_context(encoded) == {"envId": "e"}


@pytest.mark.parametrize(
    "garbage", ["not base64 at all!", base64.b64encode(b"\x1f\x8bxx").decode()]
)
def test_an_unreadable_cloudbase_context_is_none_not_an_error(
    garbage: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert decode_cloudbase_context(garbage) is None
    headers = {"x-cloudbase-context": garbage, "x-cloudbase-request-id": "t"}
    with caplog.at_level(logging.WARNING, logger="faas_bridge"):
        info = read_web_context(headers, "cloudbase")
    assert info.platform == "cloudbase_web"
    assert info.context is None
    assert "no context for request t" in caplog.text
    assert garbage not in caplog.text


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("X-Scf-Secret-Id", True),
        ("X-Scf-Secret-Key", True),
        ("X-Scf-Session-Token", True),
        ("x-fc-access-key-id", True),
        ("X-FC-ACCESS-KEY-SECRET", True),
        ("x-fc-security-token", True),
        ("X-Cloudbase-Context", True),
        ("X-Scf-Request-Id", False),
        ("x-fc-region", False),
    ],
)
def test_credential_headers(name: str, secret: bool) -> None:
    assert is_credential_header(name) is secret


# --- the WSGI middleware ------------------------------------------------------------------


def test_wsgi_middleware_maps_headers_and_logs_without_credentials(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client(WsgiContextMiddleware(flask_app.wsgi_app, platform="tencent"))
    with caplog.at_level(logging.INFO, logger="faas_bridge.access"):
        response = client.get(
            "/seen?x=1",
            headers={
                "X-Scf-Request-Id": "wsgi-req",
                "X-Scf-Secret-Key": "top-secret-key",
                "X-Scf-Session-Token": "top-secret-token",
                "x-scf-remote-addr": "203.0.113.7",
                "X-Forwarded-Proto": "https",
            },
        )
        body = response.get_json()
        response.close()  # as a server does once the body is sent: the access line is written
    assert body["faas_bridge.platform"] == "tencent_web"
    assert body["faas_bridge.request_id"] == "wsgi-req"
    assert body["faas_bridge.context"]["secret_key"] == "top-secret-key"  # for the app's SDKs
    assert body["remote_addr"] == "203.0.113.7"
    assert body["url"].startswith("https://")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "faas_bridge.access"]
    assert '203.0.113.7 "GET /seen?x=1" 200' in line
    assert "request_id=wsgi-req" in line
    assert "top-secret" not in caplog.text


def test_wsgi_middleware_answers_fc_initialize_without_calling_the_app() -> None:
    calls.clear()
    client = Client(WsgiContextMiddleware(flask_app.wsgi_app, platform="alibaba"))
    response = client.post("/seen", headers={"x-fc-control-path": "/initialize"})
    assert response.status_code == 200
    assert response.data == b""
    assert calls == []
    assert client.post("/seen", headers={"x-fc-control-path": "/http-invoke"}).status_code == 200
    assert calls == ["/seen"]


def test_wsgi_middleware_on_a_local_run_removes_every_proxy_header() -> None:
    app = WsgiContextMiddleware(headers_app, platform="local")
    body = Client(app).get("/", headers={"X-Scf-Request-Id": "r", "x-fc-client-ip": "6.6.6.6"})
    assert body.get_json() == {"platform": "absent", "remote": None, "x-headers": []}


def test_wsgi_middleware_removes_other_clouds_headers_and_refuses_joined_ones() -> None:
    client = Client(WsgiContextMiddleware(headers_app, platform="alibaba"))
    seen = client.get(
        "/",
        headers={
            "x-fc-request-id": "fc-1",
            "x-fc-client-ip": "192.0.2.1",
            "X-Cloudbase-Context": encode_context({"userId": "admin"}),
            "X-Scf-Remote-Addr": "6.6.6.6",
        },
    ).get_json()
    assert seen == {
        "platform": "alibaba_fc_web",
        "remote": "192.0.2.1",
        "x-headers": ["HTTP_X_FC_CLIENT_IP", "HTTP_X_FC_REQUEST_ID"],
    }
    response = client.get("/", headers={"x-fc-request-id": "forged,fc-1"})
    assert response.status_code == 400
    assert b"platform header" in response.data


def headers_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    seen = {
        "platform": environ.get("faas_bridge.platform", "absent"),
        "remote": environ.get("REMOTE_ADDR"),
        "x-headers": sorted(key for key in environ if key.startswith("HTTP_X_")),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


@pytest.mark.parametrize(
    ("path", "query", "logged"),
    [
        ("/a\nb", "", "/a%0Ab"),
        ("/商品 1", "tag=a&x=%0a", "/%E5%95%86%E5%93%81%201?tag=a&x=%0a"),
        ("/\x1b[2J\r", "q=\n", "/%1B%5B2J%0D?q=%0A"),
    ],
)
def test_log_targets_hold_no_control_character(path: str, query: str, logged: str) -> None:
    assert log_target(path, query) == logged
    assert log_safe("id\r\nforged\x1b") == "id\\x0d\\x0aforged\\x1b"


# --- the ASGI middleware ------------------------------------------------------------------

fastapi_app = FastAPI()


@fastapi_app.get("/seen")
async def fastapi_seen(request: Request) -> dict[str, Any]:
    keys = ("faas_bridge.platform", "faas_bridge.request_id", "faas_bridge.context")
    client = request.client.host if request.client else None
    return {**{key: request.scope.get(key) for key in keys}, "client": client}


def test_asgi_middleware_maps_headers(caplog: pytest.LogCaptureFixture) -> None:
    async def exchange() -> tuple[httpx.Response, httpx.Response]:
        app = AsgiContextMiddleware(fastapi_app, platform="alibaba")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get(
                "/seen",
                headers={
                    "x-fc-request-id": "asgi-req",
                    "x-fc-access-key-secret": "fc-top-secret",
                    "x-fc-client-ip": "192.0.2.8",
                },
            )
            initialize = await client.post("/", headers={"x-fc-control-path": "/initialize"})
            return response, initialize

    with caplog.at_level(logging.INFO, logger="faas_bridge.access"):
        response, initialize = asyncio.run(exchange())
    body = response.json()
    assert body["faas_bridge.platform"] == "alibaba_fc_web"
    assert body["faas_bridge.request_id"] == "asgi-req"
    assert body["client"] == "192.0.2.8"
    assert initialize.status_code == 200
    assert "request_id=asgi-req" in caplog.text
    assert "fc-top-secret" not in caplog.text


# --- serve's pure parts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "environ", "expected"),
    [
        (8080, {"PORT": "7000"}, 8080),
        (None, {"PORT": "7000", "FC_SERVER_PORT": "7001"}, 7000),
        (None, {"FC_SERVER_PORT": "7001", "FC_CUSTOM_LISTEN_PORT": "7002"}, 7001),
        (None, {"FC_CUSTOM_LISTEN_PORT": "7002"}, 7002),
        (None, {"PORT": " "}, 9000),
        (None, {}, 9000),
    ],
)
def test_port_resolution(port: int | None, environ: dict[str, str], expected: int) -> None:
    assert resolve_port(port, environ) == expected


@pytest.mark.parametrize("environ", [{"PORT": "http"}, {"PORT": "70000"}])
def test_a_bad_port_is_a_configuration_error(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        resolve_port(None, environ)


def test_a_handler_serves_the_app_it_wraps() -> None:
    assert app_for_serving(make_handler(flask_app)) == (flask_app, "wsgi")
    assert app_for_serving(flask_app) == (flask_app, "wsgi")
    assert app_for_serving(fastapi_app) == (fastapi_app, "asgi")
    with pytest.raises(ConfigurationError):
        app_for_serving("index:app")

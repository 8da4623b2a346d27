"""Web mode trusts only the cloud it runs on: real `faas-bridge serve` processes on 127.0.0.1.

Each server runs with ``--platform`` tencent, cloudbase or alibaba, or none (a local run),
behind uvicorn (FastAPI) or uvicorn + a2wsgi (Flask). A client sends the headers another
cloud's proxy would set, a trusted header twice, a CloudBase context bomb, a path that would
write a line into the log and half-sent requests; the tests check what the app sees, what
the client gets and what the log holds. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import base64
import gzip
import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from flask import Flask, jsonify, request

from .processes import ServerProcess, free_port

KEYS = ("faas_bridge.platform", "faas_bridge.request_id", "faas_bridge.context")
PROXY_PREFIXES = ("x-scf-", "x-fc-", "x-cloudbase-", "x-wx-")

# --- the apps: what they see ----------------------------------------------------------------

flask_app = Flask(__name__)


@flask_app.route("/seen", methods=["GET", "POST"])
def flask_seen() -> Any:
    environ = request.environ
    proxy = {
        key[5:].lower().replace("_", "-"): value
        for key, value in environ.items()
        if key.startswith("HTTP_") and key[5:].lower().replace("_", "-").startswith(PROXY_PREFIXES)
    }
    return jsonify(
        {
            **{key: environ.get(key, "absent") for key in KEYS},
            "client": request.remote_addr,
            "scheme": request.scheme,
            "headers": proxy,
            "body": len(request.get_data()),
        }
    )


fastapi_app = FastAPI()


@fastapi_app.api_route("/seen", methods=["GET", "POST"])
async def fastapi_seen(request: Request) -> dict[str, Any]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        if name.replace("_", "-").startswith(PROXY_PREFIXES):
            headers[name] = f"{headers[name]},{value}" if name in headers else value
    return {
        **{key: request.scope.get(key, "absent") for key in KEYS},
        "client": request.client.host if request.client else None,
        "scheme": request.url.scheme,
        "headers": headers,
        "body": len(await request.body()),
    }


TARGETS = {"flask": "tests.test_web_trust:flask_app", "fastapi": "tests.test_web_trust:fastapi_app"}
PLATFORMS = {"tencent": "tencent_web", "cloudbase": "cloudbase_web", "alibaba": "alibaba_fc_web"}


def context_header(payload: Any) -> str:
    return base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()


FORGED_CONTEXT = context_header(
    {"envId": "prod", "userId": "admin", "wechatContext": {"openId": "o-forged", "appId": "wx1"}}
)
FORGED_FC = {
    "x-fc-request-id": "forged-fc-id",
    "x-fc-access-key-id": "forged-access-key",
    "x-fc-control-path": "/http-invoke",
    "x-fc-client-ip": "6.6.6.6",
}

# --- the servers ----------------------------------------------------------------------------


class Server(ServerProcess):
    def __init__(self, framework: str, platform: str, log_path: Path) -> None:
        port = free_port()
        args = ["serve", TARGETS[framework], "--port", str(port)]
        if platform != "local":
            args += ["--platform", platform, "--host", "127.0.0.1"]
        env = {"TENCENTCLOUD_RUNENV": "", "FC_FUNCTION_NAME": "", "FC_REGION": ""}
        super().__init__(args, log_path, port, env)
        self.framework = framework
        self.platform = platform


ALL = ("local", *PLATFORMS)


def on(*platforms: str) -> pytest.MarkDecorator:
    """Run the test against a server of each framework for each of ``platforms``."""
    cases = [pytest.param((f, p), id=f"{f}-{p}") for f in TARGETS for p in platforms]
    return pytest.mark.parametrize("server", cases, indirect=True)


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    framework, platform = request.param
    running = Server(framework, platform, tmp_path_factory.mktemp("trust") / "server.log")
    yield running
    running.kill()


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


def wait_for_log(server: Server, text: str) -> str:
    """The log once ``text`` is in it (access lines are written after the response)."""
    deadline = time.monotonic() + 10
    while text not in server.log() and time.monotonic() < deadline:
        time.sleep(0.02)
    return server.log()


# --- a local run trusts nothing -------------------------------------------------------------


@on("local")
def test_a_local_run_binds_loopback_and_trusts_no_header(server: Server) -> None:
    assert f"http://127.0.0.1:{server.port}" in server.log()  # no --host given
    with httpx.Client(base_url=server.url, timeout=10) as http:
        seen = http.get(
            "/seen",
            headers={
                "X-Scf-Request-Id": "forged-scf",
                "X-Scf-Secret-Key": "forged-key",
                "x-scf-remote-addr": "6.6.6.6",
                "X-Cloudbase-Context": FORGED_CONTEXT,
                "x-wx-openid": "o-forged",
                **FORGED_FC,
            },
        ).json()
    assert all(seen[key] == "absent" for key in KEYS)
    assert seen["client"] == "127.0.0.1"
    assert seen["headers"] == {}  # every cloud's proxy headers removed
    assert "forged-scf" not in wait_for_log(server, '"GET /seen"')


# --- each cloud: its own headers are believed, the others' removed --------------------------


@on(*PLATFORMS)
def test_the_clouds_own_headers_become_the_context(client: httpx.Client, server: Server) -> None:
    own = {
        "tencent": {"X-Scf-Request-Id": "real-1", "X-Scf-Region": "ap-guangzhou"},
        "cloudbase": {
            "x-cloudbase-request-id": "real-1",
            "X-Cloudbase-Context": context_header({"envId": "env-1", "userId": "u-1"}),
            "x-wx-openid": "o-real",
        },
        "alibaba": {"x-fc-request-id": "real-1", "x-fc-region": "cn-hangzhou"},
    }[server.platform]
    address = {"alibaba": "x-fc-client-ip"}.get(server.platform, "x-scf-remote-addr")
    seen = client.get(
        "/seen", headers={**own, address: "203.0.113.9", "X-Forwarded-Proto": "https"}
    ).json()
    assert seen["faas_bridge.platform"] == PLATFORMS[server.platform]
    assert seen["faas_bridge.request_id"] == "real-1"
    assert seen["client"] == "203.0.113.9"
    assert seen["scheme"] == "https"
    context = seen["faas_bridge.context"]
    if server.platform == "cloudbase":
        assert context == {"envId": "env-1", "userId": "u-1"}
        assert seen["headers"]["x-wx-openid"] == "o-real"
    else:
        assert context["region"] in ("ap-guangzhou", "cn-hangzhou")


@on("alibaba")
def test_fc_ignores_a_tencent_client_address(client: httpx.Client, server: Server) -> None:
    seen = client.get(
        "/seen", headers={"x-fc-request-id": "r", "X-Scf-Remote-Addr": "6.6.6.6"}
    ).json()
    assert seen["client"] == "127.0.0.1"
    assert "x-scf-remote-addr" not in seen["headers"]
    assert "6.6.6.6" not in wait_for_log(server, "request_id=r\n")


@on("tencent", "alibaba")
def test_a_forged_cloudbase_context_is_removed_off_cloudbase(
    client: httpx.Client, server: Server
) -> None:
    seen = client.get(
        "/seen",
        headers={
            "X-Cloudbase-Context": FORGED_CONTEXT,
            "x-cloudbase-request-id": "forged-tcb",
            "x-wx-openid": "o-forged",
        },
    ).json()
    assert seen["faas_bridge.platform"] == PLATFORMS[server.platform]
    assert seen["faas_bridge.context"] == {}  # the proxy sent nothing here
    assert seen["faas_bridge.request_id"] == ""
    assert seen["headers"] == {}  # an app or SDK reading the header itself is not fooled


@on("tencent", "cloudbase")
def test_tencent_ignores_forged_fc_headers(client: httpx.Client, server: Server) -> None:
    seen = client.get("/seen", headers={"X-Scf-Request-Id": "scf-real", **FORGED_FC}).json()
    assert seen["faas_bridge.platform"] == PLATFORMS[server.platform]
    assert seen["faas_bridge.request_id"] == "scf-real"
    assert "access_key_id" not in json.dumps(seen["faas_bridge.context"])
    assert seen["client"] == "127.0.0.1"
    assert seen["headers"] == {"x-scf-request-id": "scf-real"}
    log = wait_for_log(server, "request_id=scf-real")
    assert "forged-fc-id" not in log
    assert "6.6.6.6" not in log


@on("tencent")
def test_an_underscore_spelling_cannot_pose_as_a_proxy_header(
    client: httpx.Client, server: Server
) -> None:
    seen = client.get(
        "/seen", headers={"X_Scf_Request_Id": "forged", "X-Scf-Request-Id": "real-u"}
    ).json()
    assert seen["faas_bridge.request_id"] == "real-u"
    if server.framework == "flask":  # WSGI would share the environ key: the name is dropped
        assert seen["headers"] == {"x-scf-request-id": "real-u"}


# --- a trusted header sent twice ------------------------------------------------------------

TWICE = {
    "tencent": "x-scf-request-id",
    "cloudbase": "x-cloudbase-context",
    "alibaba": "x-fc-client-ip",
}


@on(*PLATFORMS)
def test_a_trusted_header_sent_twice_is_refused(client: httpx.Client, server: Server) -> None:
    name = TWICE[server.platform]
    value = FORGED_CONTEXT if name == "x-cloudbase-context" else "6.6.6.6"
    # the client's copy first, as a proxy that appends would pass it on
    response = client.get("/seen?twice=1", headers=[(name, value), (name, value.lower())])
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    log = wait_for_log(server, '"GET /seen?twice=1" 400')
    assert '"GET /seen?twice=1" 400' in log
    assert value not in log


# --- the CloudBase context bomb --------------------------------------------------------------

BOMBS = {
    # ~500 bytes of header: 100,000 nested arrays (RecursionError in json.loads)
    "deep": base64.b64encode(gzip.compress(b"[" * 100_000 + b"]" * 100_000)).decode(),
    "huge": context_header({"a": "x" * 8_000_000}),  # ~11 KB of header, 8 MB of JSON
    "garbage": "not base64 at all!",
}


@pytest.mark.parametrize("bomb", sorted(BOMBS))
@on("cloudbase", "tencent")
def test_a_context_bomb_is_no_context_and_no_500(
    client: httpx.Client, server: Server, bomb: str
) -> None:
    headers = {"x-cloudbase-request-id": f"bomb-{bomb}", "X-Cloudbase-Context": BOMBS[bomb]}
    response = client.get("/seen", headers=headers)
    assert response.status_code == 200
    seen = response.json()
    if server.platform == "cloudbase":
        assert seen["faas_bridge.context"] is None
        log = wait_for_log(server, f"request_id=bomb-{bomb}")
        assert f"no context for request bomb-{bomb}" in log
    else:
        assert seen["headers"] == {}
    assert BOMBS[bomb] not in server.log()


def test_the_bounds_are_checked_before_decoding_it_all() -> None:
    from faas_bridge.clouds.cloudbase import decode_context

    assert decode_context(BOMBS["huge"]) is None
    assert decode_context(BOMBS["deep"]) is None
    nested: Any = {"userId": "u"}
    for _ in range(15):
        nested = {"n": nested}
    assert decode_context(context_header(nested)) == nested  # 16 levels are fine


# --- logs that cannot be forged -------------------------------------------------------------


@on("local", "alibaba")
def test_a_control_character_in_the_path_cannot_write_a_log_line(
    client: httpx.Client, server: Server
) -> None:
    forged = "/x%0A2026-01-01 00:00:00 [1] [INFO] faas_bridge.access: FORGED%0D%1B[31m"
    client.get(forged + "?q=%0Aline", headers={"x-fc-request-id": "inject-1"})
    log = wait_for_log(server, "FORGED")
    assert not [line for line in log.splitlines() if "FORGED" in line and "GET" not in line]
    assert "\x1b" not in log
    assert "/x%0A2026-01-01%2000%3A00%3A00%20%5B1%5D" in log
    assert "?q=%0Aline" in log


# --- FC lifecycle calls: answered on FC only ------------------------------------------------


@on(*ALL)
def test_fc_lifecycle_calls_are_answered_on_fc_only(client: httpx.Client, server: Server) -> None:
    headers = {"x-fc-control-path": "/initialize", "x-fc-request-id": "init-1"}
    response = client.post("/seen", headers=headers)
    if server.platform == "alibaba":
        assert response.status_code == 200
        assert response.content == b""
    else:  # the header is not that cloud's proxy's: the app answers
        assert response.status_code == 200
        assert response.json()["headers"] == {}


# --- slow clients ---------------------------------------------------------------------------


def half_requests(port: int, count: int) -> list[socket.socket]:
    """``count`` connections, each sending part of a request and then nothing."""
    sockets = []
    for number in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if number % 2:
            sock.sendall(b"GET /seen HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Stalled: ")
        else:  # complete headers, half the body
            sock.sendall(
                b"POST /seen HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n"
                + b"x" * 500
            )
        sockets.append(sock)
    return sockets


@on("local")
def test_32_stalled_clients_do_not_hold_back_a_normal_request(server: Server) -> None:
    with ExitStack() as stack:
        for sock in half_requests(server.port, 32):
            stack.callback(sock.close)
        time.sleep(0.2)  # let the server take them all in
        # bounded: a server whose threads they hold would not answer within the timeout
        with httpx.Client(base_url=server.url, timeout=10) as http:
            for _ in range(3):
                assert http.post("/seen", content=b"y" * 100).json()["body"] == 100

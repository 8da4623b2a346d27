"""`faas-bridge serve` as the platforms run it: a real server in a subprocess, real HTTP.

Each server runs ``python -m faas_bridge serve TARGET --host 127.0.0.1 --port <free>``; the
Flask and FastAPI apps it serves are defined below. Streaming is checked without timing: the
app yields its first event, then waits for the test to call ``/release`` before producing the
rest, so the first event can only arrive if nothing buffers the stream.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from flask import Flask, Response, jsonify, request
from sse_starlette.sse import EventSourceResponse

from .processes import ServerProcess, free_port

CONTEXT_KEYS = (
    "faas_bridge.platform",
    "faas_bridge.request_id",
    "faas_bridge.context",
    "faas_bridge.event",
)
GATE_TIMEOUT = 30.0  # the apps never wait longer than this for /release

# --- the apps -----------------------------------------------------------------------------

flask_app = Flask(__name__)
_flask_gate = threading.Event()


@flask_app.get("/hello")
def flask_hello() -> Any:
    return jsonify(hello=request.args.get("name", "world"), server="flask")


@flask_app.get("/context")
def flask_context() -> Any:
    seen = {key: request.environ.get(key, "absent") for key in CONTEXT_KEYS}
    return jsonify({**seen, "remote_addr": request.remote_addr, "scheme": request.scheme})


@flask_app.get("/gated")
def flask_gated() -> Response:
    _flask_gate.clear()

    def stream() -> Iterator[str]:
        yield "data: first\n\n"
        released = _flask_gate.wait(GATE_TIMEOUT)
        yield f"data: {'released' if released else 'timed-out'}\n\n"
        yield "data: last\n\n"

    return Response(stream(), mimetype="text/event-stream")


@flask_app.post("/release")
def flask_release() -> Any:
    _flask_gate.set()
    return jsonify(released=True)


@flask_app.get("/boom")
def flask_boom() -> Any:
    raise RuntimeError("an app bug")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    print("lifespan: startup complete", flush=True)
    yield {"gate": asyncio.Event()}
    print("lifespan: shutdown complete", flush=True)


fastapi_app = FastAPI(lifespan=_lifespan)


@fastapi_app.get("/hello")
async def fastapi_hello(name: str = "world") -> dict[str, str]:
    return {"hello": name, "server": "fastapi"}


@fastapi_app.get("/context")
async def fastapi_context(request: Request) -> dict[str, Any]:
    seen = {key: request.scope.get(key, "absent") for key in CONTEXT_KEYS}
    client = request.client.host if request.client else None
    return {**seen, "remote_addr": client, "scheme": request.url.scheme}


async def _gated_events(request: Request) -> AsyncIterator[str]:
    gate: asyncio.Event = request.scope["state"]["gate"]
    gate.clear()
    yield "first"
    try:
        await asyncio.wait_for(gate.wait(), GATE_TIMEOUT)
        yield "released"
    except asyncio.TimeoutError:
        yield "timed-out"
    yield "last"


@fastapi_app.get("/gated")
async def fastapi_gated(request: Request) -> StreamingResponse:
    async def stream() -> AsyncIterator[str]:
        async for data in _gated_events(request):
            yield f"data: {data}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")


@fastapi_app.get("/gated-sse")
async def fastapi_gated_sse(request: Request) -> EventSourceResponse:
    return EventSourceResponse(_gated_events(request))


@fastapi_app.post("/release")
async def fastapi_release(request: Request) -> dict[str, bool]:
    request.scope["state"]["gate"].set()
    return {"released": True}


@fastapi_app.get("/boom")
async def fastapi_boom() -> None:
    raise RuntimeError("an app bug")


TARGETS = {"flask": "tests.test_serve:flask_app", "fastapi": "tests.test_serve:fastapi_app"}

# --- the server ---------------------------------------------------------------------------


class Server(ServerProcess):
    """One ``faas-bridge serve`` subprocess on 127.0.0.1, its output in a file."""

    def __init__(
        self,
        target: str,
        log_path: Path,
        *,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.target = target
        port = free_port()
        arguments = ["serve", target, "--host", "127.0.0.1", *(args or [])]
        if env is None:
            arguments += ["--port", str(port)]
        else:
            env = {**env, "PORT": str(port)}
        super().__init__(arguments, log_path, port, env)


@pytest.fixture(scope="module", params=["flask", "fastapi"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    running = Server(TARGETS[request.param], tmp_path_factory.mktemp("serve") / "server.log")
    yield running
    running.kill()


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


def read_events(response: httpx.Response) -> Iterator[str]:
    """The ``data:`` values of an SSE response, as they arrive."""
    for line in response.iter_lines():
        if line.startswith("data:"):
            yield line[5:].strip()


# --- plain requests -----------------------------------------------------------------------


def test_plain_requests_are_answered(client: httpx.Client) -> None:
    response = client.get("/hello", params={"name": "云函数"})
    assert response.status_code == 200
    assert response.json()["hello"] == "云函数"
    assert client.get("/no-such-route").status_code == 404


def test_an_app_error_is_a_500_and_the_server_keeps_serving(client: httpx.Client) -> None:
    assert client.get("/boom").status_code == 500
    assert client.get("/hello").status_code == 200


def test_a_local_request_carries_no_platform_keys(client: httpx.Client) -> None:
    seen = client.get("/context").json()
    assert all(seen[key] == "absent" for key in CONTEXT_KEYS)
    assert seen["remote_addr"] == "127.0.0.1"


# --- streaming ----------------------------------------------------------------------------


def assert_streams_unbuffered(client: httpx.Client, path: str) -> None:
    with client.stream("GET", path) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = read_events(response)
        # The app is now blocked until /release: nothing after "first" exists yet.
        assert next(events) == "first"
        assert client.post("/release").json() == {"released": True}
        assert list(events) == ["released", "last"]


def test_the_first_event_arrives_before_the_last_is_produced(client: httpx.Client) -> None:
    assert_streams_unbuffered(client, "/gated")


@pytest.mark.parametrize("server", ["fastapi"], indirect=True)
def test_sse_starlette_streams_event_by_event(client: httpx.Client) -> None:
    assert_streams_unbuffered(client, "/gated-sse")


# --- platform context: tests/test_web_trust.py, a server per cloud ----------------------------


# --- logs and shutdown (a fresh server each: it is stopped) -------------------------------

SECRETS = {
    "X-Scf-Secret-Id": "AKIDsecretid0001",
    "X-Scf-Secret-Key": "scfsecretkey0002",
    "X-Scf-Session-Token": "scfsessiontoken0003",
    "x-fc-access-key-id": "fcaccesskeyid0004",
    "x-fc-access-key-secret": "fcaccesskeysecret0005",
    "x-fc-security-token": "fcsecuritytoken0006",
}


@pytest.mark.parametrize("framework", ["flask", "fastapi"])
def test_logs_have_request_ids_and_no_credentials_and_sigterm_stops(
    framework: str, tmp_path: Path
) -> None:
    server = Server(TARGETS[framework], tmp_path / "server.log", args=["--platform", "tencent"])
    try:
        cloudbase_context = base64.b64encode(
            gzip.compress(json.dumps({"envId": "env-1", "secret": "tcbcontext0007"}).encode())
        ).decode()
        with httpx.Client(base_url=server.url, timeout=10) as http:
            for number, path in enumerate(["/hello", "/context", "/boom", "/missing"]):
                http.get(
                    path,
                    headers={
                        **SECRETS,
                        "X-Scf-Request-Id": f"req-{framework}-{number}",
                        "X-Cloudbase-Context": cloudbase_context,
                    },
                )
            http.post("/initialize", headers={**SECRETS, "x-fc-control-path": "/initialize"})
        code = server.terminate()
    finally:
        server.kill()
    log = server.log()
    # uvicorn re-raises the SIGTERM it handled once shut down
    assert code in (0, -signal.SIGTERM), log
    for number, path in enumerate(["/hello", "/context", "/boom", "/missing"]):
        assert f'"GET {path}"' in log
        assert f"request_id=req-{framework}-{number}" in log
    leaked = [value for value in SECRETS.values() if value in log]
    assert not leaked, log
    assert cloudbase_context not in log
    assert "tcbcontext0007" not in log
    if framework == "fastapi":
        assert "lifespan: shutdown complete" in log


@pytest.mark.parametrize("framework", ["flask", "fastapi"])
def test_sigterm_with_a_stream_open_stops_within_the_graceful_timeout(
    framework: str, tmp_path: Path
) -> None:
    server = Server(TARGETS[framework], tmp_path / "log", args=["--graceful-timeout", "1"])
    try:
        with (
            httpx.Client(base_url=server.url, timeout=10) as http,
            http.stream("GET", "/gated") as response,
        ):
            events = read_events(response)
            assert next(events) == "first"
            # never released: the platform's SIGTERM must not wait for the stream to end
            code = server.terminate(timeout=15)
            with pytest.raises(httpx.HTTPError):
                list(events)
    finally:
        server.kill()
    assert code in (0, -signal.SIGTERM)
    if framework == "fastapi":
        assert "lifespan: shutdown complete" in server.log()


@pytest.mark.parametrize("framework", ["flask", "fastapi"])
def test_several_workers_each_load_the_target(framework: str, tmp_path: Path) -> None:
    args = ["--workers", "2", "--platform", "alibaba"]
    server = Server(TARGETS[framework], tmp_path / "log", args=args)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            headers = {"x-fc-request-id": "w-1", "X-Scf-Request-Id": "forged"}
            seen = http.get("/context", headers=headers).json()
            initialize = http.post("/hello", headers={"x-fc-control-path": "/initialize"})
        assert seen["faas_bridge.platform"] == "alibaba_fc_web"
        assert seen["faas_bridge.request_id"] == "w-1"
        assert initialize.status_code == 200  # answered in each worker, not by the app
        assert server.terminate() in (0, -signal.SIGTERM)
    finally:
        server.kill()
    if framework == "fastapi":
        assert server.log().count("lifespan: startup complete") == 2


@pytest.mark.parametrize(
    ("args", "environ", "host"),
    [
        ([], {}, "127.0.0.1"),
        (["--platform", "cloudbase"], {}, "0.0.0.0"),
        ([], {"FC_FUNCTION_NAME": "f", "FC_REGION": "cn-hangzhou"}, "0.0.0.0"),
        (["--platform", "local"], {"TENCENTCLOUD_RUNENV": "SCF"}, "127.0.0.1"),
        (["--platform", "tencent", "--host", "::1"], {}, "::1"),
    ],
)
def test_the_address_is_loopback_unless_on_a_cloud(
    args: list[str], environ: dict[str, str], host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faas_bridge.serve
    from faas_bridge.cli import main

    for name in ("TENCENTCLOUD_RUNENV", "FC_FUNCTION_NAME", "FC_REGION", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    bound: list[str] = []
    monkeypatch.setattr(faas_bridge.serve, "_run_uvicorn", lambda app, host, *_: bound.append(host))
    assert main(["serve", TARGETS["flask"], *args]) == 0
    assert bound == [host]


# --- the examples: a make_handler handler as TARGET, the port from $PORT, SSE routes -----


@pytest.mark.parametrize("example", ["flask_app", "fastapi_app"])
def test_the_examples_serve_their_app_and_stream_sse(example: str, tmp_path: Path) -> None:
    """index.py's make_handler handler as TARGET serves its app; the port comes from $PORT."""
    server = Server(f"examples/{example}/index.py:main_handler", tmp_path / "log", env={})
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert http.get("/api/items").status_code == 200
            if example == "flask_app":
                page = http.get("/events/page")
                assert "new EventSource(" in page.text
                assert "/events" in page.text
            arrivals: list[float] = []
            started = time.monotonic()
            with http.stream("GET", "/events", params={"count": 3, "interval": 1}) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                for line in response.iter_lines():
                    if line.startswith("event: tick"):
                        arrivals.append(time.monotonic() - started)
        assert len(arrivals) == 3
        # the ticks are produced 1 s apart; a buffered stream would deliver them together
        assert arrivals[0] < 0.9
        assert arrivals[2] - arrivals[0] > 1.2
    finally:
        server.kill()

"""FC instance lifecycle: handler.initializer(context) and handler.pre_stop(context) start
and stop the app once per instance (ASGI lifespan, on_startup/on_shutdown hooks for WSGI apps
too); the generated index.py exports them, s.yaml wires them, and web mode maps FC's control
calls to them. Real Flask, FastAPI and Django apps."""

from __future__ import annotations

import asyncio
import threading
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from flask import Flask
from werkzeug.test import Client

from faas_bridge import lifecycle as lifecycle_module
from faas_bridge import make_handler
from faas_bridge.cli import main
from faas_bridge.package import _index_source
from faas_bridge.testing import build_context, build_event, parse_response
from faas_bridge.web import AsgiContextMiddleware, WsgiContextMiddleware

from . import probe


@pytest.fixture(autouse=True)
def no_registered_hooks() -> Iterator[None]:
    """Web mode runs the hooks of the last handler made with some: keep tests apart."""
    lifecycle_module._registered.clear()
    yield
    lifecycle_module._registered.clear()


def flask_app(log: list[str], gate: threading.Event | None = None) -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        log.append("request")
        if gate is not None:
            log.append("entered")
            gate.wait(10)
            log.append("finished")
        return "ok"

    return app


def call(handler: Any, path: str = "/") -> Any:
    event = build_event("alibaba_fc", "GET", path)
    return parse_response("alibaba_fc", handler(event, build_context("alibaba_fc")))


def test_wsgi_hooks_run_once_each_in_fcs_order() -> None:
    log: list[str] = []
    handler = make_handler(
        flask_app(log),
        on_startup=lambda: log.append("startup"),
        on_shutdown=[lambda: log.append("shutdown 1"), lambda: log.append("shutdown 2")],
    )
    context = build_context("alibaba_fc")
    handler.initializer(context)
    handler.initializer(context)  # FC retrying, or a second call: nothing more
    assert call(handler).status_code == 200
    handler.pre_stop(context)
    handler.pre_stop(context)
    assert log == ["startup", "request", "shutdown 1", "shutdown 2"]


def test_without_an_initializer_the_first_invocation_runs_on_startup() -> None:
    log: list[str] = []
    handler = make_handler(probe.make_django_wsgi_app(), on_startup=lambda: log.append("up"))
    for _ in range(3):
        assert call(handler, "/probe/x").status_code == 200
    assert log == ["up"]


def test_a_failing_startup_hook_fails_the_initializer() -> None:
    def broken() -> None:
        raise RuntimeError("no database")

    handler = make_handler(flask_app([]), on_startup=broken)
    with pytest.raises(RuntimeError, match="no database"):
        handler.initializer(None)


def test_a_retried_start_up_does_not_run_the_hooks_that_succeeded_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without an initializer, a failed start-up is retried by the next invocation: the
    hooks that already ran (a pool opened) are not run twice."""
    log: list[str] = []
    failures = [RuntimeError("database not ready")]

    def connect() -> None:
        if failures:
            raise failures.pop()
        log.append("connected")

    handler = make_handler(
        probe.make_django_wsgi_app(), on_startup=[lambda: log.append("pool"), connect]
    )
    assert call(handler, "/probe/x").status_code == 500  # the logged 500 of a failed start-up
    caplog.clear()
    threads = [threading.Thread(target=call, args=(handler, "/probe/x")) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert call(handler, "/probe/x").status_code == 200
    assert log == ["pool", "connected"]
    assert "already ran" not in caplog.text  # invocations waiting for start-up say nothing


def test_a_failing_shutdown_hook_does_not_stop_the_others() -> None:
    log: list[str] = []

    def broken() -> None:
        raise RuntimeError("already closed")

    handler = make_handler(
        flask_app(log), on_shutdown=[broken, lambda: log.append("closed the pool")]
    )
    handler.pre_stop(None)
    assert log == ["closed the pool"]


def test_asgi_lifespan_starts_in_the_initializer_and_stops_in_pre_stop() -> None:
    log: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        log.append("lifespan startup")
        yield {"pool": "open"}
        log.append("lifespan shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def index() -> dict[str, str]:
        log.append("request")
        return {"ok": "yes"}

    handler = make_handler(
        app, on_startup=lambda: log.append("hook startup"), on_shutdown=lambda: log.append("bye")
    )
    assert log == []  # nothing at import
    handler.initializer(build_context("alibaba_fc"))
    assert log == ["lifespan startup", "hook startup"]
    assert call(handler).json() == {"ok": "yes"}
    handler.pre_stop(build_context("alibaba_fc"))
    assert log == ["lifespan startup", "hook startup", "request", "bye", "lifespan shutdown"]


def test_pre_stop_waits_for_a_running_invocation() -> None:
    log: list[str] = []
    gate = threading.Event()
    handler = make_handler(flask_app(log, gate), on_shutdown=lambda: log.append("shutdown"))
    invocation = threading.Thread(target=call, args=(handler,))
    invocation.start()
    while "entered" not in log:  # the request is inside the app
        threading.Event().wait(0.005)
    stopper = threading.Thread(target=handler.pre_stop, args=(None,))
    stopper.start()
    gate.set()
    invocation.join(10)
    stopper.join(10)
    assert log == ["request", "entered", "finished", "shutdown"]


def test_pre_stop_keeps_its_own_waiting_within_startup_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A stuck invocation and a lifespan shutdown that never ends together cost pre_stop at
    most ``startup_timeout``, not one per wait (which overran FC's PreStop limit)."""
    log: list[str] = []
    never = asyncio.Event()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        log.append("lifespan shutdown")
        await never.wait()

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def stuck() -> str:
        log.append("entered")
        await never.wait()
        return "never"

    handler = make_handler(app, on_shutdown=lambda: log.append("bye"), startup_timeout=1.0)
    handler.initializer(None)
    context = build_context("alibaba_fc")
    context.function.timeout = 2  # the stuck invocation answers 504 after 1.6 s
    event = build_event("alibaba_fc", "GET", "/")
    invocation = threading.Thread(target=handler, args=(event, context))
    invocation.start()
    while "entered" not in log:
        threading.Event().wait(0.005)
    started = time.monotonic()
    handler.pre_stop(None)
    elapsed = time.monotonic() - started
    invocation.join(10)
    assert log == ["entered", "bye", "lifespan shutdown"]
    assert "invocations still running after 0.5 s" in caplog.text
    assert "no answer to lifespan.shutdown" in caplog.text
    assert elapsed < 1.8  # two full timeouts before: 2 s and more


def test_hooks_without_options_are_harmless() -> None:
    handler = make_handler(flask_app([]))
    handler.initializer(None)
    handler.pre_stop(None)
    assert call(handler).status_code == 200  # FC would not call after pre_stop; still safe


def test_the_generated_index_exports_the_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    module = types.ModuleType("shop_app")
    module.app = flask_app([])  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "shop_app", module)
    namespace: dict[str, Any] = {}
    exec(compile(_index_source("shop_app:app"), "index.py", "exec"), namespace)
    assert namespace["initializer"] == namespace["handler"].initializer
    assert namespace["pre_stop"] == namespace["handler"].pre_stop


# The fc3 component's schema for a lifecycle hook (devsapp/fc3 src/schema.json): handler a
# string, timeout a number >= 1, command a list of strings; FC caps Initializer at 300 s and
# PreStop at 90 s.
HOOK_KEYS = {"handler", "timeout", "command"}
LIMITS = {"initializer": 300, "preStop": 90}


def _package(project: Path, tmp_path: Path, *extra: str) -> dict[str, Any]:
    output = tmp_path / "dist" / "shop.zip"
    args = [str(project), "--platform", "alibaba", "-o", str(output), "--configs", *extra]
    assert main(["package", *args]) == 0
    config: dict[str, Any] = yaml.safe_load((output.with_suffix("") / "s.yaml").read_text())
    config["_zip"] = output
    return config


def _project(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "app.py").write_text(
        "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n"
    )
    (folder / "requirements.txt").write_text("")
    return folder


def test_package_configs_wires_the_hooks_in_s_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _package(_project(tmp_path / "shop"), tmp_path, "--entry", "app:app")
    capsys.readouterr()
    hooks = config["resources"]["shop"]["props"]["instanceLifecycleConfig"]
    assert set(hooks) == {"initializer", "preStop"}
    for name, hook in hooks.items():
        assert set(hook) <= HOOK_KEYS
        assert isinstance(hook["handler"], str)
        assert isinstance(hook["timeout"], int)
        assert 1 <= hook["timeout"] <= LIMITS[name]
    assert hooks["initializer"]["handler"] == "index.initializer"
    assert hooks["preStop"]["handler"] == "index.pre_stop"
    with zipfile.ZipFile(config["_zip"]) as archive:
        index = archive.read("index.py").decode()
    assert "initializer = main_handler.initializer" in index


def test_a_users_index_without_hooks_gets_no_hook_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path / "shop")
    (project / "index.py").write_text("from app import app\nhandler = app\n")
    config = _package(project, tmp_path)
    capsys.readouterr()
    assert "instanceLifecycleConfig" not in config["resources"]["shop"]["props"]


def test_web_mode_runs_the_hooks_on_fcs_control_calls() -> None:
    log: list[str] = []
    app = flask_app(log)
    make_handler(app, on_startup=lambda: log.append("up"), on_shutdown=lambda: log.append("down"))
    client = Client(WsgiContextMiddleware(app.wsgi_app, platform="alibaba"))
    assert client.post("/", headers={"x-fc-control-path": "/initialize"}).status_code == 200
    assert client.get("/", headers={"x-fc-control-path": "/pre-freeze"}).status_code == 200
    assert client.get("/", headers={"x-fc-control-path": "/pre-stop"}).status_code == 200
    assert log == ["up", "down"]  # the app itself was not called


def test_web_mode_reports_a_failing_initializer_as_a_500() -> None:
    def broken() -> None:
        raise RuntimeError("no database")

    app = FastAPI()
    make_handler(app, on_startup=broken)

    async def initialize() -> httpx.Response:
        transport = httpx.ASGITransport(app=AsgiContextMiddleware(app, platform="alibaba"))
        async with httpx.AsyncClient(transport=transport, base_url="http://fc") as client:
            return await client.post("/", headers={"x-fc-control-path": "/initialize"})

    assert asyncio.run(initialize()).status_code == 500


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
def test_web_mode_pre_stop_waits_for_the_requests_the_server_is_answering(
    interface: str, caplog: pytest.LogCaptureFixture
) -> None:
    """In web mode requests reach the app through the server, not the handler: FC's
    /pre-stop waits for them too (here up to a tiny startup_timeout, so it gives up and
    says so while one is held in the app)."""
    log: list[str] = []
    gate = threading.Event()
    flask = flask_app(log, gate)
    make_handler(flask, on_shutdown=lambda: log.append("down"), startup_timeout=0.05)
    if interface == "wsgi":
        client = Client(WsgiContextMiddleware(flask.wsgi_app, platform="alibaba"))

        def get(path: str, headers: dict[str, str]) -> int:
            return client.get(path, headers=headers).status_code
    else:
        from a2wsgi import WSGIMiddleware

        wsgi_app: Any = flask.wsgi_app  # a2wsgi's environ type is narrower than Flask's
        bridged: Any = WSGIMiddleware(wsgi_app)
        asgi = AsgiContextMiddleware(bridged, platform="alibaba")

        def get(path: str, headers: dict[str, str]) -> int:
            async def send() -> int:
                transport = httpx.ASGITransport(app=asgi)
                async with httpx.AsyncClient(transport=transport, base_url="http://fc") as c:
                    return (await c.get(path, headers=headers)).status_code

            return asyncio.run(send())

    invoke = {"x-fc-control-path": "/http-invoke", "x-fc-request-id": "r-1"}
    request = threading.Thread(target=get, args=("/", invoke))
    request.start()
    while "entered" not in log:  # the request is inside the app
        threading.Event().wait(0.005)
    stop = {"x-fc-control-path": "/pre-stop", "x-fc-request-id": "r-2"}
    assert get("/", stop) == 200
    gate.set()
    request.join(10)
    assert "invocations still running" in caplog.text
    assert log == ["request", "entered", "down", "finished"]

"""The ASGI runner: detection, the scope, the response messages, the deadline, the shared
loop and the FC 2.0 entry."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace
from typing import Any, Callable

import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route

from faas_bridge import make_handler
from faas_bridge.loop import shared_loop
from faas_bridge.platforms import PLATFORMS
from faas_bridge.testing import TestResponse, build_context, build_event, parse_response

Scope = dict[str, Any]
Message = dict[str, Any]


class ScopeSpy:
    """A raw ASGI 3 app recording its scope and the thread and loop it ran on."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []
        self.threads: list[int] = []
        self.loops: list[asyncio.AbstractEventLoop] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan here")
        self.scopes.append(scope)
        self.threads.append(threading.get_ident())
        self.loops.append(asyncio.get_running_loop())
        message = await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": message["body"]})


def call(handler: Callable[..., Any], platform: str, *args: Any, **kwargs: Any) -> TestResponse:
    event = build_event(platform, *args, **kwargs)
    return parse_response(platform, handler(event, build_context(platform)))


# --------------------------------------------------------------------------------------------
# Detection


async def asgi3_function(scope: Scope, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"asgi3"})


class Asgi2App:
    """An ASGI 2 double callable: instantiated with the scope, awaited with (receive, send)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"asgi2 " + self.scope["path"].encode()})


def asgi2_function(scope: Scope) -> Callable[[Any, Any], Any]:
    async def instance(receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"asgi2 function"})

    return instance


def test_detects_asgi3_functions_and_objects() -> None:
    assert make_handler(asgi3_function, lifespan="off").interface == "asgi"
    assert make_handler(ScopeSpy()).interface == "asgi"
    app = Starlette()
    assert make_handler(app).interface == "asgi"
    response = call(make_handler(asgi3_function), "tencent_url", "GET", "/")
    assert response.content == b"asgi3"


def test_asgi2_classes_are_detected_and_wrapped() -> None:
    handler = make_handler(Asgi2App)
    assert handler.interface == "asgi"
    assert call(handler, "cloudbase", "GET", "/two").content == b"asgi2 /two"


def test_interface_option_overrides_detection() -> None:
    handler = make_handler(asgi2_function, interface="asgi")
    assert call(handler, "tencent_url", "GET", "/").content == b"asgi2 function"

    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", [])
        return [b"wsgi"]

    assert make_handler(wsgi_app, interface="wsgi").interface == "wsgi"


@pytest.mark.parametrize(
    ("option", "value"),
    [("lifespan", "sometimes"), ("startup_timeout", 0), ("deadline", -1.0)],
)
def test_invalid_asgi_options_are_rejected(option: str, value: Any) -> None:
    from faas_bridge import ConfigurationError

    with pytest.raises(ConfigurationError, match=option):
        make_handler(asgi3_function, **{option: value})


def test_wrapping_a_wsgi_app_does_not_import_asyncio_but_asgi_does() -> None:
    code = (
        "import sys\n"
        "import faas_bridge\n"
        "faas_bridge.make_handler(lambda environ, start_response: [])\n"
        "print('asyncio' in sys.modules, end=' ')\n"
        "async def app(scope, receive, send): pass\n"
        "faas_bridge.make_handler(app)\n"
        "print('asyncio' in sys.modules)\n"
    )
    output = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.split() == ["False", "True"]


# --------------------------------------------------------------------------------------------
# The scope


def test_scope_follows_the_asgi_http_spec_under_the_tencent_stage() -> None:
    spy = ScopeSpy()
    handler = make_handler(spy, lifespan="off")
    event = build_event(
        "tencent_apigw",
        "POST",
        "/商品/a b",
        query=[("tag", "a"), ("tag", "b"), ("q", "云")],
        headers=[("X-Trace", "t1"), ("Cookie", "a=1"), ("Content-Type", "application/x-bin")],
        body=b"\x00\xffbody",
        request_id="req-123",
    )
    event["headers"]["x-multi"] = ["one", "two"]
    context = build_context("tencent_apigw")
    response = parse_response("tencent_apigw", handler(event, context))
    assert response.content == b"\x00\xffbody"

    scope = spy.scopes[-1]
    assert scope["type"] == "http"
    assert scope["asgi"]["version"] == "3.0"
    assert scope["asgi"]["spec_version"]
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "POST"
    assert scope["scheme"] == "https"
    assert scope["root_path"] == "/release"
    assert scope["path"] == "/release/商品/a b"  # path includes root_path, as uvicorn does
    assert scope["raw_path"] == b"/release/%E5%95%86%E5%93%81/a%20b"
    assert scope["query_string"] == b"tag=a&tag=b&q=%E4%BA%91"
    headers = scope["headers"]
    assert all(isinstance(n, bytes) and n == n.lower() and isinstance(v, bytes) for n, v in headers)
    assert (b"x-trace", b"t1") in headers
    assert [v for n, v in headers if n == b"x-multi"] == [b"one", b"two"]
    assert scope["client"] == ("203.0.113.10", 0)
    assert scope["server"] == ("service-abcd1234-1250000000.gz.apigw.tencentcs.com", 443)
    assert scope["state"] == {}
    assert scope["faas_bridge.event"] is event
    assert scope["faas_bridge.context"] is context
    assert scope["faas_bridge.platform"] == "tencent_apigw"
    assert scope["faas_bridge.request_id"] == "req-123"


@pytest.mark.parametrize("platform", ["tencent_url", "cloudbase", "alibaba_fc"])
def test_scope_without_a_stage(platform: str) -> None:
    spy = ScopeSpy()
    call(make_handler(spy, lifespan="off"), platform, "GET", "/你好", query={"x": "1"})
    scope = spy.scopes[-1]
    assert scope["root_path"] == ""
    assert scope["path"] == "/你好"
    assert scope["raw_path"] == b"/%E4%BD%A0%E5%A5%BD"
    assert scope["query_string"] == b"x=1"
    assert scope["faas_bridge.platform"] == platform


def test_base_path_becomes_root_path_and_starlette_routes_below_it() -> None:
    async def where(request: Request) -> JSONResponse:
        return JSONResponse({"url": str(request.url_for("where")), "path": request.url.path})

    app = Starlette(routes=[Route("/where", where, name="where")])
    handler = make_handler(app, base_path="/api")
    response = call(handler, "tencent_url", "GET", "/api/where", host="fn.example.com")
    assert response.json() == {"url": "https://fn.example.com/api/where", "path": "/api/where"}


# --------------------------------------------------------------------------------------------
# Responses


def raw_app(*messages: Message, fail: str = "") -> Callable[..., Any]:
    async def app(scope: Scope, receive: Any, send: Any) -> None:
        for message in messages:
            await send(message)
        if fail:
            raise RuntimeError(fail)

    return app


START = {
    "type": "http.response.start",
    "status": 201,
    "headers": [(b"content-type", b"text/plain")],
}


def test_streamed_body_is_buffered_into_one_response_and_unknown_messages_ignored() -> None:
    app = raw_app(
        START,
        {"type": "http.response.body", "body": b"one ", "more_body": True},
        {"type": "http.response.debug", "info": {}},
        {"type": "http.response.body", "body": b"two ", "more_body": True},
        {"type": "http.response.body", "body": b"three"},
        {"type": "http.response.body", "body": b" too late"},
    )
    response = call(make_handler(app, lifespan="off"), "tencent_url", "GET", "/")
    assert response.status_code == 201
    assert response.content == b"one two three"


@pytest.mark.parametrize(
    "messages",
    [
        (),  # raises before http.response.start
        (START, {"type": "http.response.body", "body": b"half", "more_body": True}),
    ],
    ids=["before-start", "after-start"],
)
def test_exception_before_the_response_completes_answers_500(
    messages: tuple[Message, ...], caplog: pytest.LogCaptureFixture
) -> None:
    handler = make_handler(raw_app(*messages, fail="boom"), lifespan="off")
    with caplog.at_level(logging.ERROR, logger="faas_bridge"):
        response = call(handler, "cloudbase", "GET", "/x")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert b"boom" not in response.content
    assert "boom" in caplog.text


def test_exception_after_the_response_completed_keeps_the_response(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = raw_app(START, {"type": "http.response.body", "body": b"done"}, fail="late")
    with caplog.at_level(logging.ERROR, logger="faas_bridge"):
        response = call(make_handler(app, lifespan="off"), "tencent_url", "GET", "/")
    assert (response.status_code, response.content) == (201, b"done")
    assert "GET / answered 201, then the app raised" in caplog.text


def test_a_fastapi_endpoint_error_is_logged_as_a_500(caplog: pytest.LogCaptureFixture) -> None:
    # Issue 18: Starlette re-raises after sending its 500; the log called that "raised after
    # completing its response", which reads like a bug of the app's response handling.
    app = FastAPI()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    with caplog.at_level(logging.ERROR, logger="faas_bridge"):
        response = call(make_handler(app, lifespan="off"), "tencent_url", "GET", "/boom")
    assert response.status_code == 500
    assert "GET /boom answered 500, then the app raised" in caplog.text
    assert "after completing" not in caplog.text


def test_app_that_never_starts_a_response_answers_500() -> None:
    response = call(make_handler(raw_app(), lifespan="off"), "tencent_url", "GET", "/")
    assert response.status_code == 500


def test_background_work_finishes_within_the_invocation() -> None:
    done: list[str] = []

    async def later(name: str) -> None:
        await asyncio.sleep(0.01)
        done.append(name)

    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse("queued", background=BackgroundTask(later, "email"))

    handler = make_handler(Starlette(routes=[Route("/", endpoint)]))
    response = call(handler, "alibaba_fc", "GET", "/")
    assert response.text == "queued"
    assert done == ["email"]


def test_head_and_204_have_no_body() -> None:
    async def endpoint(request: Request) -> PlainTextResponse:
        status = int(request.query_params.get("status", "200"))
        return PlainTextResponse("body", status_code=status)

    app = Starlette(routes=[Route("/", endpoint, methods=["GET", "HEAD"])])
    handler = make_handler(app)
    assert call(handler, "tencent_url", "HEAD", "/").content == b""
    assert call(handler, "tencent_url", "GET", "/", query={"status": "204"}).content == b""


# --------------------------------------------------------------------------------------------
# Streaming and the deadline


async def never_ending_events(request: Request) -> StreamingResponse:
    async def ticks() -> Any:
        n = 0
        while True:
            yield f"data: {n}\n\n"
            n += 1
            await asyncio.sleep(0.01)

    return StreamingResponse(ticks(), media_type="text/event-stream")


async def finite_stream(request: Request) -> StreamingResponse:
    async def chunks() -> Any:
        for n in range(3):
            await asyncio.sleep(0)
            yield f"chunk {n};"

    return StreamingResponse(chunks(), media_type="text/plain")


async def hangs(request: Request) -> PlainTextResponse:
    await asyncio.sleep(3600)
    return PlainTextResponse("never")


STREAMS = Starlette(
    routes=[
        Route("/sse", never_ending_events),
        Route("/finite", finite_stream),
        Route("/hang", hangs),
    ]
)


def test_finite_stream_is_collected_whole() -> None:
    response = call(make_handler(STREAMS), "tencent_url", "GET", "/finite")
    assert response.text == "chunk 0;chunk 1;chunk 2;"


def test_never_ending_sse_returns_what_was_collected_at_the_context_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = make_handler(STREAMS)
    event = build_event("tencent_apigw", "GET", "/sse")
    # 400 ms time limit: the deadline keeps 20 % of it for returning the response.
    context = build_context("tencent_apigw", time_limit_in_ms=400)
    with caplog.at_level(logging.WARNING, logger="faas_bridge"):
        response = parse_response("tencent_apigw", handler(event, context))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith("data: 0\n\ndata: 1\n\n")
    assert response.text.endswith("\n\n")
    assert "returning the" in caplog.text


def test_fc_function_timeout_sets_the_deadline() -> None:
    handler = make_handler(STREAMS)
    event = build_event("alibaba_fc", "GET", "/sse")
    context = build_context("alibaba_fc")
    context.function = SimpleNamespace(name="demo", timeout=0.3)
    response = parse_response("alibaba_fc", handler(event, context))
    assert response.status_code == 200
    assert response.text.startswith("data: 0\n\n")


def test_explicit_deadline_overrides_the_context() -> None:
    handler = make_handler(STREAMS, deadline=0.2)
    response = call(handler, "alibaba_fc", "GET", "/sse")  # the context allows 60 s
    assert response.text.startswith("data: 0\n\n")


def test_app_with_no_response_by_the_deadline_answers_504(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = make_handler(STREAMS, deadline=0.1)
    with caplog.at_level(logging.WARNING, logger="faas_bridge"):
        response = call(handler, "tencent_url", "GET", "/hang")
    assert response.status_code == 504
    assert response.json()["error"] == "deadline"
    assert "answering 504" in caplog.text
    # the loop is healthy afterwards
    assert call(handler, "tencent_url", "GET", "/finite").status_code == 200


def test_concurrent_calls_each_meet_their_own_deadline() -> None:
    """A call with a shorter time limit arriving while a longer one runs moves the
    watchdog's timer earlier; the longer one still gets its full time."""
    handler = make_handler(STREAMS)
    results: dict[str, tuple[float, TestResponse]] = {}
    started = time.monotonic()

    def invoke(name: str, limit_ms: int) -> None:
        event = build_event("tencent_apigw", "GET", "/sse")
        context = build_context("tencent_apigw", time_limit_in_ms=limit_ms)
        response = parse_response("tencent_apigw", handler(event, context))
        results[name] = (time.monotonic() - started, response)

    long_call = threading.Thread(target=invoke, args=("long", 1500))
    long_call.start()
    time.sleep(0.05)
    invoke("short", 300)
    long_call.join()
    (short_at, short), (long_at, long) = results["short"], results["long"]
    assert short.status_code == long.status_code == 200
    assert short_at < long_at
    # Ticks come every 10 ms: the short call was cut at its own deadline (0.24 s), not
    # held until the long one's (1.2 s), and the long one ran well past the short one's.
    assert long.text.startswith(short.text)
    assert long.text.count("data:") > 2 * short.text.count("data:")


# --------------------------------------------------------------------------------------------
# The shared loop


def test_one_loop_for_every_call_on_the_calling_thread() -> None:
    spy = ScopeSpy()
    handler = make_handler(spy, lifespan="off")
    other = make_handler(ScopeSpy(), lifespan="off")
    for _ in range(3):
        call(handler, "tencent_url", "GET", "/")
    call(other, "tencent_url", "GET", "/")
    assert len(set(spy.loops)) == 1
    assert spy.loops[0] is shared_loop().loop
    assert not spy.loops[0].is_closed()
    # single-threaded callers drive the loop themselves: no thread hop
    assert set(spy.threads) == {threading.get_ident()}


def test_handler_called_synchronously_from_async_code_still_works() -> None:
    handler = make_handler(ScopeSpy(), lifespan="off")

    async def main() -> TestResponse:
        return call(handler, "tencent_url", "POST", "/", body=b"from a coroutine")

    assert asyncio.run(main()).content == b"from a coroutine"


def test_an_app_polling_its_own_socket_between_yields_still_sees_it_ready() -> None:
    """The loop skips the zero-timeout poll only while nothing but its own wake-up socket
    is registered: an app's socket keeps every poll, so busy yielding cannot starve it."""

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        received: list[bytes] = []
        loop.add_reader(ours, lambda: received.append(ours.recv(16)))
        try:
            theirs.send(b"ping")
            for _ in range(10_000):  # ready callbacks all along: every poll has timeout 0
                if received:
                    break
                await asyncio.sleep(0)
        finally:
            loop.remove_reader(ours)
            ours.close()
            theirs.close()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"".join(received)})

    handler = make_handler(app, lifespan="off")
    assert call(handler, "tencent_url", "GET", "/").content == b"ping"


@pytest.mark.skipif(sys.platform == "win32", reason="Unix signals")
def test_a_signal_handler_of_the_app_runs_while_the_app_keeps_yielding() -> None:
    """Signals reach asyncio as bytes on the loop's wake-up socket, so a loop with a signal
    handler makes every poll even with no socket of the app registered."""
    script = """
import asyncio, os, signal
from faas_bridge import make_handler
from faas_bridge.testing import build_context, build_event, parse_response

seen = []

async def app(scope, receive, send):
    loop = asyncio.get_running_loop()
    if scope["path"] == "/install":
        loop.add_signal_handler(signal.SIGUSR1, seen.append, "usr1")
    else:
        for _ in range(10_000):  # ready callbacks all along: every poll has timeout 0
            if seen:
                break
            await asyncio.sleep(0)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": repr(seen).encode()})

handler = make_handler(app, lifespan="off")

def get(path):
    event = build_event("tencent_url", "GET", path)
    return parse_response("tencent_url", handler(event, build_context("tencent_url"))).text

get("/install")
os.kill(os.getpid(), signal.SIGUSR1)
print(get("/wait"))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "['usr1']"


def test_a_loop_chosen_by_the_event_loop_policy_is_kept() -> None:
    """A policy's loop (uvloop.install() works this way) is the one the app runs on."""
    script = """
import asyncio
from faas_bridge import make_handler
from faas_bridge.testing import build_context, build_event, parse_response

class CustomLoop(asyncio.SelectorEventLoop):
    pass

class Policy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        return CustomLoop()

asyncio.set_event_loop_policy(Policy())

async def app(scope, receive, send):
    name = type(asyncio.get_running_loop()).__name__.encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": name})

handler = make_handler(app, lifespan="off")
event = build_event("tencent_url", "GET", "/")
print(parse_response("tencent_url", handler(event, build_context("tencent_url"))).text)
"""
    result = subprocess.run(
        [sys.executable, "-W", "ignore::DeprecationWarning", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "CustomLoop"


def test_invocations_leave_no_garbage_for_the_cycle_collector() -> None:
    """Every object of a call is freed when the call returns: memory stays flat without
    waiting for (and pausing in) the garbage collector."""
    handler = make_handler(ScopeSpy(), lifespan="off", deadline=30.0)
    events = {name: build_event(name, "POST", "/x", body=b"1") for name in PLATFORMS}
    for name, event in events.items():  # warm: memos and lazy imports filled
        handler(event, build_context(name))
    gc.collect()
    gc.disable()
    try:
        for _ in range(50):
            for name, event in events.items():
                handler(event, build_context(name))
        assert gc.collect() == 0
    finally:
        gc.enable()


# --------------------------------------------------------------------------------------------
# Alibaba FC 2.0: handler(environ, start_response)


def test_fc2_wsgi_call_of_an_asgi_app() -> None:
    from werkzeug.test import EnvironBuilder

    async def echo(request: Request) -> JSONResponse:
        response = JSONResponse(
            {
                "path": request.url.path,
                "query": request.query_params.getlist("tag"),
                "body": (await request.body()).decode(),
                "platform": request.scope["faas_bridge.platform"],
                "request_id": request.scope["faas_bridge.request_id"],
                "has_context": request.scope["faas_bridge.context"] is not None,
            }
        )
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    handler = make_handler(Starlette(routes=[Route("/{p:path}", echo, methods=["POST"])]))
    environ = EnvironBuilder(
        path="/商品", method="POST", query_string="tag=a&tag=b", data=b"hello"
    ).get_environ()
    environ["fc.context"] = SimpleNamespace(request_id="fc2-req")
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        started.append((status, headers))

    body = b"".join(handler(environ, start_response))
    status, headers = started[0]
    assert status == "200 OK"
    assert [v.split("=")[0] for n, v in headers if n.lower() == "set-cookie"] == ["a", "b"]
    assert json.loads(body) == {
        "path": "/商品",
        "query": ["a", "b"],
        "body": "hello",
        "platform": "alibaba_fc",
        "request_id": "fc2-req",
        "has_context": True,
    }


def test_background_work_still_running_at_the_deadline_is_cut_and_the_response_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def forever() -> None:
        await asyncio.sleep(3600)

    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse("sent", background=BackgroundTask(forever))

    handler = make_handler(Starlette(routes=[Route("/", endpoint)]), deadline=0.1)
    with caplog.at_level(logging.WARNING, logger="faas_bridge"):
        response = call(handler, "tencent_url", "GET", "/")
    assert (response.status_code, response.text) == (200, "sent")
    assert "background work" in caplog.text


def test_non_utf8_path_bytes_reach_the_scope_as_replacement_characters() -> None:
    from faas_bridge import make_handler
    from faas_bridge.testing import build_event

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        body = f"{scope['path']}|{scope['raw_path'].decode()}".encode()
        await send({"type": "http.response.body", "body": body})

    from faas_bridge.testing import parse_response

    result = make_handler(app, lifespan="off")(build_event("tencent_url", "GET", "/raw%FF"), None)
    response = parse_response("tencent_url", result)
    assert response.status_code == 200
    assert response.content.decode() == "/raw\ufffd|/raw%FF"

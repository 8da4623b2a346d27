"""App faults become a 500 with a generic body, logged once with the request id.

WSGI apps that raise before or after ``start_response``, misuse it, or return iterables
that raise or yield something other than bytes; ASGI apps that raise or break the protocol
(body before start, two starts, a status that is not an int, no start at all). The client
never sees traceback text; the log gets the exception exactly once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from fastapi import FastAPI
from flask import Flask

from faas_bridge import make_handler
from faas_bridge.testing import build_context, build_event

PLATFORMS = ("tencent_apigw", "tencent_url", "cloudbase", "alibaba_fc", "alibaba_apigw")
SECRET_DETAIL = "kaboom-detail-7f3a"  # an exception message that must not reach the client
REQUEST_ID = "req-faults-0001"

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def invoke(app: Any, platform: str = "tencent_apigw", **options: Any) -> dict[str, Any]:
    event = build_event(platform, "GET", "/fault", request_id=REQUEST_ID)
    context = build_context(platform, request_id=REQUEST_ID)
    result: dict[str, Any] = make_handler(app, **options)(event, context)
    return result


def error_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name.startswith("faas_bridge") and record.levelno >= logging.ERROR
    ]


def assert_generic_500(result: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    """A 500 whose body says nothing about the failure, and one log record that does."""
    assert result["statusCode"] == 500
    body = result["body"]
    assert "Traceback" not in body
    assert SECRET_DETAIL not in body
    assert "File " not in body
    assert json.loads(body) == {
        "error": "internal_error",
        "message": "Internal Server Error",
        "request_id": REQUEST_ID,
    }
    records = error_records(caplog)
    assert len(records) == 1, [record.getMessage() for record in records]
    assert REQUEST_ID in records[0].getMessage()
    assert records[0].exc_info is not None  # the traceback goes to the log, not the client


# --------------------------------------------------------------------------------------------
# WSGI


def raises_before_start_response(environ: Environ, start_response: StartResponse) -> Any:
    raise RuntimeError(SECRET_DETAIL)


def raises_after_start_response(environ: Environ, start_response: StartResponse) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain")])
    raise RuntimeError(SECRET_DETAIL)


def raises_mid_body(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"first part, "
    raise RuntimeError(SECRET_DETAIL)


def yields_str(environ: Environ, start_response: StartResponse) -> Iterator[Any]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"fine, "
    yield SECRET_DETAIL  # str, not bytes


def returns_str_list(environ: Environ, start_response: StartResponse) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [SECRET_DETAIL]


def returns_none_items(environ: Environ, start_response: StartResponse) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"a", None]


def starts_twice(environ: Environ, start_response: StartResponse) -> Any:
    start_response("200 OK", [])
    start_response("201 Created", [])
    return [b"x"]


def never_starts(environ: Environ, start_response: StartResponse) -> Any:
    return [b"body without a status"]


def body_before_start(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
    yield b"too early"
    start_response("200 OK", [])


def write_before_start(environ: Environ, start_response: StartResponse) -> Any:
    write = getattr(start_response, "__self__").write  # noqa: B009 (reached too early)
    write(b"x")
    return []


def bad_status_text(environ: Environ, start_response: StartResponse) -> Any:
    start_response("OK", [])
    return [b"x"]


def status_out_of_range(environ: Environ, start_response: StartResponse) -> Any:
    start_response("999 Nope", [])
    return [b"x"]


def headers_not_a_list(environ: Environ, start_response: StartResponse) -> Any:
    start_response("200 OK", (("Content-Type", "text/plain"),))
    return [b"x"]


def returns_none(environ: Environ, start_response: StartResponse) -> Any:
    start_response("200 OK", [])
    return None


def exc_info_after_body(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"already sent")
    try:
        raise RuntimeError(SECRET_DETAIL)
    except RuntimeError:
        import sys

        start_response("500 Internal Server Error", [], sys.exc_info())
    yield b"never"


class CloseRaises:
    """A body iterable whose close() fails after a complete body."""

    def __init__(self, environ: Environ, start_response: StartResponse) -> None:
        start_response("200 OK", [("Content-Type", "text/plain")])

    def __iter__(self) -> Iterator[bytes]:
        yield b"complete"

    def close(self) -> None:
        raise RuntimeError(SECRET_DETAIL)


WSGI_FAULTS = [
    raises_before_start_response,
    raises_after_start_response,
    raises_mid_body,
    yields_str,
    returns_str_list,
    returns_none_items,
    starts_twice,
    never_starts,
    body_before_start,
    write_before_start,
    bad_status_text,
    status_out_of_range,
    headers_not_a_list,
    returns_none,
    exc_info_after_body,
    CloseRaises,
]


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("app", WSGI_FAULTS, ids=lambda app: app.__name__)
def test_wsgi_faults_answer_a_logged_generic_500(
    app: Any, platform: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert_generic_500(invoke(app, platform, interface="wsgi"), caplog)


def test_wsgi_iterable_is_closed_when_it_raises_mid_body(caplog: pytest.LogCaptureFixture) -> None:
    closed: list[bool] = []

    def app(environ: Environ, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        try:
            yield b"part"
            raise RuntimeError(SECRET_DETAIL)
        finally:
            closed.append(True)

    assert_generic_500(invoke(app), caplog)
    assert closed == [True]


def test_flask_view_that_raises_is_flasks_own_500() -> None:
    """Flask catches view errors itself: the client gets Flask's generic page."""
    app = Flask(__name__)

    @app.route("/fault")
    def fault() -> str:
        raise RuntimeError(SECRET_DETAIL)

    result = invoke(app)
    assert result["statusCode"] == 500
    assert SECRET_DETAIL not in result["body"]


def test_on_error_raise_lets_the_exception_through(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(RuntimeError, match=SECRET_DETAIL):
        invoke(raises_mid_body, on_error="raise")
    assert error_records(caplog) == []


# --------------------------------------------------------------------------------------------
# ASGI

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain")],
}


async def asgi_raises_before_start(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        raise RuntimeError(SECRET_DETAIL)


async def asgi_raises_after_start(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send(START)
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        raise RuntimeError(SECRET_DETAIL)


async def asgi_body_before_start(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.body", "body": b"too early"})


async def asgi_starts_twice(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send(START)
        await send(START)
        await send({"type": "http.response.body", "body": b"x"})


async def asgi_status_is_a_string(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send({**START, "status": "200"})
        await send({"type": "http.response.body", "body": b"x"})


async def asgi_status_is_a_float(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send({**START, "status": 200.0})
        await send({"type": "http.response.body", "body": b"x"})


async def asgi_status_out_of_range(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send({**START, "status": 600})
        await send({"type": "http.response.body", "body": b"x"})


async def asgi_status_missing(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start"})
        await send({"type": "http.response.body", "body": b"x"})


async def asgi_never_starts(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await receive()


async def asgi_body_is_str(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send(START)
        await send({"type": "http.response.body", "body": SECRET_DETAIL})


async def asgi_headers_not_bytes(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send({**START, "headers": [("content-type", "text/plain")]})
        await send({"type": "http.response.body", "body": b"x"})


async def asgi_message_without_type(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send({"status": 200})


async def asgi_sends_a_non_dict(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send(None)  # type: ignore[arg-type]


ASGI_FAULTS = [
    asgi_raises_before_start,
    asgi_raises_after_start,
    asgi_body_before_start,
    asgi_starts_twice,
    asgi_status_is_a_string,
    asgi_status_is_a_float,
    asgi_status_out_of_range,
    asgi_status_missing,
    asgi_never_starts,
    asgi_body_is_str,
    asgi_headers_not_bytes,
    asgi_message_without_type,
    asgi_sends_a_non_dict,
]


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("app", ASGI_FAULTS, ids=lambda app: app.__name__)
def test_asgi_faults_answer_a_logged_generic_500(
    app: Any, platform: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert_generic_500(invoke(app, platform, lifespan="off"), caplog)


def test_asgi_raise_after_a_complete_response_keeps_it_and_logs_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(START)
        await send({"type": "http.response.body", "body": b"done"})
        raise RuntimeError(SECRET_DETAIL)

    result = invoke(app, lifespan="off")
    assert result["statusCode"] == 200
    assert result["body"] == "done"
    records = error_records(caplog)
    assert len(records) == 1
    assert REQUEST_ID in records[0].getMessage()


def test_fastapi_endpoint_that_raises(caplog: pytest.LogCaptureFixture) -> None:
    """Starlette answers its own generic 500 and re-raises; faas_bridge logs it once."""
    app = FastAPI()

    @app.get("/fault")
    def fault() -> None:
        raise RuntimeError(SECRET_DETAIL)

    result = invoke(app, lifespan="off")
    assert result["statusCode"] == 500
    assert result["body"] == "Internal Server Error"
    ours = [r for r in error_records(caplog) if r.name.startswith("faas_bridge")]
    assert len(ours) == 1
    assert REQUEST_ID in ours[0].getMessage()


def test_asgi_app_that_never_answers_meets_the_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    result = invoke(asgi_never_starts_or_returns, lifespan="off", deadline=0.05)
    assert result["statusCode"] == 504
    assert json.loads(result["body"])["error"] == "deadline"
    assert error_records(caplog) == []  # a warning: the app is slow, not broken


async def asgi_never_starts_or_returns(scope: Scope, receive: Receive, send: Send) -> None:
    import asyncio

    await asyncio.Event().wait()


def test_asgi_on_error_raise(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(RuntimeError, match=SECRET_DETAIL):
        invoke(asgi_raises_after_start, lifespan="off", on_error="raise")
    assert error_records(caplog) == []

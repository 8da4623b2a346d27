"""Lifespan: auto / on / off × an app that supports it / does not / fails startup.

Startup must run once per process however many invocations follow, its state must reach
each request's ``scope["state"]``, and shutdown must run at interpreter exit.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Callable

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from faas_bridge import BridgeError, LifespanError, make_handler
from faas_bridge.testing import build_context, build_event, parse_response

from . import probe_asgi

CALLS = 12


class Counter:
    def __init__(self) -> None:
        self.startups = 0
        self.shutdowns = 0


async def show_state(request: Request) -> JSONResponse:
    return JSONResponse({"resource": getattr(request.state, "resource", None)})


def supporting_app(counter: Counter) -> Any:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        counter.startups += 1
        yield {"resource": "db-pool"}
        counter.shutdowns += 1

    return Starlette(routes=[Route("/{p:path}", show_state)], lifespan=lifespan)


def failing_app(counter: Counter) -> Any:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        counter.startups += 1
        if counter.startups:
            raise RuntimeError("cannot reach the database")
        yield  # pragma: no cover

    return Starlette(routes=[Route("/{p:path}", show_state)], lifespan=lifespan)


def unsupporting_app(counter: Counter) -> Any:
    """Django's ASGI handler refuses lifespan scopes (raises), as many apps do."""
    return probe_asgi.make_django_asgi_app()


APPS: dict[str, Callable[[Counter], Any]] = {
    "supports": supporting_app,
    "unsupported": unsupporting_app,
    "fails": failing_app,
}


def invoke(handler: Any, path: str = "/x") -> Any:
    event = build_event("tencent_url", "GET", path)
    return parse_response("tencent_url", handler(event, build_context("tencent_url")))


@pytest.mark.parametrize("mode", ["auto", "on", "off"])
@pytest.mark.parametrize("kind", sorted(APPS))
def test_lifespan_matrix(mode: str, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    counter = Counter()
    handler = make_handler(APPS[kind](counter), lifespan=mode)  # type: ignore[arg-type]
    assert counter.startups == 0  # nothing runs before the first invocation

    if mode == "on" and kind != "supports":
        for _ in range(3):
            with pytest.raises(LifespanError) as raised:
                invoke(handler)
            assert isinstance(raised.value, BridgeError)
        assert counter.startups == (1 if kind == "fails" else 0)
        return

    with caplog.at_level(logging.INFO, logger="faas_bridge"):
        responses = [invoke(handler) for _ in range(CALLS)]
    assert all(response.status_code == 200 for response in responses)
    if mode == "off":
        assert counter.startups == 0
    elif kind == "unsupported":
        assert "does not support lifespan" in caplog.text
    elif kind == "fails":
        assert counter.startups == 1
        assert "startup failed" in caplog.text
    if kind != "unsupported":
        expected = "db-pool" if kind == "supports" and mode != "off" else None
        assert {response.json()["resource"] for response in responses} == {expected}
    if kind == "supports" and mode != "off":
        assert counter.startups == 1
        assert counter.shutdowns == 0  # shutdown waits for interpreter exit


def test_state_is_a_shallow_copy_per_request() -> None:
    async def mutate(request: Request) -> JSONResponse:
        before = dict(request.scope["state"])
        request.scope["state"]["mine"] = True
        state: Any = request.state
        state.shared.append(1)
        return JSONResponse({"keys": sorted(before)})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        yield {"shared": []}

    handler = make_handler(Starlette(routes=[Route("/", mutate)], lifespan=lifespan))
    assert invoke(handler, "/").json() == {"keys": ["shared"]}
    assert invoke(handler, "/").json() == {"keys": ["shared"]}  # "mine" did not leak


def test_eager_startup_runs_in_make_handler() -> None:
    counter = Counter()
    handler = make_handler(supporting_app(counter), lifespan_eager=True)
    assert counter.startups == 1
    invoke(handler)
    assert counter.startups == 1


def test_eager_startup_that_fails_with_lifespan_on_raises_in_make_handler() -> None:
    with pytest.raises(LifespanError, match="cannot reach the database"):
        make_handler(failing_app(Counter()), lifespan="on", lifespan_eager=True)


@pytest.mark.parametrize("mode", ["auto", "on"])
def test_startup_timeout(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    @asynccontextmanager
    async def slow(app: Starlette) -> AsyncIterator[None]:
        await asyncio.sleep(3600)
        yield  # pragma: no cover

    app = Starlette(routes=[Route("/{p:path}", show_state)], lifespan=slow)
    handler = make_handler(app, lifespan=mode, startup_timeout=0.1)  # type: ignore[arg-type]
    if mode == "on":
        with pytest.raises(LifespanError, match=r"within 0\.1 s"):
            invoke(handler)
    else:
        with caplog.at_level(logging.ERROR, logger="faas_bridge"):
            assert invoke(handler).status_code == 200
        assert "within 0.1 s" in caplog.text


def test_lifespan_error_propagates_even_with_on_error_respond() -> None:
    handler = make_handler(failing_app(Counter()), lifespan="on", on_error="respond")
    with pytest.raises(LifespanError):
        invoke(handler)


def test_startup_once_and_shutdown_at_interpreter_exit() -> None:
    script = textwrap.dedent(
        """
        from contextlib import asynccontextmanager
        from starlette.applications import Starlette
        from starlette.responses import PlainTextResponse
        from starlette.routing import Route
        from faas_bridge import make_handler
        from faas_bridge.testing import build_event

        @asynccontextmanager
        async def lifespan(app):
            print("startup", flush=True)
            yield
            print("shutdown", flush=True)

        async def home(request):
            return PlainTextResponse("hi")

        handler = make_handler(Starlette(routes=[Route("/", home)], lifespan=lifespan))
        for _ in range(5):
            assert handler(build_event("tencent_url", "GET", "/"), None)["statusCode"] == 200
        print("served", flush=True)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["startup", "served", "shutdown"]

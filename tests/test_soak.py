"""Soak: many warm invocations do not grow memory, and concurrent ones never cross wires.

100 000 invocations of a trivial WSGI and a trivial ASGI app through ``make_handler``, every
one with its own path, query and request id (so every per-call cache sees new keys and must
stay bounded), must grow the resident set by less than 5 MB. 32 threads x 1 000 invocations
on one handler must each get back the id they sent (Alibaba FC runs invocations of one
instance on threads at once).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import threading
from pathlib import Path
from typing import Any, Callable

import pytest

from faas_bridge import make_handler
from faas_bridge.testing import build_context, build_event

PLATFORMS = ("tencent_apigw", "tencent_url", "cloudbase", "alibaba_fc")
WARM_CALLS = 100_000
WARM_UP = 5_000
RSS_GROWTH_LIMIT = 5 * 1024 * 1024
THREADS = 32
CALLS_PER_THREAD = 1_000
STATM = Path("/proc/self/statm")


def wsgi_echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """Answers the request id it was sent, with the path and query it saw."""
    body = "|".join(
        (environ["HTTP_X_CALL_ID"], environ["PATH_INFO"], environ["QUERY_STRING"])
    ).encode()
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("X-Call-Id", environ["HTTP_X_CALL_ID"])]
    )
    return [body]


async def asgi_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The same, as an ASGI app that also yields to the loop once per request."""
    if scope["type"] != "http":
        return
    await receive()
    await asyncio.sleep(0)
    call_id = next(value for name, value in scope["headers"] if name == b"x-call-id")
    body = b"|".join((call_id, scope["path"].encode(), scope["query_string"]))
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"x-call-id", call_id)],
        }
    )
    await send({"type": "http.response.body", "body": body})


APPS = {"wsgi": wsgi_echo, "asgi": asgi_echo}


class Events:
    """Per-platform templates, each call getting its own id, path and query cheaply."""

    def __init__(self) -> None:
        self.templates: list[tuple[str, dict[str, Any], Any]] = []
        for platform in PLATFORMS:
            event = build_event(platform, "GET", "/echo/0?n=0", headers={"X-Call-Id": "0"})
            if isinstance(event, bytes):
                event = json.loads(event)
            self.templates.append((platform, event, build_context(platform)))

    def make(self, call_id: str, index: int, interface: str) -> tuple[dict[str, Any], Any, str]:
        """An event, its context, and the body the echo app must answer."""
        platform, template, context = self.templates[index % len(self.templates)]
        event = dict(template)
        headers = dict(template["headers"])
        headers["X-Call-Id" if platform == "alibaba_fc" else "x-call-id"] = call_id
        event["headers"] = headers
        path = f"/echo/{call_id}"
        if platform == "alibaba_fc":
            event["rawPath"] = path
            event["queryParameters"] = {"n": call_id}
        else:
            event["path"] = path
            event["queryString"] = event["queryStringParameters"] = {"n": call_id}
        if interface == "asgi" and platform == "tencent_apigw":
            path = "/release" + path  # the stage of the default domain, in the ASGI path
        return event, context, f"{call_id}|{path}|n={call_id}"


def check(result: dict[str, Any], call_id: str, expected: str) -> None:
    assert result["statusCode"] == 200, result
    assert result["body"] == expected
    headers = result["headers"]
    assert headers.get("X-Call-Id", headers.get("x-call-id")) == call_id


def resident_bytes() -> int:
    return int(STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not STATM.exists(), reason="needs /proc/self/statm (Linux)")
@pytest.mark.parametrize("interface", sorted(APPS))
def test_warm_invocations_do_not_grow_memory(interface: str) -> None:
    handler = make_handler(APPS[interface])
    events = Events()

    def run(start: int, stop: int) -> None:
        for index in range(start, stop):
            call_id = f"c{index}"
            event, context, expected = events.make(call_id, index, interface)
            check(handler(event, context), call_id, expected)

    run(0, WARM_UP)  # caches fill, the loop and the allocator settle
    gc.collect()
    before = resident_bytes()
    run(WARM_UP, WARM_UP + WARM_CALLS)
    gc.collect()
    growth = resident_bytes() - before
    assert growth < RSS_GROWTH_LIMIT, f"RSS grew by {growth / 2**20:.1f} MB over {WARM_CALLS} calls"


@pytest.mark.parametrize("interface", sorted(APPS))
def test_concurrent_invocations_each_get_their_own_response(interface: str) -> None:
    handler = make_handler(APPS[interface])
    events = Events()
    barrier = threading.Barrier(THREADS)
    failures: list[str] = []

    def worker(thread: int) -> None:
        barrier.wait()
        try:
            for index in range(CALLS_PER_THREAD):
                call_id = f"t{thread}-{index}"
                event, context, expected = events.make(call_id, thread + index, interface)
                check(handler(event, context), call_id, expected)
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(f"thread {thread}: {exc!r}"[:500])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "an invocation never returned"
    assert failures == []

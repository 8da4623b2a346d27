"""Alibaba FC instance concurrency: many threads calling one handler at once.

Every call must get its own response, none may fail with "This event loop is already
running", and the awaits of the async app must overlap across threads (the issue's bound:
16 threads × 10 requests awaiting 50 ms each finish well under 2.5 s instead of 8 s).
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import FastAPI

from faas_bridge import make_handler
from faas_bridge.loop import shared_loop
from faas_bridge.testing import build_context, build_event, parse_response

THREADS = 16
PER_THREAD = 10


def make_app() -> FastAPI:
    app = FastAPI()
    gates: dict[str, bool] = {"second_started": False, "first_returned": False}

    @app.get("/sleep/{n}")
    async def sleep(n: int) -> dict[str, Any]:
        await asyncio.sleep(0.05)
        return {"n": n, "thread": threading.get_ident()}

    @app.get("/sync/{n}")
    def blocking(n: int) -> dict[str, int]:  # run in the threadpool by FastAPI
        time.sleep(0.01)
        return {"n": n}

    @app.get("/first")
    async def first() -> dict[str, str]:
        while not gates["second_started"]:
            await asyncio.sleep(0.002)
        return {"who": "first"}

    @app.get("/second")
    async def second() -> dict[str, str]:
        gates["second_started"] = True
        while not gates["first_returned"]:
            await asyncio.sleep(0.002)
        return {"who": "second"}

    app.state.gates = gates
    return app


def request(handler: Any, path: str) -> Any:
    event = build_event("alibaba_fc", "GET", path)
    return parse_response("alibaba_fc", handler(event, build_context("alibaba_fc")))


def test_concurrent_threads_get_their_own_responses_and_their_awaits_overlap() -> None:
    handler = make_handler(make_app())
    request(handler, "/sleep/0")  # warm: lifespan and first-call imports

    def worker(thread: int) -> list[tuple[int, int]]:
        results = []
        for i in range(PER_THREAD):
            n = thread * 1000 + i
            response = request(handler, f"/sleep/{n}")
            results.append((response.status_code, response.json()["n"] - n))
        return results

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = [item for items in pool.map(worker, range(THREADS)) for item in items]
    elapsed = time.perf_counter() - started

    assert outcomes == [(200, 0)] * (THREADS * PER_THREAD)
    assert elapsed < 2.5, f"awaits did not overlap: {elapsed:.2f} s (serial would be 8 s)"


def test_sync_endpoints_under_concurrency() -> None:
    handler = make_handler(make_app())
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: request(handler, f"/sync/{n}").json()["n"], range(64)))
    assert results == list(range(64))


def test_single_threaded_caller_drives_the_loop_itself_after_a_concurrent_burst() -> None:
    handler = make_handler(make_app())
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: request(handler, f"/sleep/{n}"), range(32)))
    for _ in range(20):  # the background driver may still be winding down at first
        if request(handler, "/sleep/1").json()["thread"] == threading.get_ident():
            break
    assert request(handler, "/sleep/2").json()["thread"] == threading.get_ident()


def test_a_submitted_request_is_not_stranded_when_the_driving_thread_returns() -> None:
    """The driving thread's request finishes while another thread's is still pending: the
    driver must return at once (not wait for the other request) and the other must still
    complete. "second" only finishes after "first" has returned to its caller."""
    app = make_app()
    gates = app.state.gates
    handler = make_handler(app)
    request(handler, "/sleep/0")
    results: dict[str, Any] = {}

    def first() -> None:
        results["first"] = request(handler, "/first").json()
        gates["first_returned"] = True

    def second() -> None:
        results["second"] = request(handler, "/second").json()

    driver = threading.Thread(target=first)
    driver.start()
    time.sleep(0.05)  # let "first" drive the loop; "second" then joins as a guest
    guest = threading.Thread(target=second)
    guest.start()
    driver.join(timeout=10)
    guest.join(timeout=10)
    assert not driver.is_alive(), "the driving thread waited for the other request"
    assert not guest.is_alive(), "the submitted request was stranded"
    assert results == {"first": {"who": "first"}, "second": {"who": "second"}}


def test_requests_finishing_in_the_same_loop_iteration_all_return() -> None:
    """The driving thread's request and a submitted one complete in one loop iteration:
    the submitted one's caller must get its response although the driver then stops."""
    loop = shared_loop().loop
    released = loop.create_future()  # resolved from here: both apps wake together
    arrived = threading.Semaphore(0)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        arrived.release()
        await released
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    handler = make_handler(app, lifespan="off")
    results: dict[str, bytes] = {}

    def call(path: str) -> None:
        event = build_event("alibaba_fc", "GET", path)
        response = parse_response("alibaba_fc", handler(event, build_context("alibaba_fc")))
        results[path] = response.content

    driver = threading.Thread(target=call, args=("/driver",), daemon=True)
    driver.start()
    assert arrived.acquire(timeout=10)
    guest = threading.Thread(target=call, args=("/guest",), daemon=True)
    guest.start()
    assert arrived.acquire(timeout=10)
    loop.call_soon_threadsafe(released.set_result, None)
    driver.join(timeout=10)
    guest.join(timeout=10)
    assert not driver.is_alive()
    assert not guest.is_alive(), "the submitted request's caller was never answered"
    assert results == {"/driver": b"/driver", "/guest": b"/guest"}


def test_a_submitted_request_raising_system_exit_stops_only_its_own_caller() -> None:
    """An app calling sys.exit() in one thread's request: that caller gets SystemExit,
    the driving thread's request still completes, and later calls are served."""
    loop = shared_loop().loop
    released = loop.create_future()
    arrived = threading.Semaphore(0)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/exit":
            raise SystemExit(3)
        if scope["path"] == "/driver":
            arrived.release()
            await released
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    handler = make_handler(app, lifespan="off")
    outcomes: dict[str, object] = {}

    def call(path: str) -> None:
        event = build_event("alibaba_fc", "GET", path)
        try:
            returned = handler(event, build_context("alibaba_fc"))
        except BaseException as exc:  # SystemExit is what the /exit caller should get
            outcomes[path] = exc
        else:
            outcomes[path] = parse_response("alibaba_fc", returned).content

    driver = threading.Thread(target=call, args=("/driver",), daemon=True)
    driver.start()
    assert arrived.acquire(timeout=10)
    exiting = threading.Thread(target=call, args=("/exit",), daemon=True)
    exiting.start()
    exiting.join(timeout=10)
    loop.call_soon_threadsafe(released.set_result, None)
    driver.join(timeout=10)
    later = threading.Thread(target=call, args=("/later",), daemon=True)
    later.start()
    later.join(timeout=10)
    assert isinstance(outcomes.get("/exit"), SystemExit)
    assert outcomes.get("/driver") == b"/driver"
    assert outcomes.get("/later") == b"/later"

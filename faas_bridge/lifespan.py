"""The ASGI lifespan protocol, run once per process on the shared event loop.

States: ``NEW`` -> (startup) -> ``STARTED`` | ``UNSUPPORTED`` | ``FAILED``; ``STARTED`` ->
(interpreter exit, before Python joins non-daemon threads) -> ``STOPPED``. Startup happens
at the first invocation (or eagerly in ``make_handler``), guarded by a lock so that
concurrent first invocations start it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable
from typing import Any, Callable, Literal

from .errors import LifespanError
from .loop import SharedLoop, at_exit

__all__ = ["ASGIApp", "Lifespan", "LifespanMode", "Message", "Receive", "Scope", "Send"]

LifespanMode = Literal["auto", "on", "off"]
# The ASGI callable's types, shared by the lifespan protocol and the HTTP runner.
Message = dict[str, Any]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

NEW, STARTED, UNSUPPORTED, FAILED, STOPPED = "new", "started", "unsupported", "failed", "stopped"

logger = logging.getLogger("faas_bridge")

_ASGI = {"version": "3.0", "spec_version": "2.0"}


class Lifespan:
    """Startup once, shutdown at exit, and the ``state`` the app filled during startup."""

    __slots__ = (
        "_done",
        "_error",
        "_inbox",
        "_lock",
        "_loop",
        "_replies",
        "_task",
        "app",
        "mode",
        "ready",
        "state",
        "status",
        "timeout",
    )

    def __init__(self, app: ASGIApp, mode: LifespanMode, timeout: float, loop: SharedLoop) -> None:
        self.app = app
        self.mode = mode
        self.timeout = timeout
        self.state: dict[str, Any] = {}
        self.status = NEW
        #: True once requests may proceed (startup finished, or was skipped in "auto" mode).
        self.ready = False
        self._loop = loop
        self._lock = threading.Lock()
        self._error = ""
        self._inbox: asyncio.Queue[Message] | None = None
        self._replies: asyncio.Queue[Message] | None = None
        self._done: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run startup if it has not run yet; raise :class:`LifespanError` where ``on`` says so."""
        with self._lock:
            if self.status == NEW:
                self._loop.run(self._startup())
                if self.status == STARTED:
                    at_exit(self.shutdown)  # before the loop's own exit hook (last in, first out)
            if self.status == STARTED or self.mode != "on":
                self.ready = True
                return
        raise LifespanError(f"ASGI lifespan startup {self.status} (lifespan='on'): {self._error}")

    async def _startup(self) -> None:
        loop = asyncio.get_running_loop()
        self._inbox = asyncio.Queue()
        self._replies = asyncio.Queue()
        self._done = loop.create_future()
        scope = {"type": "lifespan", "asgi": _ASGI, "state": self.state}
        self._task = loop.create_task(self._main(scope))
        self._inbox.put_nowait({"type": "lifespan.startup"})
        try:
            reply = await asyncio.wait_for(self._replies.get(), self.timeout)
        except asyncio.TimeoutError:
            self._task.cancel()
            self._fail(FAILED, f"no answer to lifespan.startup within {self.timeout:g} s")
            return
        kind = reply["type"]
        if kind == "lifespan.startup.complete":
            self.status = STARTED
        elif kind == "lifespan.startup.failed":
            self._fail(FAILED, str(reply.get("message") or "lifespan.startup.failed"))
        else:  # the app raised or returned before answering: it does not do lifespan
            self._fail(UNSUPPORTED, str(reply.get("message", "")))

    def _fail(self, status: str, error: str) -> None:
        self.status = status
        self._error = error
        if self.mode == "on":
            return  # raised to the caller by start()
        if status == UNSUPPORTED:
            logger.info("the ASGI app does not support lifespan (%s); continuing", error)
        else:
            logger.error("ASGI lifespan startup failed: %s; serving requests anyway", error)

    async def _main(self, scope: dict[str, Any]) -> None:
        replies = self._replies
        assert replies is not None
        try:
            await self.app(scope, self._receive, self._send)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            if self.status == NEW:
                replies.put_nowait({"type": "unsupported", "message": f"{type(exc).__name__}"})
            elif self.status == STARTED:
                logger.exception("the ASGI lifespan task raised")
            else:
                logger.debug("the ASGI lifespan task raised", exc_info=True)
        else:
            replies.put_nowait({"type": "unsupported", "message": "the app returned"})
        finally:
            done = self._done
            if done is not None and not done.done():
                done.set_result(None)

    async def _receive(self) -> Message:
        inbox = self._inbox
        assert inbox is not None
        return await inbox.get()

    async def _send(self, message: Message) -> None:
        replies = self._replies
        assert replies is not None
        replies.put_nowait(message)

    def shutdown(self, timeout: float | None = None) -> None:
        """Send ``lifespan.shutdown`` and wait for the app to finish: ``timeout`` seconds in
        all (the lifespan's own timeout if omitted), its reply and its return together."""
        with self._lock:
            if self.status != STARTED:
                return
            self.status = STOPPED
            try:
                self._loop.run(self._shutdown(self.timeout if timeout is None else timeout))
            except Exception:
                logger.exception("ASGI lifespan shutdown failed")

    async def _shutdown(self, timeout: float) -> None:
        inbox, replies = self._inbox, self._replies
        assert inbox is not None
        assert replies is not None
        due = time.monotonic() + timeout
        inbox.put_nowait({"type": "lifespan.shutdown"})
        try:
            reply = await asyncio.wait_for(replies.get(), timeout)
        except asyncio.TimeoutError:
            logger.warning("no answer to lifespan.shutdown within %g s", timeout)
            if self._task is not None:
                self._task.cancel()
            return
        if reply["type"] == "lifespan.shutdown.failed":
            logger.error("ASGI lifespan shutdown failed: %s", reply.get("message", ""))
        if self._done is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._done), max(due - time.monotonic(), 0))

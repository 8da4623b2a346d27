"""The process's one event loop (:class:`SharedLoop`), driven on demand by whichever thread
needs it, and :func:`at_exit`, which runs a callback before Python joins non-daemon threads.

Imported by the ASGI runner and the lifespan protocol only: the WSGI event path never loads
asyncio.
"""

from __future__ import annotations

import asyncio
import logging
import selectors
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, Callable, TypeVar

from .errors import BridgeError

__all__ = ["SharedLoop", "at_exit", "shared_loop"]

T = TypeVar("T")

logger = logging.getLogger("faas_bridge")

_get_running_loop = asyncio._get_running_loop  # the C fast path of "am I inside a loop?"


class _QuietSelector(selectors.DefaultSelector):
    """asyncio's selector without the system call of a zero-timeout poll made while nothing
    but the loop's own wake-up socket is registered.

    asyncio polls with timeout 0 on every loop iteration that has callbacks ready, which in
    event mode is every invocation. With no socket of the app registered, all such a poll
    could report is the wake-up byte another thread wrote after queuing its callback, and
    that callback is already in the ready queue: the byte waits for the next poll that
    waits. Any registered socket (an app's database connection) restores every poll, and so
    does a signal handler (:class:`_QuietLoop`): signals arrive as bytes on that socket.
    """

    _count = 0  # registered file objects; the first one is the loop's wake-up socket
    signals = False  # the loop has had a signal handler: poll every time

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        key = super().register(fileobj, events, data)
        self._count += 1
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        key = super().unregister(fileobj)
        self._count -= 1
        return key

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout == 0 and self._count <= 1 and not self.signals:
            return []
        return super().select(timeout)


class _QuietLoop(asyncio.SelectorEventLoop):
    """asyncio's Unix loop on a :class:`_QuietSelector`, which it tells about signal
    handlers (the skipped polls would otherwise hold their signals back)."""

    def __init__(self) -> None:
        self._quiet_selector = _QuietSelector()
        super().__init__(self._quiet_selector)

    # typeshed types the arguments with a TypeVarTuple, which Python 3.9 code cannot spell
    def add_signal_handler(  # type: ignore[override]
        self, sig: int, callback: Callable[..., object], *args: Any
    ) -> None:
        self._quiet_selector.signals = True
        super().add_signal_handler(sig, callback, *args)


def _new_loop() -> asyncio.AbstractEventLoop:
    """A new event loop from the current policy; asyncio's stock Unix loop (not a loop
    a policy such as uvloop's chose, nor Windows' proactor) becomes a :class:`_QuietLoop`."""
    loop = asyncio.new_event_loop()
    if type(loop) is asyncio.SelectorEventLoop:  # asking the policy instead is deprecated
        loop.close()  # in Python 3.14; this costs one socket pair, once per process
        loop = _QuietLoop()
    return loop


class SharedLoop:
    """The process's one event loop, driven on demand by whichever thread needs it.

    A thread that needs the loop while nobody drives it drives it itself with
    ``run_until_complete``: a single-threaded runtime never hops threads. A thread that
    arrives while another one drives the loop submits its coroutine to that running loop
    and waits, so the awaits of concurrent invocations (Alibaba FC instance concurrency)
    overlap. When the driving thread's own coroutine is done while submitted ones are still
    pending, it hands the loop to a background thread that drives until none is left, and
    returns at once: nothing is stranded and no caller waits for another caller's request.
    Who drives is decided under one lock, so only one thread runs the loop at any time.
    """

    __slots__ = ("_driving", "_idle", "_lock", "_pending", "loop")

    def __init__(self) -> None:
        self.loop = _new_loop()
        self._lock = threading.Lock()
        self._driving = False  # a thread is (about to be) inside run_until_complete
        self._pending = 0  # coroutines submitted by threads that do not drive
        self._idle: asyncio.Future[None] | None = None  # resolved when _pending drops to 0

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the shared loop and return its result; callable from any thread."""
        if _get_running_loop() is not None:
            return self._run_from_async_context(coro)
        lock = self._lock
        lock.acquire()
        if self._driving:
            self._pending += 1
            lock.release()
            answer: Future[T] = Future()
            self.loop.call_soon_threadsafe(self._start_guest, coro, answer)
            return answer.result()
        self._driving = True
        lock.release()
        loop = self.loop
        # run_forever until the task stops the loop itself: one loop iteration for a task
        # that never waits, where run_until_complete takes two (about half its cost).
        task = loop.create_task(self._stop_when_done(coro))
        try:
            loop.run_forever()
            if not task.done():  # something else stopped the loop early
                loop.run_until_complete(task)
        finally:
            lock.acquire()
            if self._pending:  # submitted coroutines still running: a thread takes over
                lock.release()
                self._hand_off()
            else:
                self._driving = False
                lock.release()
        return task.result()

    async def _stop_when_done(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            return await coro
        finally:
            self.loop.stop()

    def _hand_off(self) -> None:
        threading.Thread(
            target=self._drive_until_idle, name="faas-bridge-loop", daemon=True
        ).start()

    def _drive_until_idle(self) -> None:
        loop = self.loop
        while True:
            with self._lock:
                if not self._pending:
                    self._driving = False
                    self._idle = None
                    return
                idle = self._idle = loop.create_future()
            try:
                loop.run_until_complete(idle)
            except BaseException:  # a task's SystemExit, say: callers still wait, drive on
                logger.exception("an error escaped the shared event loop; it keeps running")

    def _start_guest(self, coro: Coroutine[Any, Any, T], answer: Future[T]) -> None:
        self.loop.create_task(self._guest(coro, answer))

    async def _guest(self, coro: Coroutine[Any, Any, T], answer: Future[T]) -> None:
        """A submitted coroutine, counted as pending until its caller has the outcome.

        The outcome goes to the waiting thread from here, not from a done-callback of the
        task: such a callback waits for the loop's next iteration, and when the driving
        thread stops the loop in this one, nothing would run it.
        """
        try:
            try:
                result = await coro
            except BaseException as exc:  # SystemExit and the like too: they are the caller's
                answer.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise  # this task itself was cancelled
            else:
                answer.set_result(result)
        finally:
            with self._lock:
                self._pending -= 1
                idle = self._idle
                if not self._pending and idle is not None and not idle.done():
                    idle.set_result(None)

    def _run_from_async_context(self, coro: Coroutine[Any, Any, T]) -> T:
        """Called synchronously from async code (another loop): run from a helper thread."""
        if _get_running_loop() is self.loop:
            coro.close()
            raise BridgeError("a faas_bridge handler was called synchronously from its own loop")
        outcome: list[tuple[bool, Any]] = []

        def target() -> None:
            try:
                outcome.append((True, self.run(coro)))
            except BaseException as exc:  # re-raised in the calling thread below
                outcome.append((False, exc))

        helper = threading.Thread(target=target, name="faas-bridge-call", daemon=True)
        helper.start()
        helper.join()
        ok, value = outcome[0]
        if not ok:
            raise value
        result: T = value
        return result

    def close(self) -> None:
        """At interpreter exit: run the callbacks still queued on the loop, then close it.

        A task's done-callbacks are queued for the loop's next iteration, and the loop only
        runs during invocations, so the last invocation's ones are still waiting: among them
        anyio's signal to stop its worker threads (FastAPI's sync endpoints), which are not
        daemon threads. The loop is closed only when no task is left on it.
        """
        if self._driving or self.loop.is_closed():
            return  # another thread drives it: its own calls flush the queue
        self.run(_flush())
        if not asyncio.all_tasks(self.loop):
            self.loop.close()


async def _flush() -> None:
    for _ in range(3):  # callbacks queued by callbacks get their turn too
        await asyncio.sleep(0)


def at_exit(callback: Callable[[], object]) -> None:
    """Call ``callback`` at interpreter exit, before Python joins non-daemon threads.

    :mod:`atexit` runs too late: ``threading._shutdown`` first waits for every non-daemon
    thread, and anyio's worker threads only stop once the loop runs the lifespan shutdown
    and their stop callbacks, so the process would hang. Hooks run last-registered first,
    as concurrent.futures' own exit hook does; plain :mod:`atexit` is the fallback.
    """
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        try:
            register(callback)
            return
        except RuntimeError:  # the interpreter is already shutting down its threads
            pass
    import atexit

    atexit.register(callback)


_shared: SharedLoop | None = None
_shared_lock = threading.Lock()


def shared_loop() -> SharedLoop:
    """The process-wide :class:`SharedLoop`, created on first use (and closed at exit)."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = SharedLoop()
                at_exit(_shared.close)
    return _shared

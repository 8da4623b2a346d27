"""Instance lifecycle hooks: ``Handler.initializer(context)`` and ``Handler.pre_stop(context)``,
which Alibaba FC 3.0 calls once per instance before its first invocation and before the
instance is released (its Initializer and PreStop hooks; the web-mode middleware maps FC's
``/initialize`` and ``/pre-stop`` control calls to them too).

The initializer starts an ASGI app's lifespan and runs the user's ``on_startup`` callables;
``pre_stop`` waits (up to half of ``startup_timeout``) for running invocations to finish,
runs the ``on_shutdown`` callables, then the ASGI lifespan shutdown in the rest of
``startup_timeout``: its own waiting never exceeds ``startup_timeout``, so with the default
30 s and the generated 60 s PreStop timeout the hooks keep 30 s. Each runs at most once per
process, under a lock, whatever order and concurrency the calls come in; each is logged
with its duration. Without an initializer call (other clouds, or the hook not configured),
the lifespan starts at the first invocation as before, and shutdown waits for interpreter
exit; the user's ``on_startup`` callables then run at the first invocation.
"""

from __future__ import annotations

import logging
import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    from .http import Request, Response

    Hook = Callable[[], object]

__all__ = ["WEB_REQUESTS", "Counted", "InFlight", "Lifecycle", "hooks_from", "run_web_hook"]

logger = logging.getLogger("faas_bridge")

NEW, STARTED, STOPPED = "new", "started", "stopped"

# The lifecycle of the last handler made with user hooks: the web-mode middleware runs it.
_registered: list[Lifecycle] = []


def hooks_from(value: Any, name: str) -> tuple[Hook, ...]:
    """``on_startup=``/``on_shutdown=`` as a tuple: one callable, or an iterable of them."""
    from .errors import ConfigurationError

    if value is None:
        return ()
    hooks = (value,) if callable(value) else tuple(value)
    for hook in hooks:
        if not callable(hook):
            raise ConfigurationError(f"{name} takes callables, not {type(hook).__name__}")
    return hooks


class Counted:
    """Wraps a runner: runs the first-call start-up when no initializer ran, and tracks the
    invocations in it (list appends and pops are atomic: no lock per call), so ``pre_stop``
    can wait for them."""

    __slots__ = ("_running", "before", "run")

    def __init__(self, run: Callable[[Request], Response]) -> None:
        self.run = run
        self.before: Callable[[], None] | None = None
        self._running: list[None] = []

    def __call__(self, request: Request) -> Response:
        if self.before is not None:
            self.before()
        running = self._running
        running.append(None)
        try:
            return self.run(request)
        finally:
            running.pop()

    def wait_idle(self, seconds: float) -> bool:
        """Whether every running invocation finished within ``seconds`` (polled)."""
        return _wait_empty(self._running, seconds)

    def __getattr__(self, name: str) -> Any:  # the runner's own attributes (lifespan...)
        return getattr(self.run, name)


class InFlight:
    """The requests a web-mode server is handing to the app (the middleware counts them:
    they do not pass through the handler), which FC's /pre-stop waits for too."""

    __slots__ = ("_running",)

    def __init__(self) -> None:
        self._running: list[None] = []

    def enter(self) -> None:
        self._running.append(None)

    def leave(self) -> None:
        self._running.pop()

    def wait_idle(self, seconds: float) -> bool:
        """Whether every request finished within ``seconds`` (polled)."""
        return _wait_empty(self._running, seconds)


WEB_REQUESTS = InFlight()


def _wait_empty(running: list[None], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while running:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


class Lifecycle:
    """The once-per-process startup and shutdown of one handler's app."""

    __slots__ = ("_lock", "_ran", "_state", "on_shutdown", "on_startup", "run", "timeout")

    def __init__(
        self,
        run: Any,
        on_startup: tuple[Hook, ...],
        on_shutdown: tuple[Hook, ...],
        timeout: float,
    ) -> None:
        self.run = run  # the handler's runner: an AsgiRunner has .lifespan
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown
        self.timeout = timeout
        self._lock = threading.Lock()
        self._state = NEW
        self._ran = 0  # on_startup hooks that succeeded: a retried start-up skips them
        if on_startup and isinstance(run, Counted):
            run.before = self.start_on_first_call
        if on_startup or on_shutdown:
            _registered[:] = [self]

    @property
    def started(self) -> bool:
        return self._state != NEW

    def initializer(self, context: Any = None, *, lifespan: bool = True) -> None:
        """Start the app: ASGI lifespan startup (``lifespan=True``), then ``on_startup``.

        Raises what a hook raised (and :class:`~faas_bridge.LifespanError` with
        ``lifespan="on"``), so the cloud records the initialisation as failed. A later call
        retries from the hook that failed: the ones before it ran once.
        """
        self._start(lifespan, quiet=False)

    def _start(self, lifespan: bool, quiet: bool) -> None:
        with self._lock:
            if self._state != NEW:
                if not quiet:
                    logger.info("initializer: already ran in this instance; nothing to do")
                return
            started = time.perf_counter()
            if lifespan:
                span = getattr(self.run, "lifespan", None)
                if span is not None:
                    span.start()
            while self._ran < len(self.on_startup):
                hook = self.on_startup[self._ran]
                try:
                    hook()
                except Exception:
                    logger.exception("initializer: on_startup hook %s failed", _name(hook))
                    raise
                self._ran += 1
            self._state = STARTED
            if isinstance(self.run, Counted):
                self.run.before = None
            logger.info("initializer: done in %.0f ms", (time.perf_counter() - started) * 1000)

    def start_on_first_call(self) -> None:
        """The first invocation without an initializer call runs ``on_startup`` itself."""
        if self._state == NEW:
            self._start(True, quiet=True)  # concurrent first calls wait here, silently

    def pre_stop(self, context: Any = None, *, lifespan: bool = True, running: Any = None) -> None:
        """Stop the app: wait for running invocations (the runner's, or ``running``'s:
        web mode's requests), ``on_shutdown``, ASGI lifespan shutdown. Never raises: a
        failing hook is logged and the others still run."""
        with self._lock:
            if self._state == STOPPED:
                logger.info("pre_stop: already ran in this instance; nothing to do")
                return
            self._state = STOPPED
            started = time.perf_counter()
            # Its own budget is ``timeout`` in all, so that the cloud's PreStop limit is not
            # spent before the app's shutdown ran: half of it at most for the invocations
            # still running, the rest for the lifespan shutdown (on_shutdown hooks take what
            # they take: they are the user's).
            wait_idle = getattr(running or self.run, "wait_idle", None)
            if wait_idle is not None and not wait_idle(self.timeout / 2):
                logger.warning(
                    "pre_stop: invocations still running after %g s; stopping anyway",
                    self.timeout / 2,
                )
            waited = time.perf_counter() - started
            for hook in self.on_shutdown:
                try:
                    hook()
                except Exception:
                    logger.exception("pre_stop: on_shutdown hook %s failed", _name(hook))
            span = getattr(self.run, "lifespan", None) if lifespan else None
            if span is not None:
                span.shutdown(self.timeout - waited)
            logger.info("pre_stop: done in %.0f ms", (time.perf_counter() - started) * 1000)


def run_web_hook(name: str, context: Any) -> int:
    """Web mode: run the registered handler's ``initializer`` or ``pre_stop`` (user hooks
    only: the server runs an ASGI app's lifespan itself; ``pre_stop`` waits for the requests
    the middleware counts in :data:`WEB_REQUESTS`). The HTTP status to answer."""
    if not _registered:
        return 200
    lifecycle = _registered[0]
    try:
        if name == "initializer":
            lifecycle.initializer(context, lifespan=False)
        elif name == "pre_stop":
            lifecycle.pre_stop(context, lifespan=False, running=WEB_REQUESTS)
    except Exception:  # logged by the hook runner
        return 500
    return 200


def _name(hook: Any) -> str:
    return str(getattr(hook, "__qualname__", None) or repr(hook))

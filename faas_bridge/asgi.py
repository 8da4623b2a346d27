"""The ASGI runner: an HTTP scope from a :class:`Request`, the app run on the process's one
event loop, its messages collected into a :class:`Response`. Knows nothing about clouds.

Event mode answers with one integrated response, so a streamed body is buffered until it
completes, or until the invocation's deadline, whichever comes first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from time import monotonic as _monotonic
from typing import Any

from .errors import AppResponseError, MalformedEventError
from .http import _PATH_SAFE, HeaderList, Request, Response, is_token, loggable, remember
from .lifespan import ASGIApp, Lifespan, LifespanMode, Message, Receive, Scope, Send
from .loop import SharedLoop, shared_loop
from .platforms import alibaba_fc

__all__ = [
    "ASGIApp",
    "AsgiRunner",
    "SharedLoop",
    "as_asgi3",
    "build_scope",
    "request_from_environ",
    "shared_loop",
]


logger = logging.getLogger("faas_bridge")

_ASGI_VERSION = {"version": "3.0", "spec_version": "2.3"}
_current_task = asyncio.current_task

# Fraction of the platform's time limit kept free for rendering and returning the response,
# capped at _MARGIN_MAX seconds.
_MARGIN_SHARE = 0.2
_MARGIN_MAX = 1.0


# --------------------------------------------------------------------------------------------
# Scope


# Header name -> lower-case bytes, filled as names are seen (they repeat across calls).
_HEADER_NAMES: dict[str, bytes] = {}


_NAME_SETS: dict[tuple[str, ...], tuple[bytes, ...]] = {}
_DEADLINES: dict[float, float] = {}  # a context's time limit -> seconds the app may run


def _header_name(name: str) -> bytes:
    return remember(_HEADER_NAMES, name, name.lower().encode("ascii"))


def _scope_path(path: str) -> str:
    """The decoded path as uvicorn gives it: bytes that are not UTF-8 become U+FFFD (the
    Request keeps them as surrogate escapes, which WSGI needs and ASGI apps cannot encode)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def build_scope(request: Request, state: Mapping[str, Any] | None = None) -> Scope:
    """The ASGI HTTP scope for a request, as uvicorn would build it from the same HTTP.

    ``path`` includes ``root_path`` (as current servers do), ``raw_path`` is the public
    path as sent, ``state`` a shallow copy of the lifespan state.
    """
    root_path = request.root_path
    header_map = request.header_map  # the event's flat headers object, when it was one
    headers = None
    if header_map is not None:
        # Clients send the same set of header names call after call: their encoded forms
        # are looked up once per set, and the values encoded at C speed.
        names = tuple(header_map)
        encoded_names = _NAME_SETS.get(names)
        if encoded_names is not None:
            try:
                headers = list(zip(encoded_names, map(str.encode, header_map.values())))
            except UnicodeEncodeError:  # surrogate escapes: the general way below
                headers = None
    if headers is None:
        known = _HEADER_NAMES.get
        pairs = header_map.items() if header_map is not None else request.headers
        try:
            headers = [
                (known(name) or _header_name(name), value.encode("utf-8", "surrogateescape"))
                for name, value in pairs
                if is_token(name)  # a non-ASCII name (Kelvin sign "K") could fold onto another
            ]
        except UnicodeEncodeError:  # only a forged event holds an unpaired surrogate escape
            raise MalformedEventError("a header name or value is not valid Unicode text") from None
        if header_map is not None and len(headers) == len(header_map):
            remember(_NAME_SETS, names, tuple(name for name, _ in headers))
    path = root_path + request.path if root_path else request.path
    # A copy of the prepared scope with its per-request items set costs less than a dict
    # display of all seventeen.
    scope = _SCOPE.copy()
    scope["method"] = request.method
    scope["scheme"] = request.scheme
    scope["path"] = path if path.isascii() else _scope_path(path)
    scope["raw_path"] = request.raw_path
    scope["query_string"] = request.query_string
    scope["root_path"] = root_path
    scope["headers"] = headers
    scope["client"] = request.client
    scope["server"] = request.server
    scope["state"] = dict(state) if state else {}
    scope["faas_bridge.event"] = request.event
    scope["faas_bridge.context"] = request.context
    scope["faas_bridge.platform"] = request.platform
    scope["faas_bridge.request_id"] = request.request_id
    return scope


# The HTTP scope in the order uvicorn gives it, then faas_bridge's own keys; None for the
# items build_scope sets per request.
_SCOPE: Scope = {
    "type": "http",
    "asgi": _ASGI_VERSION,
    "http_version": "1.1",
    "method": None,
    "scheme": None,
    "path": None,
    "raw_path": None,
    "query_string": None,
    "root_path": None,
    "headers": None,
    "client": None,
    "server": None,
    "state": None,
    "faas_bridge.event": None,
    "faas_bridge.context": None,
    "faas_bridge.platform": None,
    "faas_bridge.request_id": None,
}


# --------------------------------------------------------------------------------------------
# One HTTP request/response cycle


class _HttpCycle(Response):
    """``receive`` and ``send`` for one request; the response they collect is the cycle
    itself (``status`` and ``headers`` from the start message, ``body`` once complete).

    States: request body not yet read -> read; response not started -> started ->
    complete. ``receive`` after the body waits for the response to complete and then
    reports ``http.disconnect``, as a server does when the client has gone.
    """

    __slots__ = ("chunks", "complete", "due", "request_body", "timed_out", "waiter")

    def __init__(self, request_body: bytes) -> None:
        # Response's fields are set here rather than by its __init__: one call less on the
        # path every invocation takes.
        self.status = 0
        self.headers: HeaderList = []
        self.body = b""
        self.facts = None
        self.request_body: bytes | None = request_body
        self.chunks: list[bytes] = []
        self.complete = False
        self.timed_out = False
        self.waiter: asyncio.Future[None] | None = None
        self.due = 0.0  # time.monotonic() of the deadline, when one is watched

    async def receive(self) -> Message:
        body = self.request_body
        if body is not None:
            self.request_body = None
            return {"type": "http.request", "body": body, "more_body": False}
        if not self.complete:
            waiter = self.waiter
            if waiter is None:
                waiter = self.waiter = asyncio.get_running_loop().create_future()
            await waiter
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.body":
            if not self.status:
                raise AppResponseError("http.response.body sent before http.response.start")
            if self.complete:
                return
            chunk = message.get("body", b"")
            if chunk:
                if type(chunk) is not bytes:
                    if not isinstance(chunk, (bytearray, memoryview)):
                        raise AppResponseError(f"body must be bytes, not {type(chunk).__name__}")
                    chunk = bytes(chunk)
                self.chunks.append(chunk)
            if not message.get("more_body", False):
                self.complete = True
                waiter = self.waiter
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
        elif kind == "http.response.start":
            if self.status:
                raise AppResponseError("http.response.start sent twice")
            status = message["status"]
            if type(status) is not int or not 100 <= status <= 599:
                raise AppResponseError(f"invalid ASGI status {status!r}")
            headers: HeaderList = []
            try:  # a plain loop: a list comprehension is a function call before Python 3.12
                for name, value in message.get("headers", ()):
                    headers.append((name.decode("latin-1"), value.decode("latin-1")))
            except (AttributeError, TypeError, ValueError):
                raise AppResponseError(
                    "ASGI response headers must be an iterable of (bytes, bytes) pairs"
                ) from None
            self.headers = headers
            self.status = status
        # Anything else (trailers, extensions the scope does not announce) is ignored.

    def expire(self, task: asyncio.Task[Any] | None) -> None:
        """The invocation's deadline passed: stop the app (running as ``task``) and return
        what was collected."""
        self.timed_out = True
        if task is not None:
            task.cancel()

    def response(self) -> Response:
        """The collected response: the cycle itself, its body joined from the chunks."""
        chunks = self.chunks
        if len(chunks) == 1:
            self.body = chunks[0]
        elif chunks:
            self.body = b"".join(chunks)
            chunks.clear()  # one copy of a streamed body is enough
        return self


class _Watchdog:
    """Expires the cycles whose deadline has passed, with one timer for all of them.

    A timer per call would cost more than the rest of the per-call path; the watchdog's
    timer is set for the earliest deadline and only moved when a call brings an earlier
    one, so a steady stream of calls with the same time limit costs a dict insertion each.
    Deadlines are kept in :func:`time.monotonic` seconds (the loop's own clock may differ,
    as uvloop's does, so the timer is set by delay). Used from the loop's thread only.
    """

    __slots__ = ("active", "due", "handle", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.active: dict[_HttpCycle, asyncio.Task[Any] | None] = {}  # cycle -> its task
        self.due = float("inf")
        self.handle: asyncio.TimerHandle | None = None

    def watch(self, cycle: _HttpCycle, due: float) -> None:
        """Expire ``cycle`` at ``due`` (a :func:`time.monotonic` time, possibly past)."""
        cycle.due = due
        seconds = max(0.0, due - _monotonic())
        # The task is kept here, not on the cycle: the cycle is the task's result, and a
        # reference back would leave the pair for the garbage collector.
        self.active[cycle] = _current_task()
        if due < self.due:
            if self.handle is not None:
                self.handle.cancel()
            self.due = due
            self.handle = self.loop.call_later(seconds, self._fire)

    def _fire(self) -> None:
        now = _monotonic()
        self.handle = None
        next_due = float("inf")
        active = self.active
        for cycle, task in list(active.items()):
            if cycle.due <= now:
                del active[cycle]
                cycle.expire(task)
            elif cycle.due < next_due:
                next_due = cycle.due
        self.due = next_due
        if active:
            self.handle = self.loop.call_later(max(0.0, next_due - now), self._fire)


# --------------------------------------------------------------------------------------------
# The runner


def as_asgi3(app: Any, double_callable: bool) -> ASGIApp:
    """An ASGI 3 callable for ``app``; ASGI 2 apps (``app(scope)`` returning an awaitable
    instance taking ``(receive, send)``) are wrapped once, here."""
    if not double_callable:
        asgi3: ASGIApp = app
        return asgi3

    async def asgi2_adapter(scope: Scope, receive: Receive, send: Send) -> None:
        instance = app(scope)
        await instance(receive, send)

    return asgi2_adapter


def time_limit(context: Any) -> float | None:
    """The invocation's time limit in seconds from a platform context, if it says.

    Tencent SCF and CloudBase: ``context["time_limit_in_ms"]``; Alibaba FC:
    ``context.function.timeout`` (seconds).
    """
    if context is None:
        return None
    # Plain type checks first: this runs on every call, and FC's object is no Mapping.
    function = None if type(context) is dict else getattr(context, "function", None)
    if function is not None:
        value = getattr(function, "timeout", None)
        scale = 1.0
    elif type(context) is dict or isinstance(context, Mapping):
        value = context.get("time_limit_in_ms")
        scale = 0.001
    else:
        return None
    if type(value) is int and value > 0:  # the usual case
        return value * scale
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value) * scale
    return None


class AsgiRunner:
    """Runs an ASGI app for one :class:`Request` at a time, from any number of threads."""

    __slots__ = ("app", "deadline", "lifespan", "loop", "watchdog")

    def __init__(
        self,
        app: ASGIApp,
        *,
        lifespan: LifespanMode = "auto",
        startup_timeout: float = 30.0,
        deadline: float | None = None,
    ) -> None:
        self.app = app
        self.loop = shared_loop()
        self.deadline = deadline
        self.watchdog = _Watchdog(self.loop.loop)
        self.lifespan = (
            Lifespan(app, lifespan, startup_timeout, self.loop) if lifespan != "off" else None
        )

    def start_lifespan(self) -> None:
        """Run lifespan startup now instead of at the first invocation."""
        if self.lifespan is not None:
            self.lifespan.start()

    def __call__(self, request: Request) -> Response:
        # The invocation's clock starts here, before a lifespan startup and before the
        # wait for a loop busy with other calls: the platform's clock is already running.
        started = _monotonic()
        lifespan = self.lifespan
        if lifespan is not None and not lifespan.ready:
            lifespan.start()
        return self.loop.run(self.respond(request, started))

    async def respond(self, request: Request, started: float | None = None) -> Response:
        """Run the app for ``request`` on the running loop and collect its response; the
        deadline counts from ``started`` (a :func:`time.monotonic` time; now if omitted)."""
        lifespan = self.lifespan
        scope = build_scope(request, lifespan.state if lifespan is not None else None)
        cycle = _HttpCycle(request.body)
        seconds = self.deadline
        if seconds is None:
            limit = time_limit(request.context)
            if limit is not None:  # the same few limits come back call after call
                seconds = _DEADLINES.get(limit) or remember(
                    _DEADLINES, limit, limit - min(_MARGIN_MAX, limit * _MARGIN_SHARE)
                )
        if seconds is not None:
            self.watchdog.watch(cycle, (started or _monotonic()) + seconds)
        try:
            await self.app(scope, cycle.receive, cycle.send)
        except asyncio.CancelledError:
            if not cycle.timed_out:
                raise
            _uncancel()
            return _timed_out(cycle, request, seconds)
        except Exception:
            if not cycle.complete:
                raise  # the handler answers 500 (or re-raises, with on_error="raise")
            # Starlette and FastAPI answer an endpoint's exception with a 500 and then
            # re-raise it to the server: an ordinary app error, logged as one.
            logger.exception(
                "%s %s answered %d, then the app raised (request id %s)",
                loggable(request.method),
                request.raw_path.decode("ascii", "backslashreplace"),
                cycle.status,
                loggable(request.request_id or "-"),
            )
        finally:
            if seconds is not None:
                self.watchdog.active.pop(cycle, None)
        if not cycle.status:
            raise AppResponseError("the app returned without sending http.response.start")
        return cycle.response()


def _uncancel() -> None:
    """Python 3.11+: clear the cancellation request the deadline made on this task."""
    task = _current_task()
    uncancel = getattr(task, "uncancel", None)
    if uncancel is not None:
        uncancel()


def _timed_out(cycle: _HttpCycle, request: Request, seconds: float | None) -> Response:
    if cycle.complete:
        logger.warning(
            "%s %s: background work after the response was still running after %.3g s "
            "(the invocation's deadline); cancelled it",
            loggable(request.method),
            request.raw_path.decode("ascii", "backslashreplace"),
            seconds,
        )
        return cycle.response()
    if cycle.status:
        logger.warning(
            "%s %s: the response was not complete after %.3g s (the invocation's deadline); "
            "returning the %d bytes collected so far",
            loggable(request.method),
            request.raw_path.decode("ascii", "backslashreplace"),
            seconds,
            sum(map(len, cycle.chunks)),
        )
        return cycle.response()
    logger.warning(
        "%s %s: no response after %.3g s (the invocation's deadline); answering 504",
        loggable(request.method),
        request.raw_path.decode("ascii", "backslashreplace"),
        seconds,
    )
    body = b'{"error": "deadline", "message": "the app did not respond in time"}'
    return Response(504, [("Content-Type", "application/json")], body)


# --------------------------------------------------------------------------------------------
# Alibaba FC 2.0: a WSGI call turned into a Request


def request_from_environ(environ: Mapping[str, Any]) -> Request:
    """A :class:`Request` from a WSGI environ (Alibaba FC 2.0 HTTP triggers call handlers
    with ``handler(environ, start_response)``)."""
    from urllib.parse import quote

    headers: HeaderList = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if not value:
                continue
            name = key.replace("_", "-").lower()
        else:
            continue
        headers.append((name, _from_wsgi_str(value)))
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    body = b""
    if stream is not None:
        body = stream.read(length) if length > 0 else stream.read()
    root_path = _from_wsgi_str(environ.get("SCRIPT_NAME", ""))
    path = _from_wsgi_str(environ.get("PATH_INFO", "")) or "/"
    raw_path = quote(root_path + path, safe=_PATH_SAFE, errors="surrogateescape").encode("ascii")
    scheme = environ.get("wsgi.url_scheme", "http")
    remote = environ.get("REMOTE_ADDR")
    context = environ.get("fc.context")
    request_id = getattr(context, "request_id", None) or environ.get("HTTP_X_FC_REQUEST_ID", "")
    return Request(
        method=environ.get("REQUEST_METHOD", "GET"),
        path=path,
        raw_path=raw_path,
        query_string=environ.get("QUERY_STRING", "").encode("latin-1"),
        headers=headers,
        body=body,
        scheme=scheme,
        server=(
            environ.get("SERVER_NAME", "localhost"),
            int(environ.get("SERVER_PORT") or (443 if scheme == "https" else 80)),
        ),
        client=(remote, int(environ.get("REMOTE_PORT") or 0)) if remote else None,
        root_path=root_path,
        request_id=request_id if isinstance(request_id, str) else "",
        event=None,
        context=context,
        platform=alibaba_fc.NAME,
    )


def _from_wsgi_str(value: str) -> str:
    """A PEP 3333 str (UTF-8 bytes read as latin-1) back to the text it carries."""
    if value.isascii():
        return value
    return value.encode("latin-1").decode("utf-8", "surrogateescape")

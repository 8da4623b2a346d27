"""``make_handler``: wires a platform module, a runner and the error policy into one callable."""

from __future__ import annotations

from collections.abc import Mapping

from .errors import (
    ConfigurationError,
    LifespanError,
    MalformedEventError,
    UnknownEventError,
)
from .http import Request, Response, check_response, loggable, returned_size
from .options import Options
from .platforms import PLATFORMS, alibaba_fc, detect, get_platform

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds of cold start; annotations only
    from collections.abc import Iterable
    from typing import Any, Callable, Literal

    from .lifecycle import Lifecycle
    from .lifespan import LifespanMode
    from .options import FcCookieMode
    from .platforms import Platform

    Interface = Literal["wsgi", "asgi"]
    Runner = Callable[[Request], Response]

__all__ = ["Handler", "make_handler"]

_CO_COROUTINE = 0x80
_JSON_HEADERS = [("Content-Type", "application/json")]
_EMPTY_BODY_STATUSES = frozenset({204, 205, 304})


class Handler:
    """The callable ``make_handler`` returns: ``handler(event, context) -> response dict``.

    It also answers Alibaba FC 2.0's WSGI-style call ``handler(environ, start_response)``.
    """

    __slots__ = (
        "_lifecycle",
        "_on_event",
        "_options",
        "_platform",
        "_raise_errors",
        "_run",
        "_seen",
        "app",
        "interface",
    )

    def __init__(
        self,
        app: Any,
        interface: Interface,
        run: Runner,
        platform: Platform | None,
        options: Options,
        on_event: Callable[[Any, Any], Any] | None,
        raise_errors: bool,
    ) -> None:
        self.app = app
        self.interface = interface
        self._run = run
        self._platform = platform
        self._options = options
        self._on_event = on_event
        self._raise_errors = raise_errors
        self._seen: Platform | None = None

    def __call__(self, event: Any, context: Any = None) -> Any:
        if type(event) is not dict:
            if type(event) is bytes or isinstance(event, (bytearray, str)):
                event = _decode_json_event(event)  # FC 3.0: bytes of JSON
            elif isinstance(event, dict) and callable(context) and "REQUEST_METHOD" in event:
                return self._call_fc2(event, context)
            if type(event) is not dict and not isinstance(event, Mapping):
                return self._not_http(event, context)
        elif "REQUEST_METHOD" in event and callable(context):
            return self._call_fc2(event, context)

        platform = self._platform
        if platform is None:
            # The format this handler saw last is asked first (one call less than detect's
            # own "last first" on the path every warm call takes).
            platform = self._seen
            if platform is None or not platform.matches(event):
                platform = self._seen = detect(event)
                if platform is None:
                    return self._not_http(event, context)
        elif not platform.matches(event) and detect(event) is None:
            return self._not_http(event, context)

        options = self._options
        try:
            request = platform.parse(event, context, options)
        except MalformedEventError as exc:
            return platform.render(_error_response(400, "malformed_event", str(exc)), options)
        except (LookupError, TypeError, ValueError, AttributeError):
            return platform.render(
                _error_response(400, "malformed_event", f"unusable {platform.NAME} event"),
                options,
            )

        if request.body:  # most calls carry none: nothing to measure
            request_limit = options.request_limit
            if request_limit is None:
                request_limit = platform.REQUEST_LIMIT
            if request_limit and len(request.body) > request_limit:
                return platform.render(_too_large(request, "request", request_limit), options)

        # Running the app, checking its response and rendering it form one unit: whatever
        # fails in it (the app, its protocol, a header a gateway would refuse) is the
        # logged 500 rendered after it.
        try:
            response = self._run(request)
            check_response(response)
            if (
                request.method == "HEAD"
                or response.status in _EMPTY_BODY_STATUSES
                or response.status < 200
            ):
                response.body = b""
            returned = platform.render(response, options)
            response_limit = options.response_limit
            if response_limit is None:
                response_limit = platform.RESPONSE_LIMIT
            # The limit applies to the return value's JSON. Escaping grows text at most
            # sixfold (a control byte becomes \u00XX): smaller bodies need no measuring.
            if not response_limit or len(response.body) * 6 + 4096 <= response_limit:
                return returned
            size = returned_size(returned)
            if size <= response_limit:
                return returned
            response = _too_large(request, "response", response_limit, size)
        except LifespanError:
            raise  # lifespan="on" and startup failed: the instance cannot serve
        except MalformedEventError as exc:  # a header the runner cannot hand the app
            response = _error_response(400, "malformed_event", str(exc))
        except Exception:
            response = self._failed(request)
        return platform.render(response, options)

    def _respond(self, request: Request) -> Response:
        """The app's response to a request, or the logged 500 that replaces a failure."""
        try:
            response = self._run(request)
            check_response(response)
        except LifespanError:
            raise  # lifespan="on" and startup failed: the instance cannot serve
        except MalformedEventError as exc:  # found while building the scope
            response = _error_response(400, "malformed_event", str(exc))
        except Exception:
            response = self._failed(request)
        return response

    def _failed(self, request: Request) -> Response:
        """Inside ``except``: re-raise (``on_error="raise"``) or log and answer 500."""
        if self._raise_errors:
            raise  # the exception being handled by the caller
        _log_app_error(request)
        return _error_response(500, "internal_error", "Internal Server Error", request.request_id)

    def _not_http(self, event: Any, context: Any) -> Any:
        if self._on_event is not None:
            return self._on_event(event, context)
        raise UnknownEventError(_describe_unknown(event, self._platform))

    def _call_fc2(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Alibaba FC 2.0 HTTP trigger: the runtime calls the handler as a WSGI app."""
        context = environ.get("fc.context")
        environ.setdefault("faas_bridge.event", None)
        environ.setdefault("faas_bridge.context", context)
        environ.setdefault("faas_bridge.platform", alibaba_fc.NAME)
        request_id = getattr(context, "request_id", None)
        environ.setdefault(
            "faas_bridge.request_id", request_id if isinstance(request_id, str) else ""
        )
        if self.interface == "wsgi":
            return self.app(environ, start_response)
        return self._call_fc2_asgi(environ, start_response)

    def _call_fc2_asgi(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> list[bytes]:
        """An FC 2.0 WSGI call of an ASGI app: run on the shared loop like any event."""
        from http import HTTPStatus

        from .asgi import request_from_environ

        try:
            request = request_from_environ(environ)
        except (ValueError, UnicodeError):  # an environ no FC 2.0 runtime would build
            start_response("400 Bad Request", list(_JSON_HEADERS))
            return [b'{"error": "malformed_event", "message": "unusable FC 2.0 environ"}']
        response = self._respond(request)
        status = response.status
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        start_response(f"{status} {reason}", response.headers)
        if request.method == "HEAD" or status in _EMPTY_BODY_STATUSES or status < 200:
            return []
        return [response.body]

    def __repr__(self) -> str:
        platform = self._platform.NAME if self._platform else "auto"
        return f"<faas_bridge.Handler {self.interface} app={self.app!r} platform={platform}>"

    def initializer(self, context: Any = None) -> None:
        """Alibaba FC's Initializer hook (``index.initializer``): start the app once per
        instance, before its first invocation: ASGI lifespan startup, then ``on_startup``.
        Raises when start-up fails, so FC retries on a new instance."""
        self._lifecycle_of().initializer(context)

    def pre_stop(self, context: Any = None) -> None:
        """Alibaba FC's PreStop hook (``index.pre_stop``): wait for running invocations,
        run ``on_shutdown``, then ASGI lifespan shutdown. Once per instance; never raises."""
        self._lifecycle_of().pre_stop(context)

    def _unknown_event(self, event: Any, context: Any) -> Any:
        raise UnknownEventError(_describe_unknown(event, self._platform))

    def _lifecycle_of(self) -> Lifecycle:
        lifecycle: Lifecycle | None = getattr(self, "_lifecycle", None)
        if lifecycle is None:  # nothing to start or stop: made on demand (keeps imports light)
            from .lifecycle import Lifecycle

            lifecycle = self._lifecycle = Lifecycle(self._run, (), (), 30.0)
        return lifecycle


def make_handler(
    app: Any,
    *,
    platform: str | None = None,
    interface: Interface | None = None,
    base_path: str = "",
    stage_prefix: bool = True,
    text_mime_types: Iterable[str] = (),
    fc_cookies: FcCookieMode = "vary-case",
    trust_forwarded_for: bool = False,
    on_event: Callable[[Any, Any], Any] | None = None,
    on_error: Literal["respond", "raise"] = "respond",
    lifespan: LifespanMode = "auto",
    lifespan_eager: bool = False,
    startup_timeout: float = 30.0,
    deadline: float | None = None,
    request_limit: int | None = None,
    response_limit: int | None = None,
    events_path: str | None = None,
    on_startup: Callable[[], object] | Iterable[Callable[[], object]] | None = None,
    on_shutdown: Callable[[], object] | Iterable[Callable[[], object]] | None = None,
    record_events: bool | None = None,
    redact_headers: Iterable[str] = ("Authorization", "Cookie"),
    commands: bool = False,
) -> Handler:
    """Wrap a WSGI app (Flask, Django) or an ASGI app (FastAPI, Starlette) as a cloud-function
    handler.

    The handler answers HTTP events of Tencent SCF (API Gateway trigger and function URL),
    Tencent CloudBase (HTTP access service) and Alibaba Function Compute (3.0 HTTP trigger,
    and the FC 2.0 WSGI call), detecting the platform of each event.

    Args:
        app: the WSGI or ASGI application (ASGI 3, or an ASGI 2 class).
        platform: skip detection and treat every HTTP event as this format:
            one of ``faas_bridge.platforms.PLATFORM_NAMES`` (``"tencent_apigw"``...).
        interface: ``"wsgi"`` or ``"asgi"``; detected from the app when omitted.
        base_path: a path prefix (``"/api"``) stripped on a segment boundary and moved into
            ``SCRIPT_NAME``, so the app routes as if mounted there.
        stage_prefix: on Tencent API Gateway default domains, put ``/<stage>`` into
            ``SCRIPT_NAME`` (the public URL carries it, ``event.path`` does not).
        text_mime_types: media types (``"application/vnd.api+yaml"``, ``"font/*"``) to send
            as text in addition to the built-in list.
        fc_cookies: how several ``Set-Cookie`` headers travel in FC 3.0's string-to-string
            headers: ``"vary-case"`` (default), ``"join"``, ``"first"`` or ``"last"``.
        trust_forwarded_for: take the client address from ``X-Forwarded-For`` (which the
            client can forge) instead of the platform's own field.
        on_event: called as ``on_event(event, context)`` for events that are not HTTP
            requests (timers, queues); its return value is returned. Without it such events
            raise :class:`~faas_bridge.UnknownEventError`.
        on_error: ``"respond"`` answers an app exception with a logged 500; ``"raise"``
            lets it propagate so the platform records the invocation as failed.
        request_limit: largest request body in bytes (``None``: the platform's, 6,000,000 on
            Tencent and CloudBase, 32,000,000 on FC (the docs' "MB", read as decimal);
            ``0``: none); above it, a 413 JSON error.
        response_limit: largest return value in bytes, measured as its JSON (``None``: the
            platform's; ``0``: none); above it, a 502 JSON error and a log line.
        lifespan: ASGI only. ``"auto"`` runs the app's lifespan startup once per process
            and carries on (logged) if the app does not support it or it fails; ``"on"``
            requires it (:class:`~faas_bridge.LifespanError` otherwise); ``"off"`` skips it.
        lifespan_eager: ASGI only. Run lifespan startup in ``make_handler`` (at import, in
            the platform's initialisation phase) instead of at the first invocation.
        startup_timeout: ASGI only. Seconds lifespan startup (and shutdown) may take.
        deadline: ASGI only. Seconds an invocation may run before the response collected so
            far is returned (streaming apps). By default derived from the platform context:
            its time limit minus 20 % (at most 1 s) kept for returning the response.
        events_path: deliver every non-HTTP event (timer, queue, storage notification) to
            the app as ``POST <events_path>`` with the event as JSON body and its kind in
            ``X-Faas-Bridge-Event-Kind``; the app's answer (JSON decoded) is returned, an
            error status raises :class:`~faas_bridge.nonhttp.EventRouteError`. Requests
            from HTTP triggers to that path stay ordinary requests: the app tells them apart
            with :func:`faas_bridge.event_kind`. Not combinable with ``on_event``.
        on_startup: a callable (or several) run once per instance when it starts: in
            ``handler.initializer`` (FC's Initializer hook) if the cloud calls it, else at
            the first invocation. WSGI and ASGI apps alike.
        on_shutdown: a callable (or several) run in ``handler.pre_stop`` (FC's PreStop
            hook), after running invocations finished (up to half of ``startup_timeout``;
            the lifespan shutdown then has the rest of it).
        record_events: write each event to standard output (the function's log) as one
            ``FAAS_BRIDGE_EVENT {...}`` JSON line, credentials and ``redact_headers``
            redacted, long bodies cut (see :mod:`faas_bridge.record`). ``None`` (default):
            on when the environment variable ``FAAS_BRIDGE_RECORD_EVENTS`` is ``1``.
        redact_headers: header names (any case) whose values recording replaces.
        commands: run Django/Flask/Python commands sent as a direct-invoke event
            ``{"faas_bridge.command": {...}}`` (see :mod:`faas_bridge.commands`). Off by
            default: whoever may invoke the function can then run code in it.
    """
    if on_error not in ("respond", "raise"):
        raise ConfigurationError(f"on_error must be 'respond' or 'raise', not {on_error!r}")
    options = Options(
        base_path=base_path,
        stage_prefix=stage_prefix,
        text_mime_types=text_mime_types,
        fc_cookies=fc_cookies,
        trust_forwarded_for=trust_forwarded_for,
        request_limit=request_limit,
        response_limit=response_limit,
    )
    chosen = get_platform(platform) if platform is not None else None
    double_callable = False
    if interface is None:
        if _looks_like_asgi(app):
            interface = "asgi"
        elif _looks_like_asgi2(app):
            interface, double_callable = "asgi", True
        else:
            interface = "wsgi"
    elif interface == "asgi":
        double_callable = not _looks_like_asgi(app)
    elif interface != "wsgi":
        raise ConfigurationError(f"interface must be 'wsgi' or 'asgi', not {interface!r}")
    if not callable(app):
        raise ConfigurationError(f"app must be a WSGI or ASGI callable, not {type(app).__name__}")
    run: Runner
    if interface == "wsgi":
        from .wsgi import WsgiRunner

        run = WsgiRunner(app)
    else:
        run = _asgi_runner(
            app, double_callable, lifespan, lifespan_eager, startup_timeout, deadline
        )
    handler = Handler(app, interface, run, chosen, options, on_event, on_error == "raise")
    _add_lifecycle(handler, on_startup, on_shutdown, lifespan, startup_timeout)
    if events_path is not None:
        _route_events(handler, events_path)
    if commands:
        _run_commands(handler)
    if record_events is None:
        import os

        record_events = os.environ.get("FAAS_BRIDGE_RECORD_EVENTS", "") == "1"
    if record_events:
        from .record import make_recording

        if isinstance(redact_headers, str):
            raise ConfigurationError("redact_headers takes a list of header names")
        return make_recording(handler, redact_headers)
    return handler


def _add_lifecycle(
    handler: Handler,
    on_startup: Any,
    on_shutdown: Any,
    lifespan: LifespanMode,
    timeout: float,
) -> None:
    """``handler.initializer``/``pre_stop`` (see :mod:`.lifecycle`); the runner is wrapped
    (first-call start-up, counting running invocations) only where there is something to
    start or stop: user hooks, or an ASGI app's lifespan."""
    nothing_to_run = handler.interface == "wsgi" or lifespan == "off"
    if on_startup is None and on_shutdown is None and nothing_to_run:
        return  # Handler._lifecycle_of makes an empty one if FC calls the hooks
    from .lifecycle import Counted, Lifecycle, hooks_from

    startup = hooks_from(on_startup, "on_startup")
    shutdown = hooks_from(on_shutdown, "on_shutdown")
    handler._run = Counted(handler._run)
    handler._lifecycle = Lifecycle(handler._run, startup, shutdown, timeout)


def _run_commands(handler: Handler) -> None:
    """Command events run before any other non-HTTP handling (see :mod:`.commands`)."""
    from .commands import CommandRunner

    fallback = handler._on_event
    if fallback is None:
        fallback = handler._unknown_event
    handler._on_event = CommandRunner(handler.app, fallback)


def _route_events(handler: Handler, events_path: str) -> None:
    """Non-HTTP events go to the app as ``POST events_path`` (see :mod:`.nonhttp`)."""
    from .nonhttp import EventRoute, check_events_path

    if handler._on_event is not None:
        raise ConfigurationError("give on_event or events_path, not both")
    handler._on_event = EventRoute(check_events_path(events_path), handler._respond)


def _asgi_runner(
    app: Any,
    double_callable: bool,
    lifespan: LifespanMode,
    lifespan_eager: bool,
    startup_timeout: float,
    deadline: float | None,
) -> Runner:
    if lifespan not in ("auto", "on", "off"):
        raise ConfigurationError(f"lifespan must be 'auto', 'on' or 'off', not {lifespan!r}")
    if not startup_timeout > 0:
        raise ConfigurationError(f"startup_timeout must be positive, not {startup_timeout!r}")
    if deadline is not None and not deadline > 0:
        raise ConfigurationError(f"deadline must be positive seconds or None, not {deadline!r}")
    from .asgi import AsgiRunner, as_asgi3

    runner = AsgiRunner(
        as_asgi3(app, double_callable),
        lifespan=lifespan,
        startup_timeout=startup_timeout,
        deadline=deadline,
    )
    if lifespan_eager:
        runner.start_lifespan()
    return runner


def _looks_like_asgi2(app: Any) -> bool:
    """ASGI 2 "double callables": a class whose instances are awaited with (receive, send),
    or an app marked ``_asgi_double_callable`` (asgiref's marker)."""
    if getattr(app, "_asgi_double_callable", False):
        return True
    return isinstance(app, type) and _looks_like_asgi(getattr(app, "__call__", None))  # noqa: B004


def _looks_like_asgi(app: Any) -> bool:
    """ASGI apps are coroutine functions or objects whose ``__call__`` is one."""
    while hasattr(app, "func") and hasattr(app, "args"):  # functools.partial
        app = app.func
    for candidate in (app, getattr(type(app), "__call__", None)):  # noqa: B004
        code = getattr(candidate, "__code__", None)
        if code is not None and code.co_flags & _CO_COROUTINE:
            return True
        if getattr(candidate, "_is_coroutine_marker", None) is not None:
            return True
    return False


_json_decoder: Any = None


def _load_json_decoder() -> Any:
    global _json_decoder
    import json

    _json_decoder = json.JSONDecoder()
    return _json_decoder


def _decode_json_event(event: bytes | bytearray | str) -> Any:
    """FC 3.0 hands the handler bytes of JSON; other runtimes may hand a JSON string.

    UTF-8 text goes straight to the decoder's documented ``raw_decode`` (a fifth cheaper
    than ``json.loads``); anything else (another encoding, a BOM, padding) takes
    ``json.loads``. Text that is not JSON is returned as it is.
    """
    decoder = _json_decoder or _load_json_decoder()
    try:
        text = event if isinstance(event, str) else event.decode("utf-8")
        value, end = decoder.raw_decode(text)
        if end == len(text) or not text[end:].strip(" \t\n\r"):
            return value
    except (UnicodeDecodeError, ValueError):
        pass
    except RecursionError:  # nesting no gateway's event has: not an HTTP event
        return event
    import json

    try:
        return json.loads(event)
    except (ValueError, RecursionError):
        return event


def _error_response(status: int, code: str, message: str, request_id: str = "") -> Response:
    import json

    fields = {"error": code, "message": message}
    if request_id:
        fields["request_id"] = request_id
    body = json.dumps(fields).encode("utf-8")
    return Response(status, list(_JSON_HEADERS), body)


def _too_large(request: Request, what: str, limit: int, size: int = 0) -> Response:
    """413 for a request body above the platform's limit, 502 for such a response."""
    import logging

    size = size or len(request.body)
    status = 413 if what == "request" else 502
    subject = "request body" if what == "request" else "response (its JSON)"
    logging.getLogger("faas_bridge").warning(
        "the %s (%d bytes) is above %s's limit of %d bytes: answering %d (%s %s, request id %s)",
        subject,
        size,
        request.platform,
        limit,
        status,
        loggable(request.method),
        request.raw_path.decode("ascii", "backslashreplace"),  # percent-encoded: one line
        loggable(request.request_id or "-"),
    )
    return _error_response(
        status,
        f"{what}_too_large",
        f"the {subject} ({size} bytes) is above the platform's limit of {limit} bytes",
        request.request_id,
    )


def _log_app_error(request: Request) -> None:
    import logging

    logging.getLogger("faas_bridge").exception(
        "unhandled exception in the app answering %s %s (platform %s, request id %s)",
        loggable(request.method),
        request.raw_path.decode("ascii", "backslashreplace"),  # percent-encoded: one line
        request.platform,
        loggable(request.request_id or "-"),
    )


def _describe_unknown(event: Any, platform: Platform | None) -> str:
    if isinstance(event, Mapping):
        from .web import is_credential_header

        names = sorted(str(key) for key in event if not is_credential_header(str(key)))
        seen = f"an object with keys: {', '.join(names[:20])}" if names else "an empty object"
    else:
        seen = f"a {type(event).__name__}"
    tried = [platform] if platform is not None else list(PLATFORMS.values())
    formats = "; ".join(f"{p.NAME} (needs {p.SIGNATURE})" for p in tried)
    return f"not an HTTP event of a known platform: got {seen}. Formats tried: {formats}"

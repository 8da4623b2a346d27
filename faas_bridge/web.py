"""Platform context in web-function mode: a thin WSGI and ASGI middleware.

In web mode (Tencent SCF / CloudBase HTTP functions, Alibaba FC custom runtimes) the platform
forwards plain HTTP to the app's server and describes the invocation in request headers:
``X-Scf-*`` on Tencent, ``X-Cloudbase-*`` on CloudBase, ``x-fc-*`` on Alibaba FC. The
middleware reads those headers once per request and gives the app the same keys event mode
gives it::

    environ["faas_bridge.platform"]    # "tencent_web", "cloudbase_web", "alibaba_fc_web"
    environ["faas_bridge.request_id"]  # X-Scf-Request-Id, x-fc-request-id, x-cloudbase-request-id
    environ["faas_bridge.context"]     # dict: platform headers, or CloudBase's decoded context
    environ["faas_bridge.event"]       # None: web mode has no event

(the same keys in the ASGI scope). A request that carries no platform header (a local run) is
passed through untouched. The middleware also answers Alibaba FC's lifecycle calls
(``x-fc-control-path: /initialize``) and writes one access-log line per request, with the
request id and without any header: credentials the platforms inject never reach a log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, Callable, NamedTuple

from .clouds import CLOUDS, is_credential_header
from .clouds import alibaba as _fc
from .clouds.cloudbase import decode_context as decode_cloudbase_context

__all__ = [
    "LIFECYCLE_PATHS",
    "AsgiContextMiddleware",
    "WebContext",
    "WsgiContextMiddleware",
    "decode_cloudbase_context",
    "is_credential_header",
    "read_web_context",
]

access_logger = logging.getLogger("faas_bridge.access")
error_logger = logging.getLogger("faas_bridge")

Environ = dict[str, Any]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


LIFECYCLE_PATHS = _fc.LIFECYCLE_PATHS
# Which cloud's headers a request carries, most specific first: CloudBase runs on SCF, so its
# requests carry X-Scf-* headers too.
WEB_DETECTION_ORDER = (CLOUDS["cloudbase"], CLOUDS["alibaba"], CLOUDS["tencent"])
_CLIENT_HEADERS = tuple(
    header for cloud in CLOUDS.values() if (header := getattr(cloud, "CLIENT_ADDRESS_HEADER", ""))
)


class WebContext(NamedTuple):
    """What the platform's headers say about one request (see :func:`read_web_context`)."""

    platform: str | None
    request_id: str
    context: dict[str, Any] | None
    client: str | None
    scheme: str | None
    control_path: str | None


def read_web_context(headers: Mapping[str, str]) -> WebContext:
    """The platform context of a request, from its headers (names in lower case).

    ``platform`` is None when no platform header is present. ``context`` is CloudBase's
    ``X-Cloudbase-Context`` decoded, or else the platform's own headers as a dict with the
    prefix dropped (``X-Scf-Region`` -> ``"region"``, ``x-fc-function-name`` ->
    ``"function_name"``), credentials included: give it to SDKs, never to a log.
    """
    control_path = headers.get(_fc.CONTROL_PATH_HEADER) or None
    for cloud in WEB_DETECTION_ORDER:
        found = cloud.read_web_headers(headers)
        if found is not None:
            platform: str | None = cloud.WEB_PLATFORM
            request_id, context = found
            break
    else:
        return WebContext(None, "", None, None, None, None)
    client = next((headers[h] for h in _CLIENT_HEADERS if headers.get(h)), None) or (
        _first_hop(headers.get("x-forwarded-for", "")) or None
    )
    scheme = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower() or None
    if scheme not in ("http", "https"):
        scheme = None
    return WebContext(platform, request_id, context, client, scheme, control_path)


def _first_hop(forwarded_for: str) -> str:
    return forwarded_for.split(",")[0].strip()


def _log_access(
    client: str | None,
    method: str,
    target: str,
    status: int,
    size: int,
    started: float,
    request_id: str,
) -> None:
    if access_logger.isEnabledFor(logging.INFO):
        access_logger.info(
            '%s "%s %s" %d %d %.1fms request_id=%s',
            client or "-",
            method,
            target,
            status,
            size,
            (time.perf_counter() - started) * 1000,
            request_id or "-",
        )


# --- WSGI ---------------------------------------------------------------------------------


class WsgiContextMiddleware:
    """Wraps a WSGI app: platform context into the environ, FC lifecycle calls, access log."""

    def __init__(self, app: WSGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        info = read_web_context(_environ_headers(environ))
        if info.platform is not None:
            environ["faas_bridge.platform"] = info.platform
            environ["faas_bridge.request_id"] = info.request_id
            environ["faas_bridge.context"] = info.context
            environ["faas_bridge.event"] = None
            if info.client:
                environ["REMOTE_ADDR"] = info.client
            if info.scheme:
                environ["wsgi.url_scheme"] = info.scheme
        query = environ.get("QUERY_STRING", "")
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        target = f"{path}?{query}" if query else path
        if not self.access_log:
            log: _WsgiAccess | None = None
        else:
            log = _WsgiAccess(environ, target, started, info.request_id)
            start_response = log.wrap(start_response)
        if info.control_path in LIFECYCLE_PATHS:
            status = _run_lifecycle(info)
            reason = "200 OK" if status == 200 else "500 Internal Server Error"
            start_response(reason, [("Content-Type", "text/plain"), ("Content-Length", "0")])
            body: Iterable[bytes] = [b""]
        else:
            try:
                body = self.app(environ, start_response)
            except BaseException:
                if log is not None:
                    log.finish(failed=True)
                raise
        return body if log is None else _LoggedBody(body, log)


def _environ_headers(environ: Environ) -> dict[str, str]:
    """The ``X-*`` request headers of an environ, by lower-case name."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_X_"):
            headers[key[5:].lower().replace("_", "-")] = value
    return headers


class _WsgiAccess:
    __slots__ = ("client", "done", "environ", "request_id", "size", "started", "status", "target")

    def __init__(self, environ: Environ, target: str, started: float, request_id: str) -> None:
        self.environ = environ
        self.target = target
        self.started = started
        self.request_id = request_id
        self.status = 0
        self.size = 0
        self.done = False

    def wrap(self, start_response: StartResponse) -> StartResponse:
        def logged_start_response(status: str, headers: Any, *exc_info: Any) -> Any:
            try:
                self.status = int(status.split(None, 1)[0])
            except (ValueError, IndexError, AttributeError):
                self.status = 0
            return start_response(status, headers, *exc_info)

        return logged_start_response

    def finish(self, *, failed: bool = False) -> None:
        if self.done:
            return
        self.done = True
        status = 500 if failed and self.status in (0, 200) else self.status
        _log_access(
            self.environ.get("REMOTE_ADDR"),
            self.environ.get("REQUEST_METHOD", "-"),
            self.target,
            status,
            self.size,
            self.started,
            self.request_id,
        )


class _LoggedBody:
    """The app's response iterable, counted as it streams; logged when the server closes it."""

    __slots__ = ("body", "log")

    def __init__(self, body: Iterable[bytes], log: _WsgiAccess) -> None:
        self.body = body
        self.log = log

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self.body:
                self.log.size += len(chunk)
                yield chunk
        except BaseException:
            self.log.finish(failed=True)
            raise

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.log.finish()


# --- ASGI ---------------------------------------------------------------------------------


class AsgiContextMiddleware:
    """Wraps an ASGI app: platform context into the scope, FC lifecycle calls, access log.

    Lifespan and websocket scopes pass through unchanged.
    """

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        info = read_web_context(_scope_headers(scope))
        if info.platform is not None:
            scope = dict(scope)
            scope["faas_bridge.platform"] = info.platform
            scope["faas_bridge.request_id"] = info.request_id
            scope["faas_bridge.context"] = info.context
            scope["faas_bridge.event"] = None
            if info.client:
                port = scope["client"][1] if scope.get("client") else 0
                scope["client"] = (info.client, port)
            if info.scheme:
                scope["scheme"] = info.scheme
        status = 0
        size = 0
        complete = False

        async def logged_send(message: Message) -> None:
            nonlocal status, size, complete
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                complete = not message.get("more_body", False)
            await send(message)

        failed = False
        try:
            if info.control_path in LIFECYCLE_PATHS:
                await _answer_lifecycle(logged_send, info)
            else:
                await self.app(scope, receive, logged_send)
        except Exception:
            failed = True
            if not complete:
                raise  # the server answers 500 and logs it
            # Starlette re-raises after sending its 500 page; the client has its answer, so
            # log here (with the request id) and keep the connection open for the next one.
            error_logger.exception(
                "exception in the app after it answered %s %s (request id %s)",
                scope.get("method", "-"),
                scope.get("path", ""),
                info.request_id or "-",
            )
        except BaseException:
            failed = True
            raise
        finally:
            if self.access_log:
                if failed and status in (0, 200):
                    status = 500
                client = scope.get("client")
                query = scope.get("query_string", b"").decode("latin-1")
                path = scope.get("root_path", "") + scope.get("path", "")
                _log_access(
                    client[0] if client else None,
                    scope.get("method", "-"),
                    f"{path}?{query}" if query else path,
                    status,
                    size,
                    started,
                    info.request_id,
                )


def _scope_headers(scope: Scope) -> dict[str, str]:
    """The ``x-*`` request headers of a scope, by (already lower-case) name."""
    headers: dict[str, str] = {}
    for name, value in scope.get("headers", ()):
        if name[:2] == b"x-":
            key = name.decode("latin-1").lower()
            if key not in headers:
                headers[key] = value.decode("latin-1")
    return headers


def _run_lifecycle(info: WebContext) -> int:
    """FC's control call run as the handler's hook (the user's on_startup/on_shutdown, when a
    make_handler call in the process registered some): the status to answer."""
    hook = _fc.LIFECYCLE_CALLS.get(info.control_path or "")
    if hook is None:
        return 200
    from .lifecycle import run_web_hook

    return run_web_hook(hook, info.context)


async def _answer_lifecycle(send: Send, info: WebContext) -> None:
    import asyncio

    status = await asyncio.get_running_loop().run_in_executor(None, _run_lifecycle, info)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})

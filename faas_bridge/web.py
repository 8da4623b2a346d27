"""Platform context in web-function mode: a WSGI and an ASGI middleware that trust one cloud.

In web mode (Tencent SCF / CloudBase HTTP functions, Alibaba FC custom runtimes) the platform's
proxy forwards plain HTTP to the app's server and describes the invocation in request headers:
``X-Scf-*`` on Tencent, ``X-Cloudbase-*`` (and SCF's) on CloudBase, ``x-fc-*`` on Alibaba FC.
A client can send those headers too, so the middleware trusts **one cloud's proxy**: the cloud
given (``platform=``, ``faas-bridge serve --platform``), else the one the environment's
built-in variables name (``clouds.detect_web_cloud``), else none (a local run). Per request:

- every other cloud's proxy headers (context and credentials included) are removed before the
  app sees them; a local run removes every cloud's;
- a header of the trusted proxy sent more than once is refused with 400: no document says
  which copy is the proxy's (the bug aws-lambda-web-adapter fixed in its PR #286);
- the trusted headers give the app the keys event mode gives it::

    environ["faas_bridge.platform"]    # "tencent_web", "cloudbase_web", "alibaba_fc_web"
    environ["faas_bridge.request_id"]  # the proxy's request id
    environ["faas_bridge.context"]     # dict of the proxy's headers, or CloudBase's context
    environ["faas_bridge.event"]       # None: web mode has no event

  (the same keys in the ASGI scope; absent on a local run), and the client address and scheme
  where the proxy gives them;
- Alibaba FC's lifecycle calls are answered (on FC only) without reaching the app;
- one access-log line is written per request, with the request id, the path percent-encoded
  and no control character from the request: no header, so no injected credential, ever.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
import urllib.parse
from collections.abc import Awaitable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, Callable, NamedTuple

from .clouds import CLOUDS, detect_web_cloud, is_credential_header, resolve_cloud_name
from .clouds import alibaba as _fc
from .clouds.cloudbase import decode_context as decode_cloudbase_context
from .lifecycle import WEB_REQUESTS
from .names import normalise

__all__ = [
    "LOCAL",
    "AsgiContextMiddleware",
    "WebContext",
    "WebTrust",
    "WsgiContextMiddleware",
    "decode_cloudbase_context",
    "is_credential_header",
    "lifecycle_answer",
    "log_safe",
    "log_target",
    "read_web_context",
    "resolve_web_cloud",
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

LOCAL = "local"  # the --platform value for "trust no proxy"
REFUSED_BODY = b'{"error": "bad_request", "message": "a platform header was sent more than once"}'


def resolve_web_cloud(
    platform: str | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The cloud whose proxy to trust: ``platform`` (a cloud or format name; ``"local"`` for
    none), else the cloud the environment's variables name, else None (a local run)."""
    if platform is not None:
        return None if normalise(platform) == LOCAL else resolve_cloud_name(platform)
    return detect_web_cloud(os.environ if environ is None else environ)


class WebContext(NamedTuple):
    """What the trusted proxy's headers say about one request (see :class:`WebTrust`)."""

    platform: str | None
    request_id: str
    context: dict[str, Any] | None
    client: str | None
    scheme: str | None
    lifecycle: str | None  # the lifecycle hook this request is, answered without the app
    refused: bool  # a trusted header came more than once: answer 400


_NOTHING = WebContext(None, "", None, None, None, None, False)
_REFUSED = WebContext(None, "", None, None, None, None, True)


class WebTrust:
    """Which headers one server trusts: those of ``cloud``'s proxy (None: no proxy's)."""

    __slots__ = ("cloud", "foreign", "foreign_keys", "owned", "owned_keys")

    def __init__(self, cloud: str | None) -> None:
        self.cloud = CLOUDS[cloud] if cloud is not None else None
        self.owned = self.cloud.OWNED_HEADER_PREFIXES if self.cloud is not None else ()
        every = dict.fromkeys(p for c in CLOUDS.values() for p in c.OWNED_HEADER_PREFIXES)
        self.foreign = tuple(prefix for prefix in every if prefix not in self.owned)
        self.owned_keys = tuple(_environ_key(prefix) for prefix in self.owned)
        self.foreign_keys = tuple(_environ_key(prefix) for prefix in self.foreign)

    @property
    def platform(self) -> str | None:
        return self.cloud.WEB_PLATFORM if self.cloud is not None else None

    def is_foreign(self, name: str) -> bool:
        """Whether a (lower-case) header belongs to another cloud's proxy: never for the app."""
        return name.startswith(self.foreign)

    def read(self, owned: Mapping[str, str], scheme: str, method: str, path: str) -> WebContext:
        """The context of one request from its trusted proxy's headers (``owned``: lower-case
        names, each sent once) and the last value of its scheme header."""
        cloud = self.cloud
        if cloud is None:
            return _NOTHING
        request_id, context = cloud.read_web_headers(owned)
        if context is None:
            error_logger.warning(
                "the platform's context header could not be decoded (unreadable or beyond"
                " its size or nesting limit): no context for request %s",
                log_safe(request_id) or "-",
            )
        return WebContext(
            cloud.WEB_PLATFORM,
            request_id,
            context,
            _address(owned.get(cloud.CLIENT_ADDRESS_HEADER, "")),
            scheme if scheme in ("http", "https") else None,
            cloud.lifecycle_call(owned, method, path),
            False,
        )


def _environ_key(prefix: str) -> str:
    return "HTTP_" + prefix.upper().replace("-", "_")


def _address(value: str) -> str | None:
    """An IP address as the proxy wrote it, or None when it is not one (or empty)."""
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def _last(value: str) -> str:
    """The last of comma-separated values: the one the nearest proxy appended."""
    return value.rsplit(",", 1)[-1].strip().lower()


def read_web_context(
    headers: Mapping[str, str], cloud: str | None, method: str = "GET", path: str = "/"
) -> WebContext:
    """The context of a request on ``cloud`` (None: a local run) from its headers (lower-case
    names, each once; a comma-joined repeat of a trusted header is refused).

    ``context`` is CloudBase's ``X-Cloudbase-Context`` decoded, or else the proxy's own
    headers as a dict with the prefix dropped (``X-Scf-Region`` -> ``"region"``,
    ``x-fc-function-name`` -> ``"function_name"``), credentials included: give it to SDKs,
    never to a log.
    """
    trust = WebTrust(cloud)
    owned = {name: value for name, value in headers.items() if name.startswith(trust.owned)}
    if trust.cloud is not None and _joined(trust.cloud.TRUSTED_HEADERS, owned):
        return _REFUSED
    scheme = _last(headers.get(trust.cloud.SCHEME_HEADER, "")) if trust.cloud else ""
    return trust.read(owned, scheme, method, path)


def _joined(trusted: frozenset[str], owned: Mapping[str, str]) -> bool:
    """Whether a header read as one value holds a comma: a server joined two copies."""
    return any(
        "," in value
        for name, value in owned.items()
        if name in trusted or is_credential_header(name)
    )


# --- logs ---------------------------------------------------------------------------------

_CONTROL = {code: f"\\x{code:02x}" for code in (*range(32), 127)}
_QUERY_SAFE = "/?:@!$&'()*+,;=%[]~-._"


def log_safe(text: str) -> str:
    """``text`` with control characters (CR, LF, ESC...) written as ``\\xNN``."""
    return text.translate(_CONTROL)


def log_target(path: str, query: str) -> str:
    """A request target for a log line: the decoded path percent-encoded again (as uvicorn
    logs it) and the query with anything but printable ASCII percent-encoded."""
    quoted = urllib.parse.quote(path, errors="surrogateescape")
    if not query:
        return quoted
    return f"{quoted}?{urllib.parse.quote(query, safe=_QUERY_SAFE, errors='surrogateescape')}"


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
            log_safe(client or "-"),
            log_safe(method),
            target,
            status,
            size,
            (time.perf_counter() - started) * 1000,
            log_safe(request_id) or "-",
        )


def lifecycle_answer(hook: str, context: Any = None) -> tuple[int, list[tuple[str, str]], bytes]:
    """The answer to a lifecycle call (FC's ``/initialize``, ``/pre-stop``...): the user's
    ``on_startup``/``on_shutdown`` hooks of the handler made in this process run (the server
    runs an ASGI app's lifespan itself), then an empty 200, or 500 when a hook failed
    (logged by the hook runner). Blocking: ASGI callers run it off the event loop."""
    status = 200
    name = _fc.LIFECYCLE_CALLS.get(hook)
    if name is not None:
        from .lifecycle import run_web_hook

        status = run_web_hook(name, context)
    return status, [("Content-Type", "text/plain"), ("Content-Length", "0")], b""


_REASONS = {200: "200 OK", 500: "500 Internal Server Error"}


# --- WSGI ---------------------------------------------------------------------------------


class WsgiContextMiddleware:
    """Wraps a WSGI app: one cloud's context into the environ, the others' headers removed,
    FC lifecycle calls, access log.

    ``platform`` is a cloud name (``"local"``: none); omitted, the environment decides (see
    :func:`resolve_web_cloud`). Behind a WSGI server, a repeated header reaches the environ
    joined with commas: a trusted header holding a comma is refused.
    """

    def __init__(
        self, app: WSGIApp, *, access_log: bool = True, platform: str | None = None
    ) -> None:
        self.app = app
        self.access_log = access_log
        self.trust = WebTrust(resolve_web_cloud(platform))

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        info = self._read(environ)
        target = log_target(
            _wsgi_text(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")),
            _wsgi_text(environ.get("QUERY_STRING", "")),
        )
        log: _WsgiAccess | None = None
        if self.access_log:
            log = _WsgiAccess(environ, target, started, info.request_id)
            start_response = log.wrap(start_response)
        if info.refused:
            start_response("400 Bad Request", [("Content-Type", "application/json")])
            body: Iterable[bytes] = [REFUSED_BODY]
        elif info.lifecycle is not None:
            status, headers, content = lifecycle_answer(info.lifecycle, info.context)
            start_response(_REASONS[status], headers)
            body = [content]
        else:
            WEB_REQUESTS.enter()  # until the body is closed: FC's /pre-stop waits for it
            try:
                body = _Counted(self.app(environ, start_response))
            except BaseException:
                WEB_REQUESTS.leave()
                if log is not None:
                    log.finish(failed=True)
                raise
        return body if log is None else _LoggedBody(body, log)

    def _read(self, environ: Environ) -> WebContext:
        """Remove other clouds' headers from the environ; read the trusted ones."""
        trust = self.trust
        owned: dict[str, str] = {}
        for key in [key for key in environ if key.startswith("HTTP_X_")]:
            if key.startswith(trust.foreign_keys):
                del environ[key]
            elif key.startswith(trust.owned_keys):
                owned[key[5:].lower().replace("_", "-")] = environ[key]
        cloud = trust.cloud
        if cloud is None:
            return _NOTHING
        if _joined(cloud.TRUSTED_HEADERS, owned):
            return _REFUSED
        scheme_key = _environ_key(cloud.SCHEME_HEADER)
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        info = trust.read(owned, _last(environ.get(scheme_key, "")), method, path)
        environ["faas_bridge.platform"] = info.platform
        environ["faas_bridge.request_id"] = info.request_id
        environ["faas_bridge.context"] = info.context
        environ["faas_bridge.event"] = None
        if info.client:
            environ["REMOTE_ADDR"] = info.client
        if info.scheme:
            environ["wsgi.url_scheme"] = info.scheme
        return info


def _wsgi_text(value: str) -> str:
    """A WSGI environ string (bytes as latin-1) as the text it encodes (UTF-8 if it is)."""
    try:
        return value.encode("latin-1").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value


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


class _Counted:
    """The app's response iterable, leaving :data:`WEB_REQUESTS` when the server closes it."""

    __slots__ = ("body", "done")

    def __init__(self, body: Iterable[bytes]) -> None:
        self.body = body
        self.done = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            if not self.done:
                self.done = True
                WEB_REQUESTS.leave()


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
    """Wraps an ASGI app: one cloud's context into the scope, the others' headers removed,
    FC lifecycle calls, access log. ``platform`` as for :class:`WsgiContextMiddleware`.

    Lifespan and websocket scopes pass through unchanged.
    """

    def __init__(
        self, app: ASGIApp, *, access_log: bool = True, platform: str | None = None
    ) -> None:
        self.app = app
        self.access_log = access_log
        self.trust = WebTrust(resolve_web_cloud(platform))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope, info = self._read(scope)
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
            await self._dispatch(info, scope, receive, logged_send)
        except Exception:
            failed = True
            if not complete:
                raise  # the server answers 500 and logs it
            # Starlette re-raises after sending its 500 page; the client has its answer, so
            # log here (with the request id) and keep the connection open for the next one.
            error_logger.exception(
                "exception in the app after it answered %s %s (request id %s)",
                log_safe(scope.get("method", "-")),
                log_target(scope.get("path", ""), ""),
                log_safe(info.request_id) or "-",
            )
        except BaseException:
            failed = True
            raise
        finally:
            if self.access_log:
                if failed and status in (0, 200):
                    status = 500
                client = scope.get("client")
                path = scope.get("root_path", "") + scope.get("path", "")
                query = scope.get("query_string", b"").decode("latin-1")
                _log_access(
                    client[0] if client else None,
                    scope.get("method", "-"),
                    log_target(path, query),
                    status,
                    size,
                    started,
                    info.request_id,
                )

    def _read(self, scope: Scope) -> tuple[Scope, WebContext]:
        """A copy of the scope without other clouds' headers, with the trusted context."""
        trust = self.trust
        cloud = trust.cloud
        kept: list[tuple[bytes, bytes]] = []
        owned: dict[str, str] = {}
        scheme = ""
        repeated = False
        for raw_name, raw_value in scope.get("headers", ()):
            if raw_name[:2] == b"x-":
                name = raw_name.decode("latin-1").lower()
                if trust.is_foreign(name):
                    continue
                if name.startswith(trust.owned):
                    repeated = repeated or name in owned
                    owned[name] = raw_value.decode("latin-1")
                elif cloud is not None and name == cloud.SCHEME_HEADER:
                    scheme = raw_value.decode("latin-1")
            kept.append((raw_name, raw_value))
        scope = dict(scope)
        scope["headers"] = kept
        if cloud is None:
            return scope, _NOTHING
        if repeated:
            return scope, _REFUSED
        info = trust.read(owned, _last(scheme), scope.get("method", ""), scope.get("path", ""))
        scope["faas_bridge.platform"] = info.platform
        scope["faas_bridge.request_id"] = info.request_id
        scope["faas_bridge.context"] = info.context
        scope["faas_bridge.event"] = None
        if info.client:
            port = scope["client"][1] if scope.get("client") else 0
            scope["client"] = (info.client, port)
        if info.scheme:
            scope["scheme"] = info.scheme
        return scope, info

    async def _dispatch(self, info: WebContext, scope: Scope, receive: Receive, send: Send) -> None:
        if info.refused:
            await _answer(send, 400, [("Content-Type", "application/json")], REFUSED_BODY)
        elif info.lifecycle is not None:
            import asyncio

            answer = await asyncio.get_running_loop().run_in_executor(
                None, lifecycle_answer, info.lifecycle, info.context
            )
            await _answer(send, *answer)
        else:
            WEB_REQUESTS.enter()  # FC's /pre-stop waits for it
            try:
                await self.app(scope, receive, send)
            finally:
                WEB_REQUESTS.leave()


async def _answer(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(name.lower().encode(), value.encode()) for name, value in headers],
        }
    )
    await send({"type": "http.response.body", "body": body})

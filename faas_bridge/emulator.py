"""A local gateway: real HTTP in, the platform's event to the handler, the gateway's answer out.

``faas-bridge emulate`` serves :class:`Emulator`, a small ASGI app, with uvicorn. For every
request it does what the platform's gateway does in front of an event function:

1. reads the whole body, refusing one above the platform's request limit (413);
2. builds the event with :func:`faas_bridge.testing.build_event` and the context with
   :func:`~faas_bridge.testing.build_context`, so the emulator and the test toolkit share one
   description of each wire format;
3. calls ``handler(event, context)`` in a thread of its own, at most ``timeout`` seconds;
4. decodes the return with :func:`~faas_bridge.testing.parse_response` (list-valued headers
   become repeated headers, base64 bodies are decoded, plain strings and objects get the
   platform's defaults) and sends it; a return the gateway would reject gets the gateway's own
   error, e.g. Tencent API Gateway's ``403 {"errno":403,"error":"Invalid scf response
   format..."}``.

The I/O-free half (:class:`Gateway`: request to event, return to reply, the gateway's error
replies) is separate from the ASGI half (:class:`Emulator`: reading, the worker thread, the
timeout, the access log), so the rules can be tested with plain values.

Non-HTTP triggers: ``POST /__faas_bridge__/trigger/<kind>`` (``tencent.timer``,
``alibaba.oss``...; without ``/<kind>``, the cloud's timer) calls the handler with a sample
event of that kind (a JSON object in the body replaces top-level fields of the sample) and
answers 200 with the handler's result as JSON, or 502 when it raised. That path is the
emulator's own: it never reaches the app as an HTTP request.

Emulated behaviour, not the clouds' exact bytes: apart from Tencent's documented 403 body,
the error replies (404 outside the base path, 413, 502, 504) follow each platform's style and
say ``emulated`` in an ``x-faas-bridge-emulated`` header, naming the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, TextIO
from urllib.parse import quote, unquote

from .clouds import is_credential_header
from .errors import ConfigurationError, InvalidResponseError
from .http import returned_size, strip_base_path
from .options import normalise_base_path
from .platforms import PLATFORMS, resolve_platform_name
from .platforms._gateway import gateway as load_gateway
from .testing.events import build_context, build_event
from .testing.responses import parse_response

if TYPE_CHECKING:
    from .platforms._gateway import Gateway as GatewaySide

__all__ = [
    "DEFAULT_TIMEOUT",
    "REQUEST_LIMITS",
    "RESPONSE_LIMITS",
    "TRIGGER_PATH",
    "Emulator",
    "EmulatorConfig",
    "Gateway",
    "Reply",
    "default_timeout",
    "redact",
]

MIB = 1024 * 1024
# The largest request body each gateway accepts, and the largest return value (its JSON,
# base64 bodies included): each format's own limits (platforms/<format>/__init__.py).
REQUEST_LIMITS: dict[str, int] = {name: p.REQUEST_LIMIT for name, p in PLATFORMS.items()}
RESPONSE_LIMITS: dict[str, int] = {name: p.RESPONSE_LIMIT for name, p in PLATFORMS.items()}
# Hop-by-hop request headers: a gateway does not forward them.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "upgrade"})
# Response headers the gateway writes itself (Content-Length too, except for HEAD).
_FRAMING = frozenset({"transfer-encoding", "connection"})
_NO_BODY_STATUSES = frozenset({204, 304})
_SHOWN_CHARS = 1000  # longer strings are cut in --show-events output
REDACTED = "<redacted>"
TRIGGER_PATH = "/__faas_bridge__/trigger"  # POST here fires a non-HTTP event

access_logger = logging.getLogger("faas_bridge.access")
logger = logging.getLogger("faas_bridge.emulator")


# The function timeout `faas-bridge package --configs` writes into every deploy config, so
# a request that runs locally also runs once deployed (the platforms' own defaults differ:
# 3 s on SCF, 60 s on FC).
DEFAULT_TIMEOUT = 30.0


def default_timeout(platform: str) -> float:
    """The handler timeout when none is given: :data:`DEFAULT_TIMEOUT` (30 s) on every
    platform, the timeout the deploy configs of ``package --configs`` set."""
    resolve_platform_name(platform)
    return DEFAULT_TIMEOUT


class EmulatorConfig(NamedTuple):
    """How the emulated gateway behaves (the ``faas-bridge emulate`` flags)."""

    platform: str
    stage: str = "release"
    base_path: str = ""
    timeout: float | None = None  # None: default_timeout(platform)
    show_events: bool = False
    show_auth: bool = False  # --show-events prints Authorization and Cookie headers in full
    fc_default_domain: bool = False  # FC's *.fcapp.run forces Content-Disposition: attachment
    scheme: str | None = None  # told to the app; None: the scheme the emulator is reached by


class Reply(NamedTuple):
    """An HTTP response as the gateway sends it. ``emulated`` names an error the gateway
    produced itself (``None`` for the function's own response)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    emulated: str | None = None


class Invocation(NamedTuple):
    """What one request becomes: the event and context the handler is called with."""

    event: Any
    context: Any
    request_id: str
    stage_host: bool  # the event carries the gateway's STAGE_HOST instead of the client's Host


class Gateway:
    """The gateway's rules without I/O: :meth:`invocation` turns an HTTP request into the
    platform's event, :meth:`reply` turns the handler's return into the HTTP response."""

    def __init__(self, config: EmulatorConfig) -> None:
        config = config._replace(platform=resolve_platform_name(config.platform))
        self.side: GatewaySide = load_gateway(config.platform)
        if config.fc_default_domain and not self.side.ATTACHMENT_ON_DEFAULT_DOMAIN:
            quirky = [n for n in PLATFORMS if load_gateway(n).ATTACHMENT_ON_DEFAULT_DOMAIN]
            raise ConfigurationError(
                f"the default-domain download quirk applies to {', '.join(quirky)} only"
            )
        timeout = default_timeout(config.platform) if config.timeout is None else config.timeout
        if not timeout > 0:
            raise ConfigurationError(f"the timeout must be positive, not {timeout}")
        if config.scheme not in (None, "http", "https"):
            raise ConfigurationError(f"the scheme must be http or https, not {config.scheme!r}")
        self.config = config._replace(
            timeout=timeout,
            stage=config.stage.strip("/"),
            base_path=normalise_base_path(config.base_path),
        )
        self.platform = config.platform
        self.timeout: float = timeout
        self.request_limit = REQUEST_LIMITS[config.platform]
        self.response_limit = RESPONSE_LIMITS[config.platform]

    # --- request -> event -----------------------------------------------------------------

    def invocation(
        self,
        method: str,
        raw_path: bytes,
        query_string: bytes,
        headers: Iterable[tuple[str, str]],
        body: bytes,
        client_ip: str,
        scheme: str = "http",
    ) -> Invocation | None:
        """The event and context for one request, or ``None`` when the path lies outside
        the base path (the gateway answers 404 without calling the function).

        ``scheme`` is how the request reached the emulator; the event tells the app that
        scheme (or the configured one) in the format's scheme header, replacing any the
        client sent, as a gateway that terminates TLS does."""
        path = quote(raw_path, safe="/%:@!$&'()*+,;=~")  # ASCII, percent-encoded
        pairs = [(n, v) for n, v in headers if n.lower() not in _HOP_BY_HOP]
        stage_host = False
        stage_host_name = self.side.STAGE_HOST
        if stage_host_name and self.config.stage:
            below = strip_base_path(path, "/" + self.config.stage)
            if below is not None:  # /release/x as on the default domain
                path, stage_host = below or "/", True
        if self.config.base_path and strip_base_path(unquote(path), self.config.base_path) is None:
            return None
        scheme_header = self.side.SCHEME_HEADER
        own_id = self.side.REQUEST_ID_HEADER.lower()  # the gateway makes its own request id
        pairs = [(n, v) for n, v in pairs if n.lower() not in (scheme_header, own_id)]
        pairs.append((scheme_header, self.config.scheme or scheme))
        if stage_host:
            pairs = [(n, v) for n, v in pairs if n.lower() != "host"]
        request_id = str(uuid.uuid4())
        event = build_event(
            self.platform,
            method,
            path,
            query=query_string.decode("utf-8", "replace"),
            headers=pairs,
            body=body,
            client_ip=client_ip,
            host=stage_host_name if stage_host else None,
            stage=self.config.stage or "release",
            request_id=request_id,
        )
        return Invocation(event, self._context(request_id), request_id, stage_host)

    def _context(self, request_id: str) -> Any:
        context = build_context(self.platform, request_id=request_id)
        return self.side.with_time_limit(context, self.timeout)

    # --- return -> response ---------------------------------------------------------------

    def reply(self, returned: Any, *, local_origin: str = "", stage_host: bool = False) -> Reply:
        """The HTTP response the gateway sends for the handler's return value.

        ``local_origin`` (``http://127.0.0.1:8000``) replaces the emulated default domain in an
        absolute ``Location``, so redirects of requests under ``/<stage>/`` stay local.
        """
        size = returned_size(returned)
        if size > self.response_limit:
            return self.error(
                "response_too_large",
                f"the function returned {size} bytes; {self.platform} allows "
                f"{_megabytes(self.response_limit)} (measured as the return value's JSON)",
            )
        try:
            response = parse_response(self.platform, returned)
        except InvalidResponseError as exc:
            return self.error("invalid_response", str(exc))
        headers = [(n, v) for n, v in response.headers.items() if n.lower() not in _FRAMING]
        if stage_host and local_origin:
            public = self.side.STAGE_HOST or ""
            headers = [_localise(n, v, local_origin, public) for n, v in headers]
        if self.config.fc_default_domain:
            headers = _force_attachment(headers)
        return Reply(response.status_code, headers, response.content)

    def error(self, kind: str, reason: str) -> Reply:
        """The reply the gateway itself gives for ``kind``: ``not_found`` (outside the base
        path), ``request_too_large``, ``response_too_large``, ``invalid_response``,
        ``function_error`` (the handler raised) or ``timeout``."""
        status = _ERROR_STATUS[kind]
        status, body = self.side.error_body(kind, status, reason)
        headers = [
            ("Content-Type", "application/json"),
            ("x-faas-bridge-emulated", f"{kind}; {_header_safe(reason)}"),
        ]
        return Reply(status, headers, body, kind)


_ERROR_STATUS = {
    "not_found": 404,
    "request_too_large": 413,
    "invalid_response": 502,
    "response_too_large": 502,
    "function_error": 502,
    "timeout": 504,
}


def _header_safe(text: str) -> str:
    flat = " ".join(text.split())
    return flat.encode("ascii", "replace").decode("ascii")[:300]


def _megabytes(size: int) -> str:
    """``6 MB (6000000 bytes)``: the limits are the docs' decimal megabytes."""
    return f"{size / 1_000_000:g} MB ({size} bytes)"


def _force_attachment(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """FC's default domain makes browsers download every response: an app's own
    ``attachment`` (with its filename) stays, anything else becomes ``attachment``."""
    for name, value in headers:
        if name.lower() == "content-disposition" and value.lower().startswith("attachment"):
            return headers
    kept = [(n, v) for n, v in headers if n.lower() != "content-disposition"]
    return [*kept, ("Content-Disposition", "attachment")]


def _localise(name: str, value: str, local_origin: str, public_host: str) -> tuple[str, str]:
    if name.lower() == "location":
        for scheme in ("https://", "http://"):
            prefix = scheme + public_host
            if value.startswith(prefix) and value[len(prefix) : len(prefix) + 1] in ("", "/"):
                return name, local_origin + value[len(prefix) :]
    return name, value


# --- --show-events ------------------------------------------------------------------------


# The client's own secrets: redacted in --show-events output unless show_auth is set.
_AUTH_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def redact(value: Any, show_auth: bool = False) -> Any:
    """``value`` with credential headers (at any depth) replaced and long strings cut, for
    printing: ``X-Cloudbase-Context``, ``x-fc-access-key-*``, ``x-fc-security-token``,
    ``X-Scf-Secret-*``, ``X-Scf-Session-Token``; also ``Authorization``,
    ``Proxy-Authorization``, ``Cookie`` and ``Set-Cookie`` unless ``show_auth``."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if _secret(key, show_auth) else redact(item, show_auth)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(item, show_auth) for item in value]
    if isinstance(value, str) and len(value) > _SHOWN_CHARS:
        return f"{value[:_SHOWN_CHARS]}... ({len(value) - _SHOWN_CHARS} more characters)"
    if isinstance(value, (bytes, bytearray)):
        try:
            return redact(json.loads(value), show_auth)
        except ValueError:
            return f"<{len(value)} bytes>"
    return value


def _secret(key: object, show_auth: bool) -> bool:
    if not isinstance(key, str):
        return False
    return is_credential_header(key) or (not show_auth and key.lower() in _AUTH_HEADERS)


def _show(out: TextIO, title: str, value: Any, show_auth: bool = False) -> None:
    text = json.dumps(redact(value, show_auth), ensure_ascii=False, indent=2, default=repr)
    out.write(f"--- {title}\n{text}\n")
    out.flush()


# --- the ASGI app -------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[Any, Any], Any]


class _Disconnected(Exception):
    """The client went away before its request body was complete."""


class Emulator:
    """An ASGI app (HTTP only; serve it with lifespan off) that answers every request the
    way the platform's gateway would, calling ``handler(event, context)`` in a thread of its
    own, so requests overlap as they do across instances.

    ``out`` receives the ``--show-events`` output. A handler still running at the timeout is
    answered 504 and left to finish in its (daemon) thread: a thread cannot be stopped, where
    the platform would end the whole instance.
    """

    def __init__(
        self, handler: Handler, config: EmulatorConfig, *, out: TextIO | None = None
    ) -> None:
        self.handler = handler
        self.gateway = Gateway(config)
        self.config = self.gateway.config
        self.out = out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            with contextlib.suppress(_Disconnected):
                await self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method: str = scope["method"]
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        query_string: bytes = scope.get("query_string", b"")
        headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in scope["headers"]]
        client = scope.get("client")
        client_ip = client[0] if client else "127.0.0.1"
        body = await self._read_body(receive)
        request_id = "-"
        trigger = _trigger_kind(method, raw_path)
        if trigger is not None and body is not None:
            fired = self._trigger_invocation(trigger, body)
            if isinstance(fired, Reply):
                reply = fired
            else:
                request_id = fired.request_id
                reply = await self._fire(fired)
        elif body is None:
            limit = _megabytes(self.gateway.request_limit)
            reply = self.gateway.error(
                "request_too_large",
                f"the request body is larger than {self.gateway.platform}'s limit of {limit}",
            )
        else:
            invocation = self.gateway.invocation(
                method,
                raw_path,
                query_string,
                headers,
                body,
                client_ip,
                scope.get("scheme", "http"),
            )
            if invocation is None:
                reply = self.gateway.error(
                    "not_found", f"no function is mounted here (base path {self.config.base_path})"
                )
            else:
                request_id = invocation.request_id
                reply = await self._invoke(invocation, _origin(scope, headers))
        if reply.emulated and reply.emulated != "not_found":
            logger.warning("request_id=%s: %s", request_id, _reason(reply))
        sent = await _send_reply(send, reply, method, request_id, self.gateway.side)
        target = raw_path.decode("latin-1") + (
            "?" + query_string.decode("latin-1") if query_string else ""
        )
        access_logger.info(
            '%s "%s %s" %d %d %.1fms request_id=%s',
            client_ip,
            method,
            target,
            reply.status,
            sent,
            (time.perf_counter() - started) * 1000,
            request_id,
        )

    def _trigger_invocation(self, kind: str, body: bytes) -> Invocation | Reply:
        """The sample event of ``kind`` (body: fields to replace), or a 400 reply."""
        from .clouds import get_cloud
        from .testing.triggers import build_trigger_event

        kind = kind or get_cloud(self.gateway.platform).TIMER_KIND
        try:
            fields = json.loads(body) if body.strip() else {}
            if not isinstance(fields, dict):
                raise ValueError("the body must be a JSON object of fields to replace")
            event = build_trigger_event(kind, **fields)
        except (ValueError, ConfigurationError) as exc:
            message = json.dumps({"error": "bad_trigger", "message": str(exc)}).encode("utf-8")
            return Reply(400, [("Content-Type", "application/json")], message, "bad_trigger")
        request_id = str(uuid.uuid4())
        return Invocation(event, self.gateway._context(request_id), request_id, False)

    async def _fire(self, invocation: Invocation) -> Reply:
        """Call the handler with a trigger event; its result as a JSON reply."""
        out = self.out
        if self.config.show_events and out is not None:
            _show(out, f"trigger event {invocation.request_id}", invocation.event)
        json_headers = [("Content-Type", "application/json")]
        try:
            returned = await asyncio.wait_for(self._call(invocation), self.gateway.timeout)
        except asyncio.TimeoutError:
            body = {"error": "timeout", "message": f"no result within {self.gateway.timeout:g} s"}
            return Reply(504, json_headers, json.dumps(body).encode("utf-8"), "timeout")
        except Exception as exc:
            logger.error("request_id=%s: the handler raised", invocation.request_id, exc_info=exc)
            body = {"error": "function_error", "message": f"{type(exc).__name__}: {exc}"}
            return Reply(502, json_headers, json.dumps(body).encode("utf-8"), "function_error")
        if self.config.show_events and out is not None:
            _show(out, f"returned {invocation.request_id}", returned)
        text = json.dumps(returned, ensure_ascii=False, default=repr)
        return Reply(200, json_headers, text.encode("utf-8"))

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole request body, or ``None`` when it exceeds the limit (the rest is read
        and dropped, so the client can finish sending and read the 413)."""
        chunks: list[bytes] = []
        size = 0
        limit = self.gateway.request_limit
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size <= limit:
                chunks.append(chunk)
            elif chunks:
                chunks = []
            if not message.get("more_body", False):
                break
        return b"".join(chunks) if size <= limit else None

    async def _invoke(self, invocation: Invocation, local_origin: str) -> Reply:
        out = self.out
        if self.config.show_events and out is not None:
            title = f"event {invocation.request_id} ({self.gateway.platform})"
            _show(out, title, invocation.event, self.config.show_auth)
        try:
            returned = await asyncio.wait_for(self._call(invocation), self.gateway.timeout)
        except asyncio.TimeoutError:
            return self.gateway.error(
                "timeout",
                f"the function did not return within {self.gateway.timeout:g} s (--timeout)",
            )
        except Exception as exc:
            logger.error("request_id=%s: the handler raised", invocation.request_id, exc_info=exc)
            return self.gateway.error("function_error", f"the function raised {type(exc).__name__}")
        if self.config.show_events and out is not None:
            _show(out, f"returned {invocation.request_id}", returned, self.config.show_auth)
        return self.gateway.reply(
            returned, local_origin=local_origin, stage_host=invocation.stage_host
        )

    def _call(self, invocation: Invocation) -> asyncio.Future[Any]:
        """The handler's return (or exception), from a daemon thread of its own."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def settle(result: Any, error: BaseException | None) -> None:
            if future.done():  # given up at the timeout
                return
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

        def work() -> None:
            result: Any = None
            error: BaseException | None = None
            try:
                result = self.handler(invocation.event, invocation.context)
            except Exception as exc:
                error = exc
            except BaseException as exc:  # sys.exit() in a handler must not stop the server
                error = RuntimeError(f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(RuntimeError):  # the server stopped meanwhile
                loop.call_soon_threadsafe(settle, result, error)

        name = f"faas-handler-{invocation.request_id[:8]}"
        threading.Thread(target=work, name=name, daemon=True).start()
        return future


def _trigger_kind(method: str, raw_path: bytes) -> str | None:
    """The kind a ``POST /__faas_bridge__/trigger[/<kind>]`` asks for ("" for the default)."""
    if method != "POST":
        return None
    path = raw_path.decode("latin-1").rstrip("/")
    if path == TRIGGER_PATH:
        return ""
    if path.startswith(TRIGGER_PATH + "/"):
        return unquote(path[len(TRIGGER_PATH) + 1 :])
    return None


def _origin(scope: Scope, headers: list[tuple[str, str]]) -> str:
    host = next((v for n, v in headers if n == "host"), "")
    if not host:
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "127.0.0.1"
    return f"{scope.get('scheme', 'http')}://{host}"


def _reason(reply: Reply) -> str:
    for name, value in reply.headers:
        if name == "x-faas-bridge-emulated":
            return value
    return reply.emulated or ""


async def _send_reply(
    send: Send, reply: Reply, method: str, request_id: str, side: GatewaySide
) -> int:
    """Send ``reply``; the number of body bytes sent."""
    no_body = reply.status in _NO_BODY_STATUSES
    body = b"" if method == "HEAD" or no_body else reply.body
    headers = [(_latin1(n), _latin1(v)) for n, v in reply.headers]
    if method != "HEAD":  # a HEAD response keeps the length the GET would have
        headers = [(n, v) for n, v in headers if n.lower() != b"content-length"]
        if not no_body:
            headers.append((b"content-length", str(len(body)).encode()))
    if request_id != "-":
        headers.append((side.REQUEST_ID_HEADER.lower().encode(), request_id.encode()))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return len(body)


def _latin1(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")

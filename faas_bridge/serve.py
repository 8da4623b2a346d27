"""Web-function mode: the app behind a production HTTP server, streaming intact.

Tencent SCF and CloudBase HTTP functions and Alibaba FC custom runtimes forward raw HTTP to a
server the function starts on ``0.0.0.0:9000``. :func:`serve` runs the app there:

- ASGI apps (FastAPI, Starlette, Django's ASGI handler) behind **uvicorn**, lifespan included;
- WSGI apps (Flask, Django) behind **uvicorn too**, through a2wsgi's WSGI-to-ASGI bridge in
  :class:`WsgiBridge`, which reads the whole request body on the event loop (bounded by the
  cloud's request limit) before a thread runs the app: a client that sends half a request
  and stalls holds a socket, never a thread. gunicorn's threaded worker reads requests in
  its threads with blocking reads, so a few such clients stop every other request (measured
  in ``benchmarks/web_servers.py``; see the README, "Web functions and streaming").

Both sit behind :mod:`faas_bridge.web`'s middleware, which trusts the headers of one cloud's
proxy (``platform``, else detected from the environment, else none), exposes its request id
and context under the event-mode keys and writes the access log. The address defaults to
``127.0.0.1`` on a local run and ``0.0.0.0`` on a cloud. SIGTERM stops the server
gracefully: running requests finish (up to ``graceful_timeout`` seconds) and an ASGI app's
lifespan shutdown runs. The servers come with the ``serve`` extra
(``pip install "faas-bridge[serve]"``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Callable, Literal

from .errors import BridgeError, ConfigurationError

__all__ = [
    "DEFAULT_PORT",
    "PORT_VARIABLES",
    "MissingServerError",
    "WsgiBridge",
    "app_for_serving",
    "resolve_port",
    "serve",
]

DEFAULT_PORT = 9000
# Where the platforms tell the server its port, in the order they are consulted.
PORT_VARIABLES = ("PORT", "FC_SERVER_PORT", "FC_CUSTOM_LISTEN_PORT")
# Set for uvicorn's worker processes, which each load the target again.
TARGET_VARIABLE = "FAAS_BRIDGE_SERVE_TARGET"
SETTINGS_VARIABLE = "FAAS_BRIDGE_SERVE_SETTINGS"
LOCAL_BODY_LIMIT = 32 * 1024 * 1024  # a local run: the largest cloud's limit
INSTALL_HINT = 'pip install "faas-bridge[serve]"'

Interface = Literal["wsgi", "asgi"]


class MissingServerError(BridgeError, ImportError):
    """The server web mode needs is not installed (the ``serve`` extra is missing)."""


def resolve_port(port: int | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The port to listen on: ``port`` if given, else ``$PORT``, ``$FC_SERVER_PORT``,
    ``$FC_CUSTOM_LISTEN_PORT``, else 9000."""
    if port is None:
        env = os.environ if environ is None else environ
        for name in PORT_VARIABLES:
            value = env.get(name, "").strip()
            if value:
                try:
                    port = int(value)
                except ValueError:
                    raise ConfigurationError(f"${name} is not a port number: {value!r}") from None
                break
        else:
            port = DEFAULT_PORT
    if not 0 < port < 65536:
        raise ConfigurationError(f"port must be between 1 and 65535, not {port}")
    return port


def app_for_serving(obj: Any, interface: Interface | None = None) -> tuple[Any, Interface]:
    """The app to put behind the server, and its interface.

    A :class:`~faas_bridge.Handler` from ``make_handler`` serves the app it wraps, so one
    ``index.py`` works in event mode and in web mode.
    """
    from .handler import Handler, _looks_like_asgi

    if isinstance(obj, Handler):
        return obj.app, interface or obj.interface
    if not callable(obj):
        raise ConfigurationError(f"expected a WSGI or ASGI app, got a {type(obj).__name__}")
    if interface is None:
        interface = "asgi" if _looks_like_asgi(obj) else "wsgi"
    elif interface not in ("wsgi", "asgi"):
        raise ConfigurationError(f"interface must be 'wsgi' or 'asgi', not {interface!r}")
    return obj, interface


def serve(
    app: Any,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int = 1,
    threads: int = 8,
    interface: Interface | None = None,
    graceful_timeout: float = 10.0,
    access_log: bool = True,
    target: str | None = None,
    platform: str | None = None,
) -> None:
    """Serve ``app`` until SIGTERM or SIGINT.

    Args:
        app: a WSGI or ASGI app, or a handler made by ``make_handler``.
        host: the address to bind; default ``0.0.0.0`` on a cloud (the platforms reach only
            that), ``127.0.0.1`` on a local run.
        port: see :func:`resolve_port`.
        workers: server processes. More than one needs ``target`` (each process imports
            the app itself).
        threads: threads per worker running a WSGI app; one open stream (SSE) holds one.
        interface: ``"wsgi"`` or ``"asgi"``; detected when omitted.
        graceful_timeout: seconds running requests (open streams) get after SIGTERM.
        access_log: one line per request with its request id (logger
            ``faas_bridge.access``).
        target: the ``module:attr`` the app was loaded from.
        platform: the cloud whose proxy headers to trust (``tencent``, ``cloudbase``,
            ``alibaba``; ``local`` for none); detected from the environment when omitted.
    """
    from .web import LOCAL, resolve_web_cloud

    app, interface = app_for_serving(app, interface)
    port = resolve_port(port)
    if workers < 1 or threads < 1:
        raise ConfigurationError("workers and threads must be at least 1")
    cloud = resolve_web_cloud(platform)
    if host is None:
        host = "127.0.0.1" if cloud is None else "0.0.0.0"
    _require("uvicorn")
    if interface == "wsgi":
        _require("a2wsgi")
    _configure_logging()
    settings = {
        "interface": interface,
        "platform": cloud or LOCAL,
        "access_log": access_log,
        "threads": threads,
    }
    _run_uvicorn(app, host, port, workers, graceful_timeout, target, settings)


def _configure_logging() -> None:
    """faas_bridge's own lines (the access log) on stderr, next to the server's."""
    logger = logging.getLogger("faas_bridge")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s")
        )
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingServerError(
            f"web mode needs {module.split('.')[0]}, from the serve extra: {INSTALL_HINT}"
        ) from exc


def _served(app: Any, settings: Mapping[str, Any]) -> Any:
    """The ASGI app uvicorn runs: the context middleware, and the WSGI bridge if needed."""
    from .clouds import CLOUDS
    from .web import AsgiContextMiddleware

    platform = settings["platform"]
    if settings["interface"] == "wsgi":
        cloud = CLOUDS.get(platform)
        limit = cloud.WEB_BODY_LIMIT if cloud is not None else LOCAL_BODY_LIMIT
        app = WsgiBridge(app, threads=settings["threads"], body_limit=limit)
    return AsgiContextMiddleware(app, access_log=settings["access_log"], platform=platform)


def _run_uvicorn(
    app: Any,
    host: str,
    port: int,
    workers: int,
    graceful_timeout: float,
    target: str | None,
    settings: Mapping[str, Any],
) -> None:
    uvicorn = _require("uvicorn")
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "lifespan": "auto" if settings["interface"] == "asgi" else "off",
        "access_log": False,  # faas_bridge.access logs instead, with request ids
        "proxy_headers": False,  # the platform's headers are read by the middleware only
        "server_header": False,
        "timeout_graceful_shutdown": graceful_timeout,
        "log_level": "info",
    }
    if workers == 1:
        uvicorn.run(_served(app, settings), **options)
        return
    if not target:
        raise ConfigurationError("several workers need the app's target (module:attr)")
    os.environ[TARGET_VARIABLE] = target
    os.environ[SETTINGS_VARIABLE] = json.dumps(settings)
    uvicorn.run(f"{__name__}:_worker_app", factory=True, workers=workers, **options)


def _worker_app() -> Any:
    """uvicorn's app factory in each worker process: the target loaded again, wrapped."""
    from .cli._target import load_target

    _configure_logging()
    settings = json.loads(os.environ[SETTINGS_VARIABLE])
    app, _ = app_for_serving(load_target(os.environ[TARGET_VARIABLE]), settings["interface"])
    return _served(app, settings)


# --- WSGI apps: a2wsgi behind a body-buffering front -------------------------------------

_GONE = "faas_bridge.client_gone"  # scope key: a threading.Event set when the client leaves
_SCOPE_KEYS = (
    "faas_bridge.platform",
    "faas_bridge.request_id",
    "faas_bridge.context",
    "faas_bridge.event",
)


class WsgiBridge:
    """A WSGI app as an ASGI app: a2wsgi runs it in ``threads`` threads, and this front

    - reads the whole request body on the event loop first (above ``body_limit`` bytes:
      413), so a client that stalls mid-body holds no thread (uvicorn already holds
      half-sent headers without one);
    - drops request headers whose name holds ``_`` (``X_Scf_Request_Id`` would otherwise
      share ``X-Scf-Request-Id``'s environ key), as gunicorn does;
    - copies the ``faas_bridge.*`` keys of the scope into the environ;
    - stops the app's response iterable at its next chunk once the client has left, so an
      endless stream does not keep its thread.

    Each chunk the app yields is sent as it is produced (a2wsgi's queue), so SSE streams.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], *, threads: int, body_limit: int):
        a2wsgi = _require("a2wsgi")
        self.app = app
        self.body_limit = body_limit
        self.inner = a2wsgi.WSGIMiddleware(self._call, workers=threads)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        body = await self._read_body(scope, receive, send)
        if body is None:
            return
        gone = threading.Event()
        watcher = asyncio.ensure_future(_watch(receive, gone))
        headers = [(name, value) for name, value in scope["headers"] if b"_" not in name]
        try:
            await self.inner({**scope, "headers": headers, _GONE: gone}, _replay(body), send)
        finally:
            watcher.cancel()

    async def _read_body(self, scope: Any, receive: Any, send: Any) -> bytes | None:
        """The whole body; None when the client left or it is too large (413 sent)."""
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.body_limit:
            await _too_large(send, self.body_limit)
            return None
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if len(body) > self.body_limit:  # a chunked upload
                await _too_large(send, self.body_limit)
                return None
            more = message.get("more_body", False)
        return bytes(body)

    def _call(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """The app, in a2wsgi's thread, with the scope's faas_bridge keys in its environ."""
        scope = environ.get("asgi.scope") or {}
        for key in _SCOPE_KEYS:
            if key in scope:
                environ[key] = scope[key]
        body = self.app(environ, start_response)
        gone = scope.get(_GONE)
        return body if gone is None else _until_gone(body, gone)


def _until_gone(body: Iterable[bytes], gone: threading.Event) -> Iterator[bytes]:
    """``body``'s chunks until the client has left; ``body`` closed either way."""
    try:
        for chunk in body:
            yield chunk
            if gone.is_set():
                return
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


async def _watch(receive: Any, gone: threading.Event) -> None:
    """Set ``gone`` when the server reports the client disconnected."""
    message = await receive()
    if message["type"] == "http.disconnect":
        gone.set()


def _replay(body: bytes) -> Any:
    """A ``receive`` giving the buffered body once (a2wsgi asks once for a complete body)."""
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps(
        {
            "error": "request_too_large",
            "message": f"the request body is above the limit of {limit} bytes",
            "limit": limit,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

"""Web-function mode: the app behind a production HTTP server, streaming intact.

Tencent SCF and CloudBase HTTP functions and Alibaba FC custom runtimes forward raw HTTP to a
server the function starts on ``0.0.0.0:9000``. :func:`serve` runs the app there:

- ASGI apps (FastAPI, Starlette, Django's ASGI handler) behind **uvicorn**, lifespan included;
- WSGI apps (Flask, Django) behind **gunicorn** with threaded (``gthread``) workers, chosen by
  measurement over uvicorn + a2wsgi and waitress (see the README, "Web functions and
  streaming"): the same cold start, the lowest per-request latency that also offers
  ``--workers``, and every chunk of a streaming response sent as the app yields it.

Both sit behind :mod:`faas_bridge.web`'s middleware, which exposes the platform's request id and
context under the event-mode keys and writes the access log. SIGTERM stops the server
gracefully: running requests finish (up to ``graceful_timeout`` seconds) and an ASGI app's
lifespan shutdown runs. The servers come with the ``serve`` extra
(``pip install "faas-bridge[serve]"``).
"""

from __future__ import annotations

import logging
import math
import os
import sys
from collections.abc import Mapping
from typing import Any, Literal

from .errors import BridgeError, ConfigurationError

__all__ = [
    "DEFAULT_PORT",
    "PORT_VARIABLES",
    "MissingServerError",
    "app_for_serving",
    "resolve_port",
    "serve",
]

DEFAULT_PORT = 9000
# Where the platforms tell the server its port, in the order they are consulted.
PORT_VARIABLES = ("PORT", "FC_SERVER_PORT", "FC_CUSTOM_LISTEN_PORT")
# Set for uvicorn's worker processes, which each load the target again.
TARGET_VARIABLE = "FAAS_BRIDGE_SERVE_TARGET"
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
    host: str = "0.0.0.0",
    port: int | None = None,
    workers: int = 1,
    threads: int = 8,
    interface: Interface | None = None,
    graceful_timeout: float = 10.0,
    access_log: bool = True,
    target: str | None = None,
) -> None:
    """Serve ``app`` until SIGTERM or SIGINT.

    Args:
        app: a WSGI or ASGI app, or a handler made by ``make_handler``.
        host: the address to bind; the platforms reach only ``0.0.0.0``.
        port: see :func:`resolve_port`.
        workers: server processes. More than one ASGI worker needs ``target`` (each
            process imports the app itself).
        threads: threads per worker for WSGI apps; one open stream (SSE) holds one thread.
        interface: ``"wsgi"`` or ``"asgi"``; detected when omitted.
        graceful_timeout: seconds running requests (open streams) get after SIGTERM.
        access_log: one line per request with its request id (logger
            ``faas_bridge.access``).
        target: the ``module:attr`` the app was loaded from.
    """
    app, interface = app_for_serving(app, interface)
    port = resolve_port(port)
    if workers < 1 or threads < 1:
        raise ConfigurationError("workers and threads must be at least 1")
    _require("uvicorn" if interface == "asgi" else "gunicorn.app.base")
    _configure_logging()
    if interface == "asgi":
        _run_uvicorn(app, host, port, workers, graceful_timeout, access_log, target)
    else:
        _run_gunicorn(app, host, port, workers, threads, graceful_timeout, access_log)


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


# --- ASGI: uvicorn ------------------------------------------------------------------------


def _run_uvicorn(
    app: Any,
    host: str,
    port: int,
    workers: int,
    graceful_timeout: float,
    access_log: bool,
    target: str | None,
) -> None:
    uvicorn = _require("uvicorn")
    from .web import AsgiContextMiddleware

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "lifespan": "auto",
        "access_log": False,  # faas_bridge.access logs instead, with request ids
        "proxy_headers": False,  # the platform's headers are read by the middleware only
        "server_header": False,
        "timeout_graceful_shutdown": graceful_timeout,
        "log_level": "info",
    }
    if workers == 1:
        uvicorn.run(AsgiContextMiddleware(app, access_log=access_log), **options)
        return
    if not target:
        raise ConfigurationError("several ASGI workers need the app's target (module:attr)")
    os.environ[TARGET_VARIABLE] = target
    os.environ["FAAS_BRIDGE_SERVE_ACCESS_LOG"] = "1" if access_log else "0"
    uvicorn.run(f"{__name__}:_worker_app", factory=True, workers=workers, **options)


def _worker_app() -> Any:
    """uvicorn's app factory in each worker process: the target loaded again, wrapped."""
    from .cli._target import load_target
    from .web import AsgiContextMiddleware

    _configure_logging()
    app, _ = app_for_serving(load_target(os.environ[TARGET_VARIABLE]), "asgi")
    access_log = os.environ.get("FAAS_BRIDGE_SERVE_ACCESS_LOG", "1") == "1"
    return AsgiContextMiddleware(app, access_log=access_log)


# --- WSGI: gunicorn -----------------------------------------------------------------------


def _run_gunicorn(
    app: Any,
    host: str,
    port: int,
    workers: int,
    threads: int,
    graceful_timeout: float,
    access_log: bool,
) -> None:
    base = _require("gunicorn.app.base")
    from .web import WsgiContextMiddleware

    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    settings: dict[str, Any] = {
        "bind": [bind],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "graceful_timeout": math.ceil(graceful_timeout),  # whole seconds
        "accesslog": None,  # faas_bridge.access logs instead, with request ids
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "faas-bridge",
        # gunicorn >= 24 opens a control socket under $HOME, read-only on the platforms
        "control_socket_disable": True,
    }
    wrapped = WsgiContextMiddleware(app, access_log=access_log)

    class Server(base.BaseApplication):  # type: ignore[misc,name-defined]
        def load_config(self) -> None:
            for name, value in settings.items():
                if name in self.cfg.settings:  # settings newer gunicorns added are optional
                    self.cfg.set(name, value)

        def load(self) -> Any:
            return wrapped

    Server().run()

"""``faas-bridge serve TARGET``: the app as a web function, behind a production server."""

from __future__ import annotations

import argparse
from typing import Any

from . import EXIT_BAD_TARGET, EXIT_MISSING_EXTRA, EXIT_USAGE, CliError, cloud_name
from ._target import add_factory_argument

DESCRIPTION = """\
Run the app the way Tencent SCF / CloudBase HTTP functions and Alibaba FC custom runtimes
expect: an HTTP server on port 9000 (uvicorn; WSGI apps through a2wsgi) with streaming
responses (SSE) passed through as they are produced. TARGET is module:attr or file.py:attr
naming the app, or the make_handler() handler wrapping it (index:main_handler).
The platform's proxy headers (request id, context, client address) are trusted only from the
cloud given by --platform, else the one the environment's variables name; on a local run
none are, and the server binds 127.0.0.1 (on a cloud 0.0.0.0, which the clouds need).
The port comes from --port, else $PORT, $FC_SERVER_PORT, $FC_CUSTOM_LISTEN_PORT, else 9000.
Needs the serve extra: pip install "faas-bridge[serve]"."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the app as a web function on port 9000 (streaming intact)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="TARGET", help="module:attr or file.py:attr")
    add_factory_argument(parser)
    parser.add_argument(
        "--platform",
        "--cloud",
        type=_cloud_or_local,
        default=None,
        metavar="CLOUD",
        help="the cloud whose proxy headers to trust: tencent, cloudbase, alibaba, or local"
        " for none (default: detected from the environment)",
    )
    parser.add_argument(
        "--host",
        default=None,
        help="address to bind (default 0.0.0.0 on a cloud, 127.0.0.1 on a local run)",
    )
    parser.add_argument("--port", type=int, default=None, help="port (default: see above)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    parser.add_argument(
        "--threads", type=int, default=8, help="threads per worker, WSGI apps (default 8)"
    )
    parser.add_argument(
        "--graceful-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="time running requests get after SIGTERM (default 10)",
    )
    parser.add_argument(
        "--no-access-log", action="store_true", help="do not log one line per request"
    )
    parser.set_defaults(run=run)


def _cloud_or_local(value: str) -> str:
    from ..names import normalise
    from ..web import LOCAL

    return LOCAL if normalise(value) == LOCAL else cloud_name(value)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigurationError
    from ..handler import Handler
    from ..serve import MissingServerError, app_for_serving, resolve_port, serve
    from ._target import is_handler, load_target, target_spec

    try:
        port = resolve_port(args.port)
    except ConfigurationError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    args.target = target_spec(args)
    target = load_target(args.target)
    if is_handler(target) and not isinstance(target, Handler):
        raise CliError(
            f"{args.target} is an event handler (event, context): name the app it serves",
            EXIT_BAD_TARGET,
        )
    try:
        app, interface = app_for_serving(target)
    except ConfigurationError as exc:
        raise CliError(f"{args.target}: {exc}", EXIT_BAD_TARGET) from exc
    try:
        serve(
            app,
            host=args.host,
            port=port,
            workers=args.workers,
            threads=args.threads,
            interface=interface,
            graceful_timeout=args.graceful_timeout,
            access_log=not args.no_access_log,
            target=args.target,
            platform=args.platform,
        )
    except MissingServerError as exc:
        raise CliError(str(exc), EXIT_MISSING_EXTRA) from exc
    except ConfigurationError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    return 0

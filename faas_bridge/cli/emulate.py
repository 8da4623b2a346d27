"""``faas-bridge emulate TARGET --platform P``: the handler behind a local copy of the gateway.

::

    faas-bridge emulate index.py:main_handler --platform tencent_apigw   # http://127.0.0.1:8000/release/
    faas-bridge emulate app:app --platform alibaba_fc --port 9001 --show-events

Each HTTP request becomes the platform's event, the handler is called in-process, and its
return is sent back the way the gateway would send it (see :mod:`faas_bridge.emulator`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from ..platforms import PLATFORM_NAMES
from . import EXIT_MISSING_EXTRA, EXIT_USAGE, CliError, format_name
from ._target import add_factory_argument, check_events_path_option

__all__ = ["register"]

INSTALL_HINT = 'emulate needs uvicorn, from the serve extra: pip install "faas-bridge[serve]"'

DESCRIPTION = """\
Serve TARGET (module:attr or file.py:attr: a handler(event, context), or a WSGI/ASGI app,
which is wrapped with make_handler) over real HTTP the way the platform's gateway calls it:
every request becomes the platform's event, the handler runs in-process, and its return value
is sent as the gateway would send it (list headers repeated, base64 bodies decoded, the
gateway's own error for a malformed return). With tencent_apigw, requests under /<stage>/
are treated as on the default domain (the stage leaves the path and prefixes the app's URLs);
other paths as on a custom domain. Request and response size limits are the platform's; the
handler timeout defaults to 30 s, the timeout 'package --configs' deploys with. The app is
told the scheme the emulator is reached by (http; https with --ssl-certfile/--ssl-keyfile) or
--scheme. POST /__faas_bridge__/trigger/KIND fires a non-HTTP event (a timer by default;
KIND as 'faas-bridge events' lists) and answers the handler's result as JSON. Ctrl+C and
SIGTERM both stop it with status 0. Needs the serve extra: pip install "faas-bridge[serve]"."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "emulate",
        help="serve a handler over HTTP the way the platform's gateway calls it",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="TARGET", help="module:attr or file.py:attr")
    add_factory_argument(parser)
    parser.add_argument(
        "-p",
        "--platform",
        required=True,
        help=f"the gateway's event format: {', '.join(PLATFORM_NAMES)} "
        "(or a cloud name where that names one format: alibaba)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--stage",
        default="release",
        help="tencent_apigw stage served under /<stage>/ (default release; '' to turn off)",
    )
    parser.add_argument(
        "--base-path",
        default="",
        metavar="PATH",
        help=(
            "the path the trigger is mounted at, e.g. /api: other paths answer 404 without "
            "calling the function; an app TARGET gets make_handler(app, base_path=PATH)"
        ),
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="handler timeout (default 30, the timeout 'package --configs' deploys with)",
    )
    parser.add_argument(
        "--scheme",
        choices=("http", "https"),
        default=None,
        help="the scheme the app is told (default: http, or https with --ssl-certfile)",
    )
    parser.add_argument("--ssl-certfile", metavar="FILE", help="serve HTTPS with this certificate")
    parser.add_argument("--ssl-keyfile", metavar="FILE", help="the certificate's private key")
    parser.add_argument(
        "--events-path",
        metavar="PATH",
        help="an app TARGET gets make_handler(app, events_path=PATH): trigger events reach it "
        "as POST PATH",
    )
    parser.add_argument(
        "--show-events",
        action="store_true",
        help="print each event and returned value (credential, Authorization and Cookie "
        "headers redacted)",
    )
    parser.add_argument(
        "--show-auth",
        action="store_true",
        help="with --show-events: print Authorization and Cookie headers in full",
    )
    parser.add_argument(
        "--fc-default-domain",
        action="store_true",
        help="alibaba_fc: answer as the *.fcapp.run default domain, which forces "
        "Content-Disposition: attachment (browsers download every response)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigurationError

    args.platform = format_name(args.platform)
    if not 0 <= args.port < 65536:
        raise CliError(f"port must be between 0 and 65535, not {args.port}", EXIT_USAGE)
    try:
        import uvicorn
    except ImportError:
        raise CliError(INSTALL_HINT, EXIT_MISSING_EXTRA) from None

    from ..emulator import Emulator, EmulatorConfig, Gateway
    from ._target import handler_for, load_target, target_spec

    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        raise CliError("give --ssl-certfile and --ssl-keyfile together", EXIT_USAGE)
    for path in (args.ssl_certfile, args.ssl_keyfile):
        if path and not os.path.isfile(path):
            raise CliError(f"no such file: {path}", EXIT_USAGE)
    config = EmulatorConfig(
        platform=args.platform,
        scheme=args.scheme,
        stage=args.stage,
        base_path=args.base_path,
        timeout=args.timeout,
        show_events=args.show_events,
        show_auth=args.show_auth,
        fc_default_domain=args.fc_default_domain,
    )
    try:
        config = Gateway(config).config  # checked before the user's code is imported
    except ConfigurationError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    check_events_path_option(args.events_path)
    options: dict[str, Any] = {"base_path": config.base_path} if config.base_path else {}
    if args.events_path:
        options["events_path"] = args.events_path
    handler = handler_for(load_target(target_spec(args)), **options)  # an app is wrapped
    emulator = Emulator(handler, config, out=sys.stdout)
    _configure_logging()
    print(_banner(args, emulator), file=sys.stderr, flush=True)
    with _stopped_by_signal():
        uvicorn.run(
            emulator,
            ssl_certfile=args.ssl_certfile,
            ssl_keyfile=args.ssl_keyfile,
            host=args.host,
            port=args.port,
            log_level="warning",
            access_log=False,  # the emulator logs each request with its request id
            proxy_headers=False,
            server_header=False,
            lifespan="off",  # the handler runs an ASGI app's lifespan itself, as in the cloud
            ws="none",
            interface="asgi3",
        )
    return 0


class _Stopped(BaseException):
    """SIGINT or SIGTERM, raised once uvicorn has shut down and re-raises the signal."""


@contextlib.contextmanager
def _stopped_by_signal() -> Iterator[None]:
    """Ctrl+C and SIGTERM both end the command with status 0 after uvicorn's graceful
    shutdown (uvicorn re-raises the signal it caught, which would give 130 for one and a
    death by SIGTERM for the other)."""
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise _Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _banner(args: argparse.Namespace, emulator: Any) -> str:
    config = emulator.config
    host = f"[{args.host}]" if ":" in args.host else args.host
    root = f"{'https' if args.ssl_certfile else 'http'}://{host}:{args.port}"
    prefix = ""
    if emulator.gateway.side.STAGE_HOST and config.stage:
        prefix = "/" + config.stage
    url = root + prefix + (config.base_path or "") + "/"
    scheme = config.scheme or ("https" if args.ssl_certfile else "http")
    return (
        f"faas-bridge emulate: {args.target} behind the {config.platform} gateway at {url} "
        f"(timeout {config.timeout:g} s, the app told {scheme}; Ctrl+C to stop)"
    )


def _configure_logging() -> None:
    """The access log and the handler's own faas_bridge log lines on stderr."""
    import logging

    logger = logging.getLogger("faas_bridge")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False

"""``faas-bridge emulate TARGET --platform P``: the handler behind a local copy of the gateway.

::

    faas-bridge emulate index.py:main_handler --platform tencent_apigw   # http://127.0.0.1:8000/release/
    faas-bridge emulate app:app --platform alibaba_fc --port 9001 --show-events

Each HTTP request becomes the platform's event, the handler is called in-process, and its
return is sent back the way the gateway would send it (see :mod:`faas_bridge.emulator`).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..platforms import PLATFORM_NAMES
from . import EXIT_MISSING_EXTRA, EXIT_USAGE, CliError, format_name

__all__ = ["register"]

INSTALL_HINT = 'emulate needs uvicorn, from the serve extra: pip install "faas-bridge[serve]"'

DESCRIPTION = """\
Serve TARGET (module:attr or file.py:attr: a handler(event, context), or a WSGI/ASGI app,
which is wrapped with make_handler) over real HTTP the way the platform's gateway calls it:
every request becomes the platform's event, the handler runs in-process, and its return value
is sent as the gateway would send it (list headers repeated, base64 bodies decoded, the
gateway's own error for a malformed return). With tencent_apigw, requests under /<stage>/
are treated as on the default domain (the stage leaves the path and prefixes the app's URLs);
other paths as on a custom domain. Request and response size limits and the handler timeout
are the platform's. POST /__faas_bridge__/trigger/KIND fires a non-HTTP event (a timer by
default; KIND as 'faas-bridge events' lists) and answers the handler's result as JSON.
Needs the serve extra: pip install "faas-bridge[serve]"."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "emulate",
        help="serve a handler over HTTP the way the platform's gateway calls it",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="TARGET", help="module:attr or file.py:attr")
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
        help="handler timeout (default: 3 on Tencent and CloudBase, 60 on Alibaba FC)",
    )
    parser.add_argument(
        "--events-path",
        metavar="PATH",
        help="an app TARGET gets make_handler(app, events_path=PATH): trigger events reach it "
        "as POST PATH",
    )
    parser.add_argument(
        "--show-events",
        action="store_true",
        help="print each event and returned value (credential headers redacted)",
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
    from ._target import handler_for, load_target

    config = EmulatorConfig(
        platform=args.platform,
        stage=args.stage,
        base_path=args.base_path,
        timeout=args.timeout,
        show_events=args.show_events,
        fc_default_domain=args.fc_default_domain,
    )
    try:
        config = Gateway(config).config  # checked before the user's code is imported
    except ConfigurationError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    options: dict[str, Any] = {"base_path": config.base_path} if config.base_path else {}
    if args.events_path:
        options["events_path"] = args.events_path
    handler = handler_for(load_target(args.target), **options)  # an app is wrapped
    emulator = Emulator(handler, config, out=sys.stdout)
    _configure_logging()
    print(_banner(args, emulator), file=sys.stderr, flush=True)
    uvicorn.run(
        emulator,
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


def _banner(args: argparse.Namespace, emulator: Any) -> str:
    config = emulator.config
    host = f"[{args.host}]" if ":" in args.host else args.host
    root = f"http://{host}:{args.port}"
    prefix = ""
    if emulator.gateway.side.STAGE_HOST and config.stage:
        prefix = "/" + config.stage
    url = root + prefix + (config.base_path or "") + "/"
    return (
        f"faas-bridge emulate: {args.target} behind the {config.platform} gateway at {url} "
        f"(timeout {config.timeout:g} s; Ctrl+C to stop)"
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

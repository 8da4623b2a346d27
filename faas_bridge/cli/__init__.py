"""The ``faas-bridge`` command line (also ``python -m faas_bridge``).

Each subcommand lives in ``faas_bridge/cli/<name>.py`` and provides
``register(subparsers)``, which adds its parser and sets ``run=callable(args) -> int``.
Command modules keep heavy imports inside ``run`` so ``faas-bridge --help`` stays fast.

Exit codes: 0 success; 1 the handler or app failed; 2 bad usage (argparse, unknown
platforms, unsupported runtimes); 3 the target or project could not be loaded; 4 an input
could not be read or used (event, context or data files; a project's requirements);
5 a missing optional dependency or tool (the message names what to install).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import BridgeError

__all__ = ["CliError", "main"]

# Subcommand modules under faas_bridge.cli, in the order --help lists them.
COMMANDS: tuple[str, ...] = (
    "invoke",
    "events",
    "import-events",
    "command-event",
    "serve",
    "emulate",
    "bootstrap",
    "package",
)

EXIT_OK = 0
EXIT_HANDLER_FAILED = 1
EXIT_USAGE = 2
EXIT_BAD_TARGET = 3
EXIT_BAD_EVENT = 4
EXIT_MISSING_EXTRA = 5


class CliError(BridgeError):
    """A failure the CLI reports as one line on stderr with a given exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faas-bridge",
        description="Run, test and ship WSGI/ASGI apps on Tencent SCF, CloudBase and Alibaba FC.",
    )
    parser.add_argument("--version", action="version", version=f"faas-bridge {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"faas_bridge.cli.{name.replace('-', '_')}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        code: int = run(args)
    except CliError as exc:
        print(f"faas-bridge: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())


def format_name(value: str) -> str:
    """The event format a command-line name means (``alibaba`` -> ``alibaba_fc``); a one-line
    usage error naming the choices otherwise."""
    from ..errors import ConfigurationError
    from ..platforms import resolve_platform_name

    try:
        return resolve_platform_name(value)
    except ConfigurationError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def cloud_name(value: str) -> str:
    """The cloud a command-line name means (``alibaba_fc`` -> ``alibaba``), as an argparse
    ``type``: a usage error naming the choices otherwise."""
    from ..clouds import resolve_cloud_name
    from ..errors import ConfigurationError

    try:
        return resolve_cloud_name(value)
    except ConfigurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_cloud_arguments(parser: argparse.ArgumentParser) -> None:
    """``--platform/--cloud CLOUD`` (required) and ``--python X.Y``: the target of the
    commands that write for one cloud (``package``, ``bootstrap``)."""
    from ..clouds import CLOUDS, PYTHON_VERSIONS

    parser.add_argument(
        "--platform",
        "--cloud",
        required=True,
        type=cloud_name,
        metavar="CLOUD",
        help=f"the cloud: {', '.join(CLOUDS)}",
    )
    parser.add_argument(
        "--python", default="3.10", choices=PYTHON_VERSIONS, help="runtime version (default 3.10)"
    )

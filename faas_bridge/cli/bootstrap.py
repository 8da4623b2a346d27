"""``faas-bridge bootstrap TARGET --platform P``: the start file of a web function."""

from __future__ import annotations

import argparse
from typing import Any

from . import EXIT_USAGE, CliError, add_cloud_arguments

DESCRIPTION = """\
Write the file a platform runs to start web mode: an executable scf_bootstrap for Tencent SCF
web functions and CloudBase HTTP functions, or bootstrap for an Alibaba FC custom runtime.
It starts `faas-bridge serve TARGET` on 0.0.0.0:9000 with the runtime's own interpreter."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "bootstrap",
        help="write scf_bootstrap (Tencent, CloudBase) or FC's bootstrap for web mode",
        description=DESCRIPTION,
    )
    parser.add_argument("target", metavar="TARGET", help="module:attr of the app, e.g. index:app")
    add_cloud_arguments(parser)
    parser.add_argument(
        "-o", "--output", default=".", metavar="DIR", help="folder to write into (default .)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..bootstrap import deploy_instructions, runtime_for, write_bootstrap

    try:
        paths = write_bootstrap(args.target, args.platform, args.python, args.output)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    except OSError as exc:
        raise CliError(f"cannot write into {args.output}: {exc}", EXIT_USAGE) from exc
    runtime = runtime_for(args.platform, args.python)
    for path in paths:
        print(f"wrote {path} (executable, LF endings): {runtime.interpreter} -m faas_bridge serve")
    print(deploy_instructions(args.platform, args.python), end="")
    return 0

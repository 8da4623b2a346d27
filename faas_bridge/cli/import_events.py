"""``faas-bridge import-events LOG... -o tests/events/``: recorded events into fixture files.

::

    faas-bridge import-events scf.log -o tests/events/
    faas-bridge import-events console-test-event.json -o tests/events/

Reads ``FAAS_BRIDGE_EVENT`` lines (``make_handler(record_events=True)``) from logs pulled
from CLS, SLS or a CLI, or a file holding one event as a console shows it; writes one file
per event, named by format, method and path, never replacing an existing file.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import EXIT_BAD_EVENT, EXIT_OK, CliError
from .events import write_out

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import-events",
        help="turn recorded FAAS_BRIDGE_EVENT log lines into fixture files",
        description=(
            "Read LOG files (log lines with FAAS_BRIDGE_EVENT records, or one JSON event as a "
            "cloud console shows it) and write each event to OUTPUT as <format>__<METHOD>_"
            "<path>.json (event__<kind>.json for non-HTTP events). Existing files are kept."
        ),
    )
    parser.add_argument("logs", nargs="+", metavar="LOG")
    parser.add_argument(
        "-o", "--output", default="tests/events", help="folder (default tests/events)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..testing.recorded import import_events

    sources = [Path(name) for name in args.logs]
    for source in sources:
        if not source.is_file():
            raise CliError(f"no such file: {source}", EXIT_BAD_EVENT)
    try:
        written = import_events(sources, Path(args.output))
    except OSError as exc:
        raise CliError(f"cannot write to {args.output}: {exc.strerror}", EXIT_BAD_EVENT) from None
    if not written:
        raise CliError("no FAAS_BRIDGE_EVENT record or JSON event found", EXIT_BAD_EVENT)
    write_out("\n".join(str(path) for path in written))
    return EXIT_OK

"""``faas-bridge command-event KIND ARGS...``: print the event that runs a management command
in a function made with ``make_handler(app, commands=True)``.

::

    faas-bridge command-event manage migrate --noinput   # Django (also: django)
    faas-bridge command-event flask routes
    faas-bridge command-event python "print(app.name)"

Send the printed event with the cloud's own invoke command (see README), or run it locally
with ``faas-bridge invoke app:app --commands --event -``. It holds no credentials.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import EXIT_OK, EXIT_USAGE, CliError
from .events import write_out

__all__ = ["register"]

_ALIASES = {"manage": "django", "manage.py": "django"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "command-event",
        help="print the event that runs a management command in the deployed function",
        description=(
            "Print the direct-invoke event that runs KIND (manage/django, flask or python) "
            "with ARGS in a function made with make_handler(app, commands=True)."
        ),
    )
    parser.add_argument("kind", metavar="KIND", help="manage (django), flask or python")
    parser.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..commands import command_event
    from ..errors import ConfigurationError

    kind = _ALIASES.get(args.kind, args.kind)
    try:
        event = command_event(kind, list(args.args))
    except ConfigurationError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    write_out(json.dumps(event, ensure_ascii=False))
    return EXIT_OK

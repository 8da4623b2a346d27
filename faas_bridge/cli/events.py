"""``faas-bridge events``: print a platform's HTTP event as JSON, or list the shipped samples.

::

    faas-bridge events                                   # the sample events
    faas-bridge events tencent_apigw/get_query           # one sample
    faas-bridge events alibaba_fc -X POST --path /items -d '{"a": 1}'

The request flags defined here (``--method``, ``--path``, ``--query``, ``--header``,
``--data``) are shared with ``faas-bridge invoke``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..platforms import PLATFORM_NAMES
from . import EXIT_BAD_EVENT, EXIT_OK, EXIT_USAGE, CliError

__all__ = ["add_request_arguments", "event_from_arguments", "register", "write_out"]

REQUEST_FLAGS = ("method", "path", "query", "header", "data")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "events",
        help="print an event as a platform's gateway sends it, or list the sample events",
        description=(
            f"With PLATFORM ({', '.join(PLATFORM_NAMES)}), print the HTTP "
            "event that platform's gateway would send for the request the flags describe. "
            "With a sample name (tencent_apigw/get_query), print that shipped sample. "
            "With a trigger kind (tencent.timer, alibaba.oss...), print a sample non-HTTP "
            "event of that kind. With neither, list the samples and kinds."
        ),
    )
    parser.add_argument("platform", nargs="?", metavar="PLATFORM|SAMPLE")
    add_request_arguments(parser)
    parser.set_defaults(run=run)


def add_request_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that describe one HTTP request."""
    group = parser.add_argument_group("request")
    group.add_argument("-X", "--method", help="the HTTP method (default GET, or POST with --data)")
    group.add_argument("--path", help="the request path, may include ?query (default /)")
    group.add_argument(
        "-q",
        "--query",
        action="append",
        default=[],
        metavar="K=V",
        help="a query parameter (repeatable; K alone sends a key without value)",
    )
    group.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="K:V",
        help="a request header (repeatable)",
    )
    group.add_argument(
        "-d",
        "--data",
        metavar="TEXT|@FILE",
        help=(
            "the request body: text, @FILE for a file's bytes, @- for standard input; "
            "the Content-Type defaults to application/json for valid JSON, else "
            "text/plain for text and application/octet-stream for a file"
        ),
    )


def request_flags_given(args: argparse.Namespace) -> bool:
    return any(getattr(args, name) for name in REQUEST_FLAGS)


def event_from_arguments(args: argparse.Namespace, platform: str, **options: Any) -> Any:
    """The event ``build_event`` makes for the request the flags describe."""
    from ..testing import build_event

    headers: list[tuple[str, str]] = []
    for item in args.header:
        name, colon, value = item.partition(":")
        if not colon or not name.strip():
            raise CliError(f"--header expects NAME:VALUE, got {item!r}", EXIT_USAGE)
        headers.append((name.strip(), value.strip()))
    query: list[tuple[str, str | None]] = []
    for item in args.query:
        key, equals, value = item.partition("=")
        query.append((key, value if equals else None))
    body = b""
    if args.data is not None:
        body = _read_data(args.data)
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("Content-Type", _guess_type(body, args.data.startswith("@"))))
    method = args.method or ("POST" if args.data is not None else "GET")
    return build_event(
        platform,
        method,
        args.path or "/",
        query=query,
        headers=headers,
        body=body,
        **options,
    )


def _read_data(spec: str) -> bytes:
    if not spec.startswith("@"):
        return spec.encode("utf-8")
    source = spec[1:]
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        with open(source, "rb") as file:
            return file.read()
    except OSError as exc:
        raise CliError(
            f"cannot read --data file {source!r}: {exc.strerror}", EXIT_BAD_EVENT
        ) from None


def _guess_type(body: bytes, from_file: bool) -> str:
    import json

    try:
        json.loads(body)
    except ValueError:
        pass
    else:
        return "application/json"
    if from_file:
        return "application/octet-stream"
    return "text/plain; charset=utf-8"


def write_out(text: str) -> None:
    """Print ``text`` as UTF-8, whatever the terminal's encoding."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text + "\n")
    else:
        buffer.write((text + "\n").encode("utf-8"))
        buffer.flush()


def dump_json(value: Any) -> str:
    import json

    if isinstance(value, (bytes, bytearray)):  # Alibaba FC events: bytes of JSON
        value = json.loads(value)
    return json.dumps(value, indent=2, ensure_ascii=False, default=repr)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigurationError
    from ..platforms import resolve_platform_name
    from ..testing import build_trigger_event, list_events, load_event, trigger_kinds

    name = args.platform
    if name is None:
        if request_flags_given(args):
            raise CliError("give a PLATFORM to build an event from the request flags", EXIT_USAGE)
        samples = list_events()
        samples.update(
            (kind, "a non-HTTP trigger event (make_handler(events_path=...) delivers it)")
            for kind in trigger_kinds()
        )
        width = max(len(sample) for sample in samples)
        write_out(
            "\n".join(
                f"{sample:<{width}}  {description}" for sample, description in samples.items()
            )
        )
        return EXIT_OK
    if name in list_events():
        if request_flags_given(args):
            raise CliError(
                "the request flags build an event; they cannot change a sample", EXIT_USAGE
            )
        write_out(dump_json(load_event(name)))
        return EXIT_OK
    if name in trigger_kinds():
        if request_flags_given(args):
            raise CliError("the request flags build an HTTP event, not a trigger's", EXIT_USAGE)
        write_out(dump_json(build_trigger_event(name)))
        return EXIT_OK
    if "/" in name:
        raise CliError(
            f"unknown sample {name!r} (run 'faas-bridge events' to list the samples)", EXIT_USAGE
        )
    try:
        platform = resolve_platform_name(name)
    except ConfigurationError as exc:
        raise CliError(f"{exc} (or a sample: run 'faas-bridge events')", EXIT_USAGE) from None
    write_out(dump_json(event_from_arguments(args, platform)))
    return EXIT_OK

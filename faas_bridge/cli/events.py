"""``faas-bridge events``: print a platform's HTTP event as JSON, or list the shipped samples.

::

    faas-bridge events                                   # the samples, with method and path
    faas-bridge events tencent_apigw/get_query           # one sample
    faas-bridge events tencent_apigw/get_query --path /books   # a sample, another path
    faas-bridge events alibaba_fc -X POST --path /items -d '{"a": 1}'

The request flags defined here (``--method``, ``--path``, ``--query``, ``--header``,
``--data``, ``--form``) are shared with ``faas-bridge invoke``. Given with a sample (or an
event file), they replace that part of its request and keep the rest.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any
from urllib.parse import unquote

from ..platforms import PLATFORM_NAMES
from . import EXIT_BAD_EVENT, EXIT_OK, EXIT_USAGE, CliError

__all__ = ["add_request_arguments", "event_from_arguments", "register", "write_out"]

REQUEST_FLAGS = ("method", "path", "query", "header", "data", "form")


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
    group.add_argument(
        "-F",
        "--form",
        action="append",
        default=[],
        metavar="K=V|K=@FILE",
        help="a multipart/form-data field, or with @ a file upload (repeatable, as curl -F)",
    )


def request_flags_given(args: argparse.Namespace) -> bool:
    return any(getattr(args, name) for name in REQUEST_FLAGS)


def event_from_arguments(
    args: argparse.Namespace, platform: str, base: Any = None, **options: Any
) -> Any:
    """The event ``build_event`` makes for the request the flags describe; with ``base``
    (an HTTP event of ``platform``, as delivered), the flags replace parts of its request."""
    from ..testing import build_event

    request = _request_of(base, platform) if base is not None else None
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
    body, content_type = _body(args)
    if content_type and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", content_type))
    path = args.path or "/"
    method = args.method or ("POST" if body is not None else "GET")
    if request is not None:
        path, query, headers, body, method = _merged(request, args, query, headers, body)
        options = {"client_ip": request["client_ip"], **options}
    return build_event(
        platform,
        method,
        path,
        query=query,
        headers=headers,
        body=body or b"",
        **options,
    )


def _request_of(event: Any, platform: str) -> dict[str, Any]:
    """The request an HTTP event of ``platform`` carries, as ``build_event`` inputs."""
    import json

    from ..errors import BridgeError
    from ..options import Options
    from ..platforms import PLATFORMS

    decoded = json.loads(event) if isinstance(event, (bytes, str)) else event
    try:
        parsed = PLATFORMS[platform].parse(decoded, None, Options(stage_prefix=False))
    except BridgeError as exc:
        message = f"the request flags cannot change this event: {exc}"
        raise CliError(message, EXIT_BAD_EVENT) from None
    return {
        "method": parsed.method,
        "path": parsed.raw_path.decode("latin-1"),
        "query": parsed.query_string.decode("latin-1"),
        "headers": list(parsed.headers),
        "body": parsed.body,
        "client_ip": parsed.client[0] if parsed.client else "203.0.113.10",
    }


def _merged(
    request: dict[str, Any],
    args: argparse.Namespace,
    query: list[tuple[str, str | None]],
    headers: list[tuple[str, str]],
    body: bytes | None,
) -> tuple[str, Any, list[tuple[str, str]], bytes | None, str]:
    """The sample's request with the parts the flags give replaced: ``(path, query,
    headers, body, method)``. A header given replaces the sample's of that name; a new
    body drops the sample's Content-Type and Content-Length."""
    path = args.path or request["path"]
    new_query: Any = query if (query or args.path) else request["query"]
    replaced = {name.lower() for name, _ in headers}
    if body is not None:
        replaced |= {"content-length", "content-type"}
    kept = [(n, v) for n, v in request["headers"] if n.lower() not in replaced]
    if body is None:
        body = request["body"]
    method = args.method or request["method"]
    if not args.method and (args.data is not None or args.form) and method in ("GET", "HEAD"):
        method = "POST"
    return path, new_query, kept + headers, body, method


def _body(args: argparse.Namespace) -> tuple[bytes | None, str | None]:
    """The body the flags give (``None``: none given) and its default Content-Type."""
    if args.form:
        if args.data is not None:
            raise CliError("give --data or --form, not both", EXIT_USAGE)
        return _multipart(args.form)
    if args.data is None:
        return None, None
    body = _read_data(args.data)
    return body, _guess_type(body, args.data.startswith("@"))


def _multipart(items: list[str]) -> tuple[bytes, str]:
    import os

    from ..testing.client import _multipart as encode

    fields: dict[str, list[str]] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise CliError(f"--form expects NAME=VALUE or NAME=@FILE, got {item!r}", EXIT_USAGE)
        if value.startswith("@"):
            files[name] = (os.path.basename(value[1:]), _read_data(value, "--form"))
        else:
            fields.setdefault(name, []).append(value)
    return encode(fields, files)


def _read_data(spec: str, flag: str = "--data") -> bytes:
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
            f"cannot read {flag} file {source!r}: {exc.strerror}", EXIT_BAD_EVENT
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


def _is_http(event: Any, platform: str) -> bool:
    import json

    from ..platforms import PLATFORMS

    decoded = json.loads(event) if isinstance(event, (bytes, str)) else event
    return isinstance(decoded, dict) and PLATFORMS[platform].matches(decoded)


def _sample_table(samples: dict[str, str], others: dict[str, str]) -> str:
    """One line per sample: name, method and path of its request, description; then one
    per entry of ``others`` (names that are not samples: no request)."""
    from ..testing import load_event

    rows = []
    for sample, description in samples.items():
        platform = sample.partition("/")[0]
        event = load_event(sample)
        if _is_http(event, platform):
            request = _request_of(event, platform)
            query = request["query"]
            path = unquote(request["path"]) + ("?" + unquote(query) if query else "")
            rows.append((sample, request["method"], path, description))
        else:
            rows.append((sample, "-", "-", description))
    rows.extend((name, "-", "-", description) for name, description in others.items())
    widths = [max(_width(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join(_pad(cell, width) for cell, width in zip(row[:3], widths)) + "  " + row[3]
        for row in rows
    )


def _width(text: str) -> int:
    """Terminal columns ``text`` takes: wide (CJK) characters take two."""
    from unicodedata import east_asian_width

    return sum(2 if east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigurationError
    from ..platforms import resolve_platform_name
    from ..testing import build_trigger_event, list_events, load_event, trigger_kinds

    name = args.platform
    if name is None:
        if request_flags_given(args):
            raise CliError("give a PLATFORM to build an event from the request flags", EXIT_USAGE)
        triggers = dict.fromkeys(
            trigger_kinds(), "a non-HTTP trigger event (make_handler(events_path=...) delivers it)"
        )
        write_out(_sample_table(list_events(), triggers))
        return EXIT_OK
    if name in list_events():
        sample = load_event(name)
        if request_flags_given(args):
            platform = name.partition("/")[0]
            if not _is_http(sample, platform):
                message = f"{name} is not an HTTP event: the request flags cannot change it"
                raise CliError(message, EXIT_USAGE)
            sample = event_from_arguments(args, platform, sample)
        write_out(dump_json(sample))
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

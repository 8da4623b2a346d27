"""``faas-bridge invoke``: call a handler or app once with an event, print the response.

::

    faas-bridge invoke index.py:main_handler --event alibaba_fc/json_post
    faas-bridge invoke app:app --platform cloudbase --path /api/items --query page=2
    faas-bridge invoke app:app --event event.json --raw
    faas-bridge invoke app:app --trigger tencent.timer --events-path /_events

The response is decoded the way the platform's gateway decodes it (status line, headers,
body); ``--raw`` prints what the handler returned instead. The exit code is 0 whenever the
handler returned, whatever the HTTP status; see ``faas_bridge.cli`` for the others.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..platforms import PLATFORM_NAMES
from . import EXIT_BAD_EVENT, EXIT_HANDLER_FAILED, EXIT_OK, EXIT_USAGE, CliError, format_name
from ._target import add_factory_argument
from .events import add_request_arguments, dump_json, request_flags_given, write_out

__all__ = ["register"]

DEFAULT_PLATFORM = "tencent_apigw"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "invoke",
        help="call a handler or app with one event and print the response",
        description=(
            "Call TARGET (module:attr or path/to/file.py:attr, a handler(event, context) or a "
            "WSGI/ASGI app, which is wrapped with make_handler) with an event: a file, - for "
            "standard input, a sample name (see 'faas-bridge events'), or one built from the "
            "request flags. Print the response as the platform's gateway would send it."
        ),
    )
    parser.add_argument("target", metavar="TARGET")
    add_factory_argument(parser)
    parser.add_argument("-e", "--event", metavar="FILE|-|SAMPLE", help="the event to send (JSON)")
    parser.add_argument(
        "-p",
        "--platform",
        help=(
            f"the event format: {', '.join(PLATFORM_NAMES)} "
            f"(default: detected from --event, else {DEFAULT_PLATFORM})"
        ),
    )
    add_request_arguments(parser)
    parser.add_argument(
        "--trigger",
        metavar="KIND",
        help="send a sample non-HTTP event of KIND instead (tencent.timer, alibaba.oss...; "
        "'faas-bridge events' lists them) and print the handler's result",
    )
    parser.add_argument(
        "--events-path",
        metavar="PATH",
        help="when TARGET is an app: wrap it with make_handler(app, events_path=PATH)",
    )
    parser.add_argument(
        "--commands",
        action="store_true",
        help="when TARGET is an app: wrap it with make_handler(app, commands=True), so a "
        "'faas-bridge command-event' event runs its command",
    )
    parser.add_argument("--context", metavar="FILE", help="a JSON object of context fields to set")
    parser.add_argument(
        "--raw", action="store_true", help="print the handler's return value as JSON"
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print the response body only, without the status line and headers",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="write the response body's bytes to FILE (a new file; binary bodies included)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..testing import build_context, parse_response

    platform: str | None = None if args.platform is None else format_name(args.platform)
    context_format: str | None = None
    if args.trigger is not None:
        if args.event is not None or request_flags_given(args):
            raise CliError(
                "--trigger cannot be combined with --event or the request flags", EXIT_USAGE
            )
        event, context_format = _trigger_event(args.trigger)
        platform = None
    elif args.event is not None:
        event, platform = _load_event(args.event, platform)
        if request_flags_given(args):
            if platform is None:
                raise CliError(
                    f"{args.event} is not an HTTP event: the request flags cannot change it",
                    EXIT_USAGE,
                )
            from .events import event_from_arguments

            event = event_from_arguments(args, platform, event)
    else:
        from .events import event_from_arguments

        platform = platform or DEFAULT_PLATFORM
        event = event_from_arguments(args, platform)

    context_format = context_format or platform or DEFAULT_PLATFORM
    context = build_context(context_format, **_context_fields(args.context))

    from ._target import check_events_path_option, handler_for, is_handler, load_target, target_spec

    check_events_path_option(args.events_path)
    target = load_target(target_spec(args))
    options: dict[str, Any] = {}
    if args.events_path is not None:
        if is_handler(target):
            raise CliError("--events-path applies to an app, not to a handler", EXIT_USAGE)
        options["events_path"] = args.events_path
    if args.commands:
        if is_handler(target):
            raise CliError("--commands applies to an app, not to a handler", EXIT_USAGE)
        options["commands"] = True
    handler = handler_for(target, **options)
    returned = _call(handler, event, context)

    if args.raw or platform is None:  # not an HTTP event: nothing to decode
        write_out(dump_json(returned))
        return EXIT_OK
    from ..testing import InvalidResponseError

    try:
        response = parse_response(platform, returned)
    except InvalidResponseError as exc:
        raise CliError(f"invalid response: {exc}", EXIT_HANDLER_FAILED) from None
    if args.output is not None:
        _save(args.output, response.content)
        note = f"[{len(response.content)} bytes written to {args.output}]"
        write_out(note if args.quiet else _render(response, note))
    elif args.quiet:
        write_out(_body_text(response) if response.content else "")
    else:
        write_out(_render(response))
    return EXIT_OK


def _save(path: str, content: bytes) -> None:
    """Write the body to a new file; an existing file is never replaced."""
    try:
        with open(path, "xb") as file:
            file.write(content)
    except FileExistsError:
        raise CliError(f"{path} exists; -o writes a new file only", EXIT_USAGE) from None
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}", EXIT_USAGE) from None


def _call(handler: Any, event: Any, context: Any) -> Any:
    from ..errors import BridgeError

    try:
        return handler(event, context)
    except BridgeError as exc:  # faas_bridge's own, e.g. a timer event without on_event=
        raise CliError(f"{type(exc).__name__}: {exc}", EXIT_HANDLER_FAILED) from None
    except Exception as exc:  # the user's code: its traceback is what they need
        import traceback

        traceback.print_exc()
        raise CliError(
            f"the handler raised {type(exc).__name__}: {exc}", EXIT_HANDLER_FAILED
        ) from None


def _load_event(source: str, platform: str | None) -> tuple[Any, str | None]:
    """``(event as the platform passes it, platform or None for a non-HTTP event)``."""
    import json
    import os

    from ..platforms import PLATFORMS, detect
    from ..testing import list_events, load_event

    if source == "-":
        raw = sys.stdin.buffer.read()
        label = "standard input"
    elif os.path.isfile(source):
        try:
            with open(source, "rb") as file:
                raw = file.read()
        except OSError as exc:
            raise CliError(f"cannot read {source}: {exc.strerror}", EXIT_BAD_EVENT) from None
        label = source
    elif source in list_events():
        loaded = load_event(source)
        raw = loaded if isinstance(loaded, bytes) else json.dumps(loaded).encode("utf-8")
        label = source
    else:
        raise CliError(
            f"no event file or sample named {source!r} (run 'faas-bridge events' to list samples)",
            EXIT_BAD_EVENT,
        )
    try:
        decoded = json.loads(raw)
    except ValueError as exc:
        raise CliError(f"{label} is not valid JSON: {exc}", EXIT_BAD_EVENT) from None
    if not isinstance(decoded, dict):
        raise CliError(
            f"{label} holds a JSON {type(decoded).__name__}, not an event object", EXIT_BAD_EVENT
        )
    detected = detect(decoded)
    if platform is not None and not PLATFORMS[platform].matches(decoded):
        if detected is not None:
            raise CliError(
                f"{label} is a {detected.NAME} event, but --platform is {platform}", EXIT_BAD_EVENT
            )
        detected = None  # not HTTP: hand it over in the form the platform would
    elif platform is None and detected is not None:
        platform = detected.NAME
    form = platform or (source.partition("/")[0] if source in list_events() else None)
    if form is None:
        return decoded, None
    from ..platforms._gateway import gateway

    event = gateway(form).deliver(decoded)  # as the runtime passes it (FC 3.0: bytes of JSON)
    return event, platform if detected is not None else None


def _trigger_event(kind: str) -> tuple[Any, str | None]:
    """``(a sample event of kind, the format whose context suits it, if one)``."""
    from ..errors import ConfigurationError
    from ..platforms import resolve_platform_name
    from ..testing import build_trigger_event

    try:
        event = build_trigger_event(kind)
    except ConfigurationError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    try:
        return event, resolve_platform_name(kind.partition(".")[0])
    except ConfigurationError:  # a cloud with several formats: their contexts are alike
        return event, None


def _context_fields(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    import json

    try:
        with open(path, "rb") as file:
            fields = json.load(file)
    except OSError as exc:
        raise CliError(f"cannot read --context {path}: {exc.strerror}", EXIT_BAD_EVENT) from None
    except ValueError as exc:
        raise CliError(f"--context {path} is not valid JSON: {exc}", EXIT_BAD_EVENT) from None
    if not isinstance(fields, dict):
        raise CliError(f"--context {path} must hold a JSON object", EXIT_BAD_EVENT)
    return fields


def _render(response: Any, body: str | None = None) -> str:
    from http import HTTPStatus

    try:
        reason = HTTPStatus(response.status_code).phrase
    except ValueError:
        reason = ""
    lines = [f"HTTP/1.1 {response.status_code} {reason}".rstrip()]
    lines.extend(f"{name}: {value}" for name, value in response.headers.items())
    lines.append("")
    if body is not None:
        lines.append(body)
    elif response.content:
        lines.append(_body_text(response))
    return "\n".join(lines)


def _body_text(response: Any) -> str:
    from ..http import is_text_type

    content_type = response.headers.get("content-type")
    encoded = response.headers.get("content-encoding") not in (None, "", "identity")
    if not encoded and (content_type is None or is_text_type(content_type, frozenset())):
        try:
            text: str = response.content.decode(response.charset)
        except (UnicodeDecodeError, LookupError):
            pass
        else:
            return text
    return (
        f"[{len(response.content)} bytes of {content_type or 'untyped'} content; "
        "-o FILE saves them, --raw shows them base64-encoded]"
    )

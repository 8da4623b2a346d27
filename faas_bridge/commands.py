"""Management commands in the deployed function (``make_handler(app, commands=True)``; off
by default): a direct-invoke event of the shape ::

    {"faas_bridge.command": {"django": ["migrate", "--noinput"]}}
    {"faas_bridge.command": {"flask": ["routes"]}}
    {"faas_bridge.command": {"python": "print(app.name)"}}

runs a Django management command, a Flask CLI command (the app's own and Flask's built-in
ones) or a Python snippet (``app`` is the wrapped app) in the function, and returns
``{"exit_status": int, "output": str, "truncated": bool}``: standard output and error
together, at most :data:`OUTPUT_LIMIT` characters (the rest dropped, ``truncated`` true),
with credentials replaced by ``<redacted>``: the context's (FC's ``credentials``) and the
values of the environment variables in which the clouds give the function role's
credentials (``clouds.CREDENTIAL_VARIABLES``: ``TENCENTCLOUD_SECRETKEY``,
``ALIBABA_CLOUD_ACCESS_KEY_SECRET``...), even where the output limit cuts one.

Only events that are not HTTP events reach this: no HTTP trigger and no ``events_path``
route can run a command, nor an event carrying an HTTP request's fields (``httpMethod``,
``rawPath``) in a shape no format reads. Whoever may invoke the function directly (cloud
credentials with invoke permission) can run code in it: that is why it is opt-in.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
import traceback

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, Callable

__all__ = ["COMMAND_KEY", "OUTPUT_LIMIT", "CommandRunner", "command_event"]

COMMAND_KEY = "faas_bridge.command"
OUTPUT_LIMIT = 64 * 1024
_MARGIN = 4096  # characters kept beyond the limit, so a secret the limit cuts is still found
_KINDS = ("django", "flask", "python")


def command_event(kind: str, args: list[str]) -> dict[str, Any]:
    """The event that runs ``kind`` (``django``, ``flask`` or ``python``) with ``args``
    (for ``python``, one snippet)."""
    if kind not in _KINDS:
        from .errors import ConfigurationError

        raise ConfigurationError(f"a command is one of {', '.join(_KINDS)}, not {kind!r}")
    return {COMMAND_KEY: {kind: " ".join(args) if kind == "python" else list(args)}}


class _Bounded(io.TextIOBase):
    """A text sink keeping the first ``limit`` characters."""

    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit
        self.truncated = False

    def writable(self) -> bool:
        return True

    def write(self, text: Any) -> int:  # str, or bytes from click's binary writer
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8", "replace")
        room = self.limit - self.size
        if len(text) > room:
            self.truncated = True
            text = text[: max(room, 0)]
        if text:
            self.parts.append(text)
            self.size += len(text)
        return len(text)


class _Routed:
    """``sys.stdout``/``sys.stderr`` while commands run: a thread running a command reaches
    its own sink, every other thread (invocations running beside it on an instance with
    concurrency above 1) the stream this replaced, so their output stays in the function's
    log and out of the command's answer."""

    __slots__ = ("original", "sinks")

    def __init__(self, original: Any, sinks: dict[int, _Bounded]) -> None:
        self.original = original
        self.sinks = sinks  # thread id -> sink, one dict for stdout and stderr

    def __getattr__(self, name: str) -> Any:  # write, flush, isatty, encoding, buffer...
        target = self.sinks.get(threading.get_ident(), self.original)
        # No stream at all (a closed or absent stdout): print writes nothing, as without us.
        return getattr(_DISCARD if target is None else target, name)


_DISCARD = _Bounded(0)
_lock = threading.Lock()
_routed: list[_Routed] = []  # the installed stdout and stderr routers, while commands run


@contextlib.contextmanager
def _capture(sink: _Bounded) -> Iterator[None]:
    """Route this thread's standard output and error into ``sink``. Concurrent commands
    each get their own; a command run inside another gets its own and hands the outer one
    back; the last one out puts the original streams back, whatever a command left in
    ``sys.stdout`` (as ``contextlib.redirect_stdout`` does)."""
    me = threading.get_ident()
    with _lock:
        if not _routed:
            sinks: dict[int, _Bounded] = {}
            _routed[:] = [_Routed(sys.stdout, sinks), _Routed(sys.stderr, sinks)]
        out, err = _routed
        sys.stdout, sys.stderr = out, err  # again, should a running command have swapped them
        outer = out.sinks.get(me)
        out.sinks[me] = sink
    try:
        yield
    finally:
        with _lock:
            if outer is None:
                del out.sinks[me]
            else:
                out.sinks[me] = outer
            if not out.sinks:
                sys.stdout, sys.stderr = out.original, err.original
                _routed.clear()


class CommandRunner:
    """``on_event`` for command events; other non-HTTP events go to ``fallback``."""

    __slots__ = ("app", "fallback")

    def __init__(self, app: Any, fallback: Callable[[Any, Any], Any]) -> None:
        self.app = app
        self.fallback = fallback

    def __call__(self, event: Any, context: Any) -> Any:
        from .nonhttp import looks_like_http

        command = event.get(COMMAND_KEY) if isinstance(event, dict) else None
        if not isinstance(command, dict) or len(command) != 1 or looks_like_http(event):
            return self.fallback(event, context)  # an HTTP request never runs a command
        ((kind, args),) = command.items()
        import logging

        logging.getLogger("faas_bridge").warning(
            "running a %s command (commands=True)", kind if kind in _KINDS else "unknown"
        )
        sink = _Bounded(OUTPUT_LIMIT + _MARGIN)
        with _capture(sink):
            status = self._run(kind, args)
        output = _redact("".join(sink.parts), context)
        truncated = sink.truncated or len(output) > OUTPUT_LIMIT
        return {"exit_status": status, "output": output[:OUTPUT_LIMIT], "truncated": truncated}

    def _run(self, kind: Any, args: Any) -> int:
        try:
            if kind == "python" and isinstance(args, str):
                exec(compile(args, "<faas_bridge command>", "exec"), {"app": self.app})
                return 0
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                print(f"{kind}: the arguments must be a list of strings")
                return 2
            if kind == "django":
                from django.core.management import execute_from_command_line

                execute_from_command_line(["manage.py", *args])
                return 0
            if kind == "flask":
                return _flask(self.app, args)
            print(f"unknown command kind {kind!r}: one of {', '.join(_KINDS)}")
            return 2
        except SystemExit as exc:
            code = exc.code
            return code if isinstance(code, int) else (0 if code is None else 1)
        except Exception:
            traceback.print_exc()
            return 1


def _flask(app: Any, args: list[str]) -> int:
    import click
    from flask.cli import FlaskGroup

    group = FlaskGroup(create_app=lambda: app, load_dotenv=False, set_debug_flag=False)
    try:
        group.main(args=args, prog_name="flask", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    return 0


def _redact(output: str, context: Any) -> str:
    """``output`` without credential values: the context's (FC passes them there) and the
    role credentials the clouds put in the environment."""
    import os

    from .clouds import CREDENTIAL_VARIABLES

    credentials = getattr(context, "credentials", None)
    if credentials is None and isinstance(context, dict):
        credentials = context.get("credentials")
    secrets = [os.environ.get(name) for name in CREDENTIAL_VARIABLES]
    for name in ("access_key_id", "access_key_secret", "security_token"):
        secrets.append(
            credentials.get(name)
            if isinstance(credentials, dict)
            else getattr(credentials, name, None)
        )
    for value in sorted({v for v in secrets if isinstance(v, str) and len(v) >= 8}, key=len)[::-1]:
        output = output.replace(value, "<redacted>")
    return output

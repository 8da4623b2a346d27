"""Recording real events (``make_handler(record_events=True)`` or the environment variable
``FAAS_BRIDGE_RECORD_EVENTS=1``): each event the handler receives is written to standard
output, which every cloud collects into the function's log (CLS on Tencent, SLS on
Alibaba), as one line::

    FAAS_BRIDGE_EVENT {"format": "tencent_apigw", "event": {...}, "notes": [...]}

Redacted (the value replaced by ``"<redacted>"``), anywhere in the event: the credential
headers the clouds inject, and the headers in ``redact_headers`` (``Authorization`` and
``Cookie`` by default), by name, any case, also as an environ key (``HTTP_COOKIE``, in an
FC 2.0 WSGI call); a management command's arguments (see :mod:`faas_bridge.commands`);
any value that is not JSON (a context object in an FC 2.0 environ), recorded as its type's
name only. Cut, with a note: a ``body`` longer than :data:`BODY_LIMIT` characters, and any
other string longer than :data:`VALUE_LIMIT`. JSON escaping, and ``\\u`` escapes for the
line separators U+0085, U+2028 and U+2029, keep the record on one line whatever the event
holds.
``faas-bridge import-events`` turns such lines back into fixture files.
"""

from __future__ import annotations

import json
import sys

from .commands import COMMAND_KEY
from .handler import Handler

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = [
    "BODY_LIMIT",
    "PREFIX",
    "VALUE_LIMIT",
    "RecordingHandler",
    "record_line",
]

PREFIX = "FAAS_BRIDGE_EVENT "
BODY_LIMIT = 16 * 1024  # characters of a recorded body
VALUE_LIMIT = 4 * 1024  # characters of any other recorded string
REDACTED = "<redacted>"
DEFAULT_REDACTED = ("authorization", "cookie")


class RecordingHandler(Handler):
    """A :class:`~faas_bridge.Handler` that logs each event before handling it."""

    __slots__ = ("_redact",)
    _redact: frozenset[str]

    def __call__(self, event: Any, context: Any = None) -> Any:
        try:
            line = record_line(event, self._redact)
        except Exception:  # recording must never cost the invocation
            line = PREFIX + '{"error": "the event could not be recorded"}'
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
        return super().__call__(event, context)


def make_recording(handler: Handler, redact_headers: Iterable[str]) -> RecordingHandler:
    """``handler`` as a :class:`RecordingHandler` (same settings, same runner)."""
    recording = RecordingHandler.__new__(RecordingHandler)
    for name in Handler.__slots__:
        value = getattr(handler, name, _MISSING)
        if value is not _MISSING:
            setattr(recording, name, value)
    recording._redact = frozenset(name.lower() for name in redact_headers)
    return recording


_MISSING = object()


def record_line(event: Any, redact: frozenset[str]) -> str:
    """The one log line recording ``event``."""
    from .clouds import is_credential_header
    from .platforms import detect

    notes: list[str] = []
    value = event
    if isinstance(event, (bytes, bytearray)):
        try:
            value = json.loads(event)
        except ValueError:
            value = bytes(event).decode("utf-8", "replace")
            notes.append("the event is not JSON: recorded as text")
    elif isinstance(event, str):
        try:
            value = json.loads(event)
        except ValueError:
            notes.append("the event is not JSON: recorded as text")

    def hidden(name: str) -> bool:
        lower = name.lower()
        if lower.startswith("http_"):  # a WSGI environ's key for a header (FC 2.0)
            lower = lower[5:].replace("_", "-")
        return lower in redact or is_credential_header(lower)

    if isinstance(value, dict) and COMMAND_KEY in value:
        value = {**value, COMMAND_KEY: _hide_arguments(value[COMMAND_KEY])}
        notes.append("the command's arguments are redacted")
    cleaned = _clean(value, hidden, notes, "")
    platform = detect(cleaned) if isinstance(cleaned, dict) else None
    record: dict[str, Any] = {"format": platform.NAME if platform else None, "event": cleaned}
    if notes:
        record["notes"] = notes
    text = json.dumps(record, ensure_ascii=False, default=_type_only)
    return PREFIX + text.translate(_LINE_SEPARATORS)


# Characters str.splitlines() and some log viewers break lines at, which JSON leaves as
# they are: written as the \\u escapes JSON decodes back to them.
_LINE_SEPARATORS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _type_only(value: Any) -> str:
    """A value JSON cannot hold (a context object, a stream), as its type's name only: its
    repr could show credentials."""
    return f"<{type(value).__name__}>"


def _hide_arguments(command: Any) -> Any:
    """A command's ``{kind: args}`` with each ``args`` redacted (they may hold secrets)."""
    if isinstance(command, dict):
        return dict.fromkeys(command, REDACTED)
    return REDACTED


def _clean(value: Any, hidden: Any, notes: list[str], key: str) -> Any:
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and hidden(k) else _clean(v, hidden, notes, str(k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_clean(item, hidden, notes, key) for item in value]
    if isinstance(value, str):
        limit = BODY_LIMIT if key == "body" else VALUE_LIMIT
        if len(value) > limit:
            notes.append(f"{key or 'a value'} cut at {limit} of {len(value)} characters")
            return value[:limit]
    return value

"""Recording real events (``make_handler(record_events=True)`` or the environment variable
``FAAS_BRIDGE_RECORD_EVENTS=1``): each event the handler receives is written to standard
output, which every cloud collects into the function's log (CLS on Tencent, SLS on
Alibaba), as one line::

    FAAS_BRIDGE_EVENT {"format": "tencent_apigw", "event": {...}, "notes": [...]}

Redacted (the value replaced by ``"<redacted>"``), anywhere in the event: the credential
headers the clouds inject, and the headers in ``redact_headers`` (``Authorization`` and
``Cookie`` by default), by name, any case. Cut, with a note: a ``body`` longer than
:data:`BODY_LIMIT` characters, and any other string longer than :data:`VALUE_LIMIT`. JSON
escaping keeps the record on one line whatever the event holds.
``faas-bridge import-events`` turns such lines back into fixture files.
"""

from __future__ import annotations

import json
import sys

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
        return lower in redact or is_credential_header(lower)

    cleaned = _clean(value, hidden, notes, "")
    platform = detect(cleaned) if isinstance(cleaned, dict) else None
    record: dict[str, Any] = {"format": platform.NAME if platform else None, "event": cleaned}
    if notes:
        record["notes"] = notes
    return PREFIX + json.dumps(record, ensure_ascii=False, default=repr)


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

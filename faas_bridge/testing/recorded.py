"""Recorded events back into tests: :func:`import_events` turns ``FAAS_BRIDGE_EVENT`` log
lines (see :mod:`faas_bridge.record`) and the consoles' copy-pasted test events into
fixture files; :func:`recorded_events` and :func:`replay` send a folder of them to a handler.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..options import Options
from ..platforms import detect
from ..record import PREFIX

__all__ = ["extract_events", "import_events", "recorded_events", "replay"]

_SLUG = re.compile(r"[^\w.-]+")


def extract_events(text: str) -> list[Any]:
    """The events in a log (each ``FAAS_BRIDGE_EVENT`` line, anywhere in it) or, when the
    whole text is one JSON value (a console's test event), that value."""
    try:
        return [json.loads(text)]
    except ValueError:
        pass
    decoder = json.JSONDecoder()
    events: list[Any] = []
    for line in text.split("\n"):  # not splitlines(): U+2028 and kin are no line end here
        start = line.find(PREFIX)
        if start < 0:
            continue
        try:
            record, _ = decoder.raw_decode(line, start + len(PREFIX))
        except ValueError:
            continue
        if isinstance(record, dict) and "event" in record:
            events.append(record["event"])
    return events


def fixture_name(event: Any) -> str:
    """``<format>__<METHOD>_<path>`` for an HTTP event, ``event__<kind>`` otherwise."""
    platform = detect(event) if isinstance(event, dict) else None
    if platform is None:
        from ..clouds import event_kind

        return f"event__{event_kind(event)}"
    try:
        request = platform.parse(event, None, Options())
        method, path = request.method, request.root_path + request.path
    except Exception:  # a malformed capture keeps a file all the same
        method, path = "UNKNOWN", ""
    slug = _slug(path.strip("/"), 60) or "root"
    return f"{platform.NAME}__{_slug(method, 20) or 'UNKNOWN'}_{slug}"


def _slug(text: str, size: int) -> str:
    """``text`` as part of a file name: word characters, ``.`` and ``-`` (no separator)."""
    return _SLUG.sub("_", text).strip("_.")[:size]


def import_events(sources: list[Path], folder: Path) -> list[Path]:
    """Write each event found in ``sources`` to ``folder`` as ``<name>.json``, never
    replacing a file (``-2``, ``-3``... are appended instead). The paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for source in sources:
        for event in extract_events(source.read_text(encoding="utf-8", errors="replace")):
            text = json.dumps(event, indent=2, ensure_ascii=False) + "\n"
            written.append(_write_new(folder, fixture_name(event), text))
    return written


def _write_new(folder: Path, stem: str, text: str) -> Path:
    """``text`` in ``folder/<stem>.json``, or ``<stem>-2.json``... : the first name that is
    free, taken with ``"x"`` (never replacing a file, nor following a link)."""
    number = 1
    while True:
        target = folder / (f"{stem}.json" if number == 1 else f"{stem}-{number}.json")
        try:
            with open(target, "x", encoding="utf-8") as file:
                file.write(text)
            return target
        except FileExistsError:  # a file, or a link (even a dangling one)
            number += 1


def recorded_events(folder: str | Path) -> list[Path]:
    """The fixture files in ``folder``, sorted (for ``pytest.mark.parametrize``)."""
    path = Path(folder)
    if not path.is_dir():
        raise ConfigurationError(f"no folder of recorded events at {path}")
    return sorted(path.glob("*.json"))


def replay(handler: Any, path: str | Path) -> Any:
    """Send a fixture file's event to ``handler`` as its cloud delivers it (FC: bytes), with
    that platform's context. An HTTP event's answer comes back as a
    :class:`~faas_bridge.testing.TestResponse` (decoded as the gateway would); a non-HTTP
    event's result as the handler returned it."""
    from ..clouds import CLOUDS, event_kind
    from ..platforms._gateway import gateway
    from .client import as_handler
    from .events import build_context
    from .responses import parse_response

    event = json.loads(Path(path).read_bytes())
    call = as_handler(handler)
    platform = detect(event) if isinstance(event, dict) else None
    if platform is not None:
        side = gateway(platform.NAME)
        returned = call(side.deliver(event), build_context(platform.NAME))
        return parse_response(platform.NAME, returned)
    cloud = CLOUDS.get(event_kind(event).partition(".")[0])
    if cloud is not None and cloud.EVENTS_AS_BYTES:
        event = json.dumps(event, ensure_ascii=False).encode("utf-8")
    return call(event, None)

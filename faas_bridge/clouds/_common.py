"""Shapes every cloud module fills in: runtime names, web runtimes, and deploy-config helpers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

__all__ = [
    "HTTP_METHODS",
    "MB",
    "PORT",
    "PYTHON_VERSIONS",
    "RuntimeName",
    "WebRuntime",
    "comment",
    "mib",
    "to_json",
    "to_yaml",
]

# The Python versions faas_bridge knows how to package for (each cloud offers a subset).
PYTHON_VERSIONS: tuple[str, ...] = ("3.9", "3.10", "3.11", "3.12")
# The port every cloud's web-function proxy forwards to (a cloud may pass another in its env).
PORT = 9000
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
MB = 1024 * 1024


class RuntimeName(NamedTuple):
    """A cloud's name for a Python runtime, and whether a source confirms it exists."""

    name: str
    verified: bool


class WebRuntime(NamedTuple):
    """A web-mode runtime: the interpreter the start file runs and the runtime to choose."""

    interpreter: str
    runtime_name: str
    verified: bool


def mib(size: int) -> str:
    return f"{size / MB:.1f} MiB"


def comment(lines: Sequence[str]) -> str:
    """``lines`` as YAML comment lines."""
    return "".join(f"# {line}\n" for line in lines)


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


# --- a small YAML writer: enough for the deploy configs, no dependency -----------------------

_PLAIN = re.compile(r"^[A-Za-z_/.][A-Za-z0-9_./-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def to_yaml(value: Mapping[str, Any]) -> str:
    """Block-style YAML for nested dicts, lists, strings, numbers and booleans.

    Strings that YAML could read as something else are written as JSON strings (valid
    YAML double-quoted scalars).
    """
    return "".join(line + "\n" for line in _mapping_lines(value, 0))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def _mapping_lines(mapping: Mapping[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, item in mapping.items():
        label = f"{pad}{_scalar(key)}:"
        if isinstance(item, Mapping) and item:
            lines.append(label)
            lines.extend(_mapping_lines(item, indent + 2))
        elif isinstance(item, list) and item:
            lines.append(label)
            lines.extend(_sequence_lines(item, indent + 2))
        elif isinstance(item, (Mapping, list)):
            lines.append(f"{label} {'{}' if isinstance(item, Mapping) else '[]'}")
        else:
            lines.append(f"{label} {_scalar(item)}")
    return lines


def _sequence_lines(items: Sequence[Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        if isinstance(item, Mapping) and item:
            inner = _mapping_lines(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines.extend(inner[1:])
        elif isinstance(item, list) and item:
            inner = _sequence_lines(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines.extend(inner[1:])
        else:
            lines.append(f"{pad}- {_scalar(item)}")
    return lines


def prefixed(headers: Mapping[str, str], prefix: str) -> dict[str, Any]:
    """The headers starting with ``prefix``, the prefix dropped and ``-`` made ``_``
    (``x-scf-region`` -> ``region``)."""
    start = len(prefix)
    return {
        name[start:].replace("-", "_"): value
        for name, value in headers.items()
        if name.startswith(prefix)
    }

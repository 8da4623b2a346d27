"""One vocabulary for every command and API: how a user's name for a format or a cloud is
read (case-insensitive, ``-`` for ``_``) and how an unknown one is answered ("did you mean").
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import ConfigurationError

__all__ = ["normalise", "unknown_name"]


def normalise(name: str) -> str:
    """``"Tencent-APIGW "`` -> ``"tencent_apigw"``."""
    return name.strip().lower().replace("-", "_")


def unknown_name(given: str, **choices: Iterable[str]) -> ConfigurationError:
    """The error for a name that is none of ``choices`` (grouped by kind: ``clouds=...``,
    ``event_formats=...``), suggesting the closest one."""
    from difflib import get_close_matches

    groups = {kind.replace("_", " "): list(names) for kind, names in choices.items()}
    every = list(dict.fromkeys(name for names in groups.values() for name in names))
    close = get_close_matches(normalise(given), every, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in groups.items())
    return ConfigurationError(f"unknown platform {given!r}{hint} ({listed})")

"""The settings the platform modules read, resolved once by ``make_handler``."""

from __future__ import annotations

from .errors import ConfigurationError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds of cold start; annotations only
    from collections.abc import Iterable
    from typing import Literal

    FcCookieMode = Literal["vary-case", "join", "first", "last"]

__all__ = ["Options"]

_FC_COOKIE_MODES = ("vary-case", "join", "first", "last")


class Options:
    """Per-handler settings shared by every platform module (immutable by convention)."""

    __slots__ = ("base_path", "fc_cookies", "stage_prefix", "text_types", "trust_forwarded_for")

    def __init__(
        self,
        *,
        base_path: str = "",
        stage_prefix: bool = True,
        text_mime_types: Iterable[str] = (),
        fc_cookies: FcCookieMode = "vary-case",
        trust_forwarded_for: bool = False,
    ) -> None:
        if fc_cookies not in _FC_COOKIE_MODES:
            raise ConfigurationError(
                f"fc_cookies must be one of {_FC_COOKIE_MODES}, not {fc_cookies!r}"
            )
        self.base_path = normalise_base_path(base_path)
        self.stage_prefix = stage_prefix
        self.text_types = frozenset(t.strip().lower() for t in text_mime_types)
        self.fc_cookies: FcCookieMode = fc_cookies
        self.trust_forwarded_for = trust_forwarded_for


def normalise_base_path(base_path: str) -> str:
    """``"api/"`` -> ``"/api"``; ``""`` and ``"/"`` mean no base path."""
    stripped = base_path.strip().strip("/")
    return "/" + stripped if stripped else ""

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

    __slots__ = (
        "base_path",
        "fc_cookies",
        "request_limit",
        "response_limit",
        "stage_prefix",
        "text_types",
        "trust_forwarded_for",
    )

    def __init__(
        self,
        *,
        base_path: str = "",
        stage_prefix: bool = True,
        text_mime_types: Iterable[str] = (),
        fc_cookies: FcCookieMode = "vary-case",
        trust_forwarded_for: bool = False,
        request_limit: int | None = None,
        response_limit: int | None = None,
    ) -> None:
        if fc_cookies not in _FC_COOKIE_MODES:
            raise ConfigurationError(
                f"fc_cookies must be one of {_FC_COOKIE_MODES}, not {fc_cookies!r}"
            )
        if isinstance(text_mime_types, str):
            raise ConfigurationError("text_mime_types takes a list of media types, not one string")
        self.base_path = normalise_base_path(base_path)
        self.stage_prefix = stage_prefix
        self.text_types = frozenset(t.strip().lower() for t in text_mime_types)
        self.fc_cookies: FcCookieMode = fc_cookies
        self.trust_forwarded_for = trust_forwarded_for
        for name, limit in (("request_limit", request_limit), ("response_limit", response_limit)):
            if limit is not None and (type(limit) is not int or limit < 0):
                raise ConfigurationError(f"{name} must be a byte count >= 0 or None, not {limit!r}")
        # None: the platform's own limit; 0: no limit.
        self.request_limit = request_limit
        self.response_limit = response_limit


def normalise_base_path(base_path: str) -> str:
    """``"api/"`` -> ``"/api"``; ``""`` and ``"/"`` mean no base path."""
    stripped = base_path.strip().strip("/")
    return "/" + stripped if stripped else ""

"""The wire formats faas_bridge speaks, one module each, and how an event picks one.

Every platform module offers the same three functions (see :class:`Platform`); adding a
platform means adding a module here and to :data:`PLATFORMS`, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from ..errors import ConfigurationError
from ..http import Request, Response
from ..options import Options
from . import alibaba_fc, cloudbase, tencent_apigw, tencent_url

__all__ = ["PLATFORMS", "Platform", "detect", "get_platform"]


class Platform(Protocol):
    """What a platform module provides."""

    NAME: str
    SIGNATURE: str  # the keys matches() looks for, for error messages

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether this decoded event is one of this platform's HTTP events (cheap key checks)."""

    def parse(self, event: Mapping[str, Any], context: Any, options: Options) -> Request:
        """The request an event carries; MalformedEventError when a field is unusable."""

    def render(self, response: Response, options: Options) -> dict[str, Any]:
        """The value the handler returns to the platform for this response."""


# Detection order: most specific first. CloudBase events look like API Gateway ones with an
# envId in requestContext; function-URL events are API Gateway ones without requestContext.
_DETECTION_ORDER: tuple[Platform, ...] = (alibaba_fc, cloudbase, tencent_apigw, tencent_url)

PLATFORMS: dict[str, Platform] = {platform.NAME: platform for platform in _DETECTION_ORDER}


def detect(event: Mapping[str, Any]) -> Platform | None:
    """The platform whose HTTP event this is, or None."""
    for platform in _DETECTION_ORDER:
        if platform.matches(event):
            return platform
    return None


def get_platform(name: str) -> Platform:
    """The platform module for a public name such as ``"tencent_apigw"``."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown platform {name!r}; expected one of: {', '.join(sorted(PLATFORMS))}"
        ) from None

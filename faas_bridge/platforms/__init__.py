"""The wire formats faas_bridge speaks, one module each, and how an event picks one.

Every platform module offers the same three functions (see :class:`Platform`); adding a
platform means adding a module here and to :data:`PLATFORMS`, nothing else.
"""

from __future__ import annotations

from ..errors import ConfigurationError
from . import alibaba_fc, cloudbase, tencent_apigw, tencent_url

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds of cold start; the protocol is for mypy only
    from collections.abc import Mapping
    from typing import Any, Protocol

    from ..http import Request, Response
    from ..options import Options

    class Platform(Protocol):
        """What a platform module provides."""

        NAME: str
        SIGNATURE: str  # the keys matches() looks for, for error messages
        REQUEST_LIMIT: int  # body size limits in bytes, as the platform enforces them
        RESPONSE_LIMIT: int

        def matches(self, event: Mapping[str, Any]) -> bool:
            """Whether this decoded event is this platform's HTTP event (cheap key checks)."""

        def parse(self, event: Mapping[str, Any], context: Any, options: Options) -> Request:
            """The request an event carries; MalformedEventError when a field is unusable."""

        def render(self, response: Response, options: Options) -> dict[str, Any]:
            """The value the handler returns to the platform for this response."""


__all__ = ["PLATFORMS", "detect", "get_platform"]


# Detection order: most specific first. CloudBase events look like API Gateway ones with an
# envId in requestContext; function-URL events are API Gateway ones without requestContext.
_DETECTION_ORDER: tuple[Platform, ...] = (alibaba_fc, cloudbase, tencent_apigw, tencent_url)

PLATFORMS: dict[str, Platform] = {platform.NAME: platform for platform in _DETECTION_ORDER}


def detect(event: Mapping[str, Any]) -> Platform | None:
    """The platform whose HTTP event this is, or None.

    The same answer as the first of ``_DETECTION_ORDER`` whose ``matches`` accepts the
    event (a test holds them together), as one decision tree: this runs on every call.
    """
    if "rawPath" in event and "requestContext" in event:
        return alibaba_fc
    if "httpMethod" not in event:
        return None
    if "requestContext" not in event:
        return tencent_url if "path" in event else None
    request_context = event["requestContext"]
    if type(request_context) is dict:  # as decoded JSON gives it: no ABC check needed
        return cloudbase if "envId" in request_context else tencent_apigw
    return cloudbase if cloudbase.matches(event) else tencent_apigw  # another Mapping type


def get_platform(name: str) -> Platform:
    """The platform module for a public name such as ``"tencent_apigw"``."""
    try:
        return PLATFORMS[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown platform {name!r}; expected one of: {', '.join(sorted(PLATFORMS))}"
        ) from None

"""The wire formats faas_bridge speaks, one package each, and how an event picks one.

Each format is a package ``platforms/<name>/``: its ``__init__`` is the function side
(:class:`Platform`: ``matches``, ``parse``, ``render``, limits), the only part the event path
imports; its ``gateway`` module is the gateway side (the event a request becomes, the return
decoded as the gateway would, the gateway's own error replies), used by the testing helpers,
the emulator and the command line. Adding a format means adding its package and one line to
:data:`_DETECTION_ORDER`; nothing else names a format.

Detection asks the formats' own ``matches``, which are mutually exclusive (a test checks it
over generated events), so the order only decides which one is asked first.
"""

from __future__ import annotations

from ..names import normalise, unknown_name
from . import alibaba_apigw, alibaba_fc, cloudbase, tencent_apigw, tencent_url

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds of cold start; the protocol is for mypy only
    from collections.abc import Mapping
    from typing import Any, Protocol

    from ..http import Request, Response
    from ..options import Options

    class Platform(Protocol):
        """What a format's package provides (its function side)."""

        NAME: str
        CLOUD: str  # the clouds/ module it belongs to
        # Optional CLOUD_DEFAULT = True: the format the cloud's name means when the cloud
        # has several (read with getattr, so other formats need not declare it).
        SIGNATURE: str  # the keys matches() looks for, for error messages
        REQUEST_LIMIT: int  # body size limits in bytes, as the platform enforces them
        RESPONSE_LIMIT: int

        def matches(self, event: Mapping[str, Any]) -> bool:
            """Whether this decoded event is this format's HTTP event (cheap key checks;
            never true for another format's event)."""

        def parse(self, event: Mapping[str, Any], context: Any, options: Options) -> Request:
            """The request an event carries; MalformedEventError when a field is unusable."""

        def render(self, response: Response, options: Options) -> dict[str, Any]:
            """The value the handler returns to the platform for this response."""


__all__ = ["PLATFORMS", "PLATFORM_NAMES", "detect", "get_platform", "resolve_platform_name"]


# The registry, in the order formats are listed and tried: one line per format.
_DETECTION_ORDER: tuple[Platform, ...] = (
    tencent_apigw,
    tencent_url,
    cloudbase,
    alibaba_fc,
    alibaba_apigw,
)

PLATFORMS: dict[str, Platform] = {platform.NAME: platform for platform in _DETECTION_ORDER}
PLATFORM_NAMES: tuple[str, ...] = tuple(PLATFORMS)
# Cloud name -> its formats, from each format's CLOUD (so this needs no clouds/ import).
_CLOUD_FORMATS: dict[str, tuple[str, ...]] = {}
for _platform in _DETECTION_ORDER:
    _CLOUD_FORMATS[_platform.CLOUD] = (*_CLOUD_FORMATS.get(_platform.CLOUD, ()), _platform.NAME)

_last: list[Platform] = [_DETECTION_ORDER[0]]  # a function sees one format: ask it first


def detect(event: Mapping[str, Any]) -> Platform | None:
    """The format whose HTTP event this is, or None. Runs on every call: the format that
    matched last is asked first, then the others in order."""
    last = _last[0]
    if last.matches(event):
        return last
    for platform in _DETECTION_ORDER:
        if platform is not last and platform.matches(event):
            _last[0] = platform
            return platform
    return None


def resolve_platform_name(name: str) -> str:
    """The format a user's name means: a format name, or a cloud name where that cloud has
    one format or marks one ``CLOUD_DEFAULT`` (``alibaba`` -> ``alibaba_fc``).
    Case-insensitive, ``-`` for ``_``; an ambiguous cloud name or a typo raises
    :class:`~faas_bridge.errors.ConfigurationError` naming the choices."""
    key = normalise(name)
    if key in PLATFORMS:
        return key
    formats = _CLOUD_FORMATS.get(key)
    if formats is not None and len(formats) > 1:
        formats = (
            tuple(f for f in formats if getattr(PLATFORMS[f], "CLOUD_DEFAULT", False)) or formats
        )
    if formats is not None and len(formats) == 1:
        return formats[0]
    if formats is not None:
        from ..errors import ConfigurationError

        listed = " or ".join(f"{f!r} ({PLATFORMS[f].SIGNATURE})" for f in formats)
        raise ConfigurationError(
            f"{name!r} is a cloud with {len(formats)} event formats: name one, {listed}"
        )
    raise unknown_name(name, event_formats=PLATFORMS, clouds=_CLOUD_FORMATS)


def get_platform(name: str) -> Platform:
    """The format package for a name such as ``"tencent_apigw"`` (see
    :func:`resolve_platform_name` for the names accepted)."""
    return PLATFORMS[resolve_platform_name(name)]

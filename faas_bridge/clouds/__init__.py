"""The clouds faas_bridge deploys to, one module each, and how a name picks one.

A cloud module (:class:`Cloud`) knows everything about running on that cloud except its
event formats' wire details, which live in ``platforms/``: runtimes and their names,
the handler name it calls, the web-mode start file and the headers its proxy injects,
code-size limits and the deploy config. Adding a cloud means adding a module here and a
line to :data:`CLOUDS`; ``package``, ``bootstrap``, ``serve`` and ``web`` ask this registry
and never name a cloud themselves. Nothing on the event path imports this package.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..names import normalise, unknown_name
from . import alibaba, cloudbase, tencent
from ._common import PYTHON_VERSIONS, RuntimeName, WebRuntime

if TYPE_CHECKING:
    from typing import Protocol

    class Cloud(Protocol):
        """What a cloud module provides (see ``clouds/tencent.py`` for a full example)."""

        NAME: str
        TITLE: str
        HANDLER_NAME: str  # the attribute of index.py the cloud calls in event mode
        DEFAULT_REGION: str
        EVENT_RUNTIMES: dict[str, RuntimeName]  # python version -> runtime name
        WEB_RUNTIMES: dict[str, WebRuntime]  # python version -> start-file interpreter
        START_FILE: str
        START_FILE_WHERE: str
        START_PORT: int | None  # the port the start file passes, None: the cloud's variable
        WEB_PLATFORM: str  # faas_bridge.platform in web mode
        REQUEST_ID_HEADER: str
        CONTEXT_HEADER_PREFIX: str
        CREDENTIAL_HEADERS: frozenset[str]
        CREDENTIAL_PREFIXES: tuple[str, ...]
        CREDENTIAL_VARIABLES: tuple[str, ...]  # environment variables holding credentials
        CONFIG_FILE: str
        DEPLOY_INSTALL: str  # how to install and log in to the deploy tool
        DEPLOYS_FOLDER: bool
        CODE_DIR: str  # where the runtime unpacks the code
        UNVERIFIED_WEB: str  # what about the web runtime no source confirms ("" if nothing)
        EVENTS_AS_BYTES: bool  # its runtime passes trigger events as bytes of JSON
        TRIGGER_EVENTS: dict[str, Any]  # event kind -> a sample trigger event of that kind
        TIMER_KIND: str  # the kind of its timer trigger's event
        LIFECYCLE_HOOKS: dict[str, str]  # index.py attribute -> Handler hook method
        TIMER_FIELDS: tuple[str, str, str]  # the timer event's name, message and time fields

        def event_kind(self, event: Any) -> str | None:
            """The kind (``"tencent.timer"``) of one of this cloud's non-HTTP events."""

        def manylinux(self, python: str, mode: str) -> str:
            """The newest manylinux level (``"2_28"``) the runtime's glibc runs."""

        # web mode: what the proxy owns (see "web mode" at the end of each module)
        OWNED_HEADER_PREFIXES: tuple[str, ...]  # header families only this proxy sets
        TRUSTED_HEADERS: frozenset[str]  # the owned headers faas_bridge reads, one value each
        CLIENT_ADDRESS_HEADER: str
        SCHEME_HEADER: str
        WEB_BODY_LIMIT: int

        def runs_here(self, environ: Mapping[str, str]) -> bool:
            """Whether the process runs on this cloud, from its built-in variables."""

        def read_web_headers(self, headers: Mapping[str, str]) -> tuple[str, dict[str, Any] | None]:
            """``(request id, context)`` from this proxy's headers; context None: unreadable."""

        def lifecycle_call(self, headers: Mapping[str, str], method: str, path: str) -> str | None:
            """The lifecycle hook a web-mode request is, or None for an invocation."""

        def web_steps(self, python: str) -> str: ...

        def config_warnings(self, mode: str) -> list[str]: ...

        def config_todo(self, options: dict[str, Any]) -> list[str]: ...

        def size_warnings(self, zipped: int, unzipped: int) -> list[str]: ...

        def deploy_config(
            self, *, name: str, archive: str, python: str, mode: str, options: dict[str, Any]
        ) -> str: ...

        def deploy_command(self, *, name: str, mode: str, options: dict[str, Any]) -> str:
            """The command that deploys the function ``name`` from its deploy folder."""


__all__ = [
    "CLOUDS",
    "CREDENTIAL_VARIABLES",
    "PYTHON_VERSIONS",
    "WEB_DETECTION_ORDER",
    "RuntimeName",
    "WebRuntime",
    "detect_web_cloud",
    "event_kind",
    "event_runtime",
    "get_cloud",
    "is_credential_header",
    "resolve_cloud_name",
    "trigger_sample",
    "web_runtime",
]

CLOUDS: dict[str, Cloud] = {cloud.NAME: cloud for cloud in (tencent, cloudbase, alibaba)}

# Headers (lower case) carrying credentials some cloud's proxy injects: never logged or echoed.
CREDENTIAL_HEADERS: frozenset[str] = frozenset().union(
    *(cloud.CREDENTIAL_HEADERS for cloud in CLOUDS.values())
)
CREDENTIAL_PREFIXES: tuple[str, ...] = tuple(
    prefix for cloud in CLOUDS.values() for prefix in cloud.CREDENTIAL_PREFIXES
)
# Environment variables holding some cloud's role credentials: never printed.
CREDENTIAL_VARIABLES: tuple[str, ...] = tuple(
    dict.fromkeys(name for cloud in CLOUDS.values() for name in cloud.CREDENTIAL_VARIABLES)
)


def resolve_cloud_name(name: str) -> str:
    """The cloud a user's name means: a cloud name, or an event format's name (each format
    belongs to one cloud: ``alibaba_fc`` -> ``alibaba``). Case-insensitive, ``-`` for ``_``;
    :class:`~faas_bridge.errors.ConfigurationError` with a suggestion otherwise."""
    key = normalise(name)
    if key in CLOUDS:
        return key
    from ..platforms import PLATFORMS

    platform = PLATFORMS.get(key)
    if platform is not None:
        return platform.CLOUD
    raise unknown_name(name, clouds=CLOUDS, event_formats=PLATFORMS)


def get_cloud(name: str) -> Cloud:
    """The cloud module for a name (see :func:`resolve_cloud_name`)."""
    return CLOUDS[resolve_cloud_name(name)]


def event_runtime(cloud: str, python: str) -> RuntimeName:
    """The runtime name a deploy config gives for ``python`` on ``cloud`` in event mode;
    ``ValueError`` where the cloud offers no such runtime."""
    module = get_cloud(cloud)
    runtime = module.EVENT_RUNTIMES.get(python)
    if runtime is None:
        offered = ", ".join(module.EVENT_RUNTIMES)
        raise ValueError(
            f"{module.TITLE} has no built-in Python {python} runtime (it offers {offered});"
            " choose one of those with --python, or --mode web (a custom runtime)"
        )
    return runtime


def web_runtime(cloud: str, python: str) -> WebRuntime:
    """The start file's interpreter for ``python`` on ``cloud`` in web mode."""
    if python not in PYTHON_VERSIONS:
        raise ValueError(f"python must be one of {', '.join(PYTHON_VERSIONS)}, not {python!r}")
    module = get_cloud(cloud)
    runtime = module.WEB_RUNTIMES.get(python)
    if runtime is None:
        offered = ", ".join(module.WEB_RUNTIMES)
        raise ValueError(
            f"{module.TITLE} has no web runtime for Python {python} (it offers {offered})"
        )
    return runtime


def event_kind(event: Any) -> str:
    """The kind of a non-HTTP event as far as some cloud recognises it (``"tencent.timer"``,
    ``"alibaba.oss"``...; see each cloud module's ``event_kind``), else ``"unknown"``."""
    for cloud in CLOUDS.values():
        kind = cloud.event_kind(event)
        if kind is not None:
            return kind
    return "unknown"


def trigger_sample(kind: str) -> tuple[Any, bool]:
    """``(a sample event of kind, whether the cloud's runtime passes it as bytes)``."""
    for cloud in CLOUDS.values():
        if kind in cloud.TRIGGER_EVENTS:
            return cloud.TRIGGER_EVENTS[kind], cloud.EVENTS_AS_BYTES
    from ..errors import ConfigurationError

    kinds = ", ".join(kind for cloud in CLOUDS.values() for kind in cloud.TRIGGER_EVENTS)
    raise ConfigurationError(f"unknown event kind {kind!r}; known kinds: {kinds}")


def is_credential_header(name: str) -> bool:
    """Whether a header (any case) carries credentials a cloud's proxy injected."""
    name = name.lower()
    return name in CREDENTIAL_HEADERS or name.startswith(CREDENTIAL_PREFIXES)


# --- web mode -------------------------------------------------------------------------------

# Most specific first: CloudBase functions are SCF functions with more variables.
WEB_DETECTION_ORDER: tuple[str, ...] = ("alibaba", "cloudbase", "tencent")


def detect_web_cloud(environ: Mapping[str, str]) -> str | None:
    """The cloud a web-mode server runs on, from the variables each cloud's runtime sets
    (see ``runs_here`` in each module); None when none matches (a local run)."""
    for name in WEB_DETECTION_ORDER:
        if CLOUDS[name].runs_here(environ):
            return name
    return None

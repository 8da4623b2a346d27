"""pytest plugin (entry point ``pytest11``): run one test body against every cloud's event format.

Define a ``faas_handler`` fixture that returns your handler (or your WSGI/ASGI app), then
use ``faas_client``::

    import pytest
    from index import main_handler

    @_fixture
    def faas_handler():
        return main_handler

    def test_home(faas_client):            # runs once per event format
        assert faas_client.get("/").status_code == 200

    @pytest.mark.faas_platforms("tencent_apigw", "alibaba_fc")
    def test_upload(faas_client, faas_platform):
        ...

``faas_platform`` is the format's name; ``--faas-platform NAME`` (repeatable) narrows every
test of the session. A test taking ``faas_recorded_event`` runs once per fixture file of a
folder (``@pytest.mark.faas_recorded_events("tests/events")``, relative to the rootdir;
that folder by default), the file's path as the value: ``replay(handler, path)`` sends it.

pytest loads this module in every session where faas-bridge is installed, so it imports
nothing beyond pytest until a fixture is used.

The rootdir goes at the *end* of ``sys.path``, so ``tests/test_app.py`` can import the
``index.py`` beside ``tests/`` under plain ``pytest`` as under ``python -m pytest`` (which
puts the current directory first); at the end it never shadows an installed module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, TypeVar

import pytest

from ..errors import ConfigurationError
from ..platforms import PLATFORM_NAMES, resolve_platform_name

if TYPE_CHECKING:
    from .client import FaasClient

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["faas_client", "faas_handler", "faas_platform", "faas_recorded_event"]

# The event formats, in the order tests run (the registry's function side only: light).
ALL_PLATFORMS = PLATFORM_NAMES
MARKER = "faas_platforms"
RECORDED_MARKER = "faas_recorded_events"
RECORDED_FOLDER = "tests/events"  # import-events' default output


def _fixture(function: F) -> F:
    """``pytest.fixture``, typed (pytest's own types are not followed by this project's mypy)."""
    fixture: F = pytest.fixture(function)
    return fixture


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("faas-bridge")
    group.addoption(
        "--faas-platform",
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "run tests that use faas_platform/faas_client only on this event format "
            f"(repeatable or comma-separated; one of {', '.join(ALL_PLATFORMS)})"
        ),
    )


def pytest_configure(config: Any) -> None:
    import sys

    root = str(config.rootpath)
    if root not in sys.path:
        sys.path.append(root)
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*names): run a test that uses faas_platform or faas_client only on these "
        f"event formats ({', '.join(ALL_PLATFORMS)})",
    )
    config.addinivalue_line(
        "markers",
        f"{RECORDED_MARKER}(folder): run a test that uses faas_recorded_event once per "
        f"fixture file in folder (relative to the rootdir; default {RECORDED_FOLDER})",
    )
    try:
        _option_platforms(config)
    except ConfigurationError as exc:
        message = str(exc).replace("unknown platform", "unknown event format", 1)
        raise pytest.UsageError(f"--faas-platform: {message}") from None


def _option_platforms(config: Any) -> list[str]:
    values = config.getoption("faas_platform", default=None) or []
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return [resolve_platform_name(name) for name in names]


def pytest_generate_tests(metafunc: Any) -> None:
    if "faas_recorded_event" in metafunc.fixturenames:
        _parametrize_recorded(metafunc)
    if "faas_platform" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if "faas_platform" in names:  # the test chose its platforms itself
            return
    platforms = list(ALL_PLATFORMS)
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is not None:
        try:
            wanted = {resolve_platform_name(str(name)) for name in marker.args}
        except ConfigurationError as exc:
            wanted = set()
            problem = f": {exc}"
        else:
            problem = ""
        if not wanted:
            pytest.fail(
                f"@pytest.mark.{MARKER}() needs event format names from "
                f"{', '.join(ALL_PLATFORMS)}; got {list(marker.args)!r}{problem}",
                pytrace=False,
            )
        platforms = [name for name in ALL_PLATFORMS if name in wanted]
    chosen = _option_platforms(metafunc.config)
    if chosen:
        platforms = [name for name in platforms if name in chosen]
    metafunc.parametrize("faas_platform", platforms, indirect=True, ids=platforms)


def _parametrize_recorded(metafunc: Any) -> None:
    """``faas_recorded_event``: each fixture file of the marker's folder (``import-events``
    output), named by file."""
    from pathlib import Path

    from .recorded import recorded_events

    marker = metafunc.definition.get_closest_marker(RECORDED_MARKER)
    folder = Path(str(marker.args[0])) if marker is not None and marker.args else None
    folder = Path(metafunc.config.rootpath) / (folder or RECORDED_FOLDER)
    try:
        paths = recorded_events(folder)
    except ConfigurationError as exc:
        pytest.fail(f"@pytest.mark.{RECORDED_MARKER}: {exc}", pytrace=False)
    metafunc.parametrize(
        "faas_recorded_event", paths, indirect=True, ids=[path.name for path in paths]
    )


@_fixture
def faas_recorded_event(request: Any) -> Any:
    """The path of one recorded event file (see ``@pytest.mark.faas_recorded_events``)."""
    return request.param


@_fixture
def faas_platform(request: Any) -> str:
    """The event format this run of the test uses: one of ``PLATFORM_NAMES``
    (``"tencent_apigw"``...)."""
    name: str = getattr(request, "param", ALL_PLATFORMS[0])
    return name


@_fixture
def faas_handler() -> Any:
    """Override this fixture: return your ``handler(event, context)`` or WSGI/ASGI app."""
    pytest.fail(
        "faas_client needs a 'faas_handler' fixture that returns your handler(event, context) "
        "or your WSGI/ASGI app; define one in conftest.py",
        pytrace=False,
    )


@_fixture
def faas_client(faas_handler: Any, faas_platform: str) -> FaasClient:
    """A :class:`~faas_bridge.testing.FaasClient` sending ``faas_platform`` events to the
    handler ``faas_handler`` returns (an app is wrapped with ``make_handler``)."""
    from .client import FaasClient, as_handler

    return FaasClient(as_handler(faas_handler), faas_platform)

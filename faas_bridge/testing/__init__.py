"""Offline testing helpers: events as each gateway builds them, and their responses decoded.

::

    from faas_bridge.testing import FaasClient, build_event, build_context, parse_response

    client = FaasClient(main_handler, "tencent_apigw")
    assert client.post("/api/items", json={"name": "x"}).status_code == 201

    event = build_event("alibaba_fc", "GET", "/api/items", query={"page": "2"})
    response = parse_response("alibaba_fc", main_handler(event, build_context("alibaba_fc")))

The package holds the platform-neutral halves: :mod:`.events` (normalising a request),
:mod:`.responses` (the decoded response), :mod:`.client` (the test client), :mod:`.samples`
(the shipped sample events) and :mod:`.plugin` (the pytest plugin). What each gateway does
lives with its format, in ``platforms/<format>/gateway.py``. Nothing here is imported by the
event path; import it from tests only. Names are imported on first use, so the pytest plugin
(which pytest loads in every session) costs nothing until a fixture runs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..errors import InvalidResponseError
    from ..platforms import PLATFORM_NAMES
    from .client import FaasClient, Handler, as_handler, is_handler
    from .events import CookiesInput, HeadersInput, QueryInput, build_context, build_event
    from .recorded import import_events, recorded_events, replay
    from .responses import Headers, TestResponse, parse_response
    from .samples import list_events, load_event
    from .triggers import build_timer_event, build_trigger_event, trigger_kinds

__all__ = [
    "PLATFORM_NAMES",
    "CookiesInput",
    "FaasClient",
    "Handler",
    "Headers",
    "HeadersInput",
    "InvalidResponseError",
    "QueryInput",
    "TestResponse",
    "as_handler",
    "build_context",
    "build_event",
    "build_timer_event",
    "build_trigger_event",
    "import_events",
    "is_handler",
    "list_events",
    "load_event",
    "parse_response",
    "recorded_events",
    "replay",
    "trigger_kinds",
]

_HOMES = {
    "PLATFORM_NAMES": "faas_bridge.platforms",
    "InvalidResponseError": "faas_bridge.errors",
    "FaasClient": ".client",
    "Handler": ".client",
    "as_handler": ".client",
    "is_handler": ".client",
    "CookiesInput": ".events",
    "HeadersInput": ".events",
    "QueryInput": ".events",
    "build_context": ".events",
    "build_event": ".events",
    "Headers": ".responses",
    "TestResponse": ".responses",
    "parse_response": ".responses",
    "list_events": ".samples",
    "load_event": ".samples",
    "build_timer_event": ".triggers",
    "build_trigger_event": ".triggers",
    "trigger_kinds": ".triggers",
    "import_events": ".recorded",
    "recorded_events": ".recorded",
    "replay": ".recorded",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value

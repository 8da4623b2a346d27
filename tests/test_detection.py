"""detect() is a hand-written decision tree for speed; it must agree with the platform
modules' own matches() taken in the documented order (most specific first)."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faas_bridge.http import Request
from faas_bridge.platforms import _DETECTION_ORDER, detect
from faas_bridge.testing import PLATFORM_NAMES, build_event


def first_match(event: Any) -> str | None:
    for platform in _DETECTION_ORDER:
        if platform.matches(event):
            return platform.NAME
    return None


KEYS = [
    "httpMethod", "path", "rawPath", "requestContext", "queryParameters", "queryString",
    "headers", "body", "Type", "pathParameters", "version",
]  # fmt: skip
context_values = st.one_of(
    st.none(),
    st.just({}),
    st.just({"envId": "env-1"}),
    st.just({"http": {"method": "GET"}}),
    st.just("text"),
    st.builds(OrderedDict, st.just({"envId": "env-1"})),  # a Mapping that is not a plain dict
)


@given(
    present=st.sets(st.sampled_from(KEYS)),
    request_context=context_values,
)
def test_detect_agrees_with_matches_in_order(present: set[str], request_context: Any) -> None:
    event: dict[str, Any] = dict.fromkeys(present, "x")
    if "requestContext" in present:
        event["requestContext"] = request_context
    if "version" in present:
        event["version"] = "v1"
    found = detect(event)
    assert (found.NAME if found else None) == first_match(event)
    # the formats' matches() are mutually exclusive: the order never decides
    assert len([p for p in _DETECTION_ORDER if p.matches(event)]) <= 1


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_built_events_are_detected_as_their_platform(platform: str) -> None:
    event = build_event(platform, "GET", "/")
    decoded = json.loads(event) if isinstance(event, bytes) else event
    found = detect(decoded)
    assert found is not None
    assert found.NAME == platform == first_match(decoded)


# Alibaba API Gateway's event for an FC event function, as its docs show it
# (https://www.alibabacloud.com/help/doc-detail/74797.html): no requestContext either.
ALIBABA_APIGW_EVENT = {
    "path": "/items",
    "httpMethod": "GET",
    "headers": {"X-Ca-Api-Gateway": "8BDEAB48-0000-4000-8000-000000000000"},
    "queryParameters": {"page": "2"},
    "pathParameters": {},
    "body": "",
    "isBase64Encoded": False,
}


def test_an_api_gateway_event_is_not_taken_for_a_function_url_event() -> None:
    """Fails before the fix: tencent_url claimed it and the app saw no query."""
    from faas_bridge.platforms import tencent_url

    assert not tencent_url.matches(ALIBABA_APIGW_EVENT)
    found = detect(ALIBABA_APIGW_EVENT)
    assert found is None or found.NAME != "tencent_url"


def test_an_api_gateway_event_without_query_parameters_is_still_one() -> None:
    """Its docs always show queryParameters, but pathParameters is as much its own: an event
    with only the latter was read as a function-URL event (whose parse trusts the
    client-settable x-scf-remote-addr header as the client address)."""
    event = {k: v for k, v in ALIBABA_APIGW_EVENT.items() if k != "queryParameters"}
    found = detect(event)
    assert found is not None
    assert found.NAME == "alibaba_apigw"


def test_request_keeps_a_flat_header_dict_and_builds_pairs_on_demand() -> None:
    headers = {"Host": "a.example", "X-Trace": "1"}
    request = Request(
        "GET", "/", b"/", b"", headers, b"", "https", ("a.example", 443), None, "", "", None,
        None, "tencent_url",
    )  # fmt: skip
    assert request.header_map is headers
    assert request.headers == [("Host", "a.example"), ("X-Trace", "1")]
    replaced = Request(
        "GET", "/", b"/", b"", [("Host", "b.example")], b"", "https", ("b.example", 443), None,
        "", "", None, None, "tencent_url",
    )  # fmt: skip
    assert replaced.header_map is None
    assert replaced.headers == [("Host", "b.example")]


@pytest.mark.parametrize("headers", [{"Host": "a.example"}, [("Host", "a.example")]])
def test_the_fast_request_maker_sets_every_field_the_class_sets(headers: Any) -> None:
    """Platforms build requests with new_request (no __init__ call): a field added to
    Request.__init__ but not there would be missing on every real request."""
    from faas_bridge.http import new_request

    args = (
        "GET", "/x", b"/x", b"a=1", headers, b"body", "https", ("a.example", 443),
        ("203.0.113.1", 0), "/stage", "rid", {"e": 1}, {"c": 2}, "tencent_url",
    )  # fmt: skip
    made, built = new_request(*args), Request(*args)
    for name in Request.__slots__:
        assert getattr(made, name) == getattr(built, name), name
    assert made.headers == built.headers

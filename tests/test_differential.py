"""Differential tests: a request through faas_bridge as each platform's event must look the
same to the app, and its response the same to the client, as the same request sent straight
to the app with werkzeug's test client."""

from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from faas_bridge import make_handler
from faas_bridge.testing import PLATFORM_NAMES, TestResponse, build_event, parse_response

from . import probe

APPS: dict[str, Callable[[], Any]] = {
    "flask": probe.make_flask_app,
    "django": probe.make_django_wsgi_app,
}

# Path segments: unicode letters and digits plus the punctuation allowed in a path.
# "%" is left out: Tencent events carry decoded paths, where "%41" cannot be told apart from
# an encoded "A" (see README, "Request fidelity").
segment: st.SearchStrategy[str] = st.text(
    alphabet=st.one_of(
        st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Nd")),
        st.sampled_from("-._~!$&'()*+,;=:@ "),
    ),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip(". ") != "" and not s.startswith(" ") and not s.endswith(" "))
paths = st.lists(segment, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
query_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=","),
    max_size=10,
)
query_keys: st.SearchStrategy[str] = query_text.filter(lambda key: key != "" and key != "respond")
cookie_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)
header_value = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20
)


# The generated request both differential test modules send: method, path, query, cookies,
# extra headers, body, and the response shape the probe app is asked for.
REQUESTS: dict[str, st.SearchStrategy[Any]] = {
    "method": st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]),
    "path": paths,
    "query": st.lists(st.tuples(query_keys, query_text), max_size=4),
    "cookies": st.dictionaries(cookie_token, cookie_token, max_size=3),
    "extra": st.dictionaries(
        st.sampled_from(["x-probe-a", "x-probe-b", "x-probe-trace"]), header_value, max_size=3
    ),
    "body": st.binary(max_size=300),
    "respond": st.sampled_from(probe.RESPONSES),
}


def direct(
    app: Any,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes,
) -> tuple[dict[str, Any], TestResponse]:
    response = Client(app, use_cookies=False).open(
        path, method=method, query_string=urlencode(query), headers=headers, data=body
    )
    from faas_bridge.testing import Headers

    result = TestResponse(
        response.status_code, Headers(response.headers.to_wsgi_list()), response.get_data()
    )
    return seen_by_app(result), result


def via_platform(
    app: Any,
    platform: str,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: list[tuple[str, str]],
    body: bytes,
) -> tuple[dict[str, Any], TestResponse]:
    handler = make_handler(app)
    event = build_event(
        platform, method, path, query=query, headers=headers, body=body, host="api.example.cn"
    )
    result = parse_response(platform, handler(event, None))
    return seen_by_app(result), result


def seen_by_app(response: TestResponse) -> dict[str, Any]:
    if response.headers.get("content-type") != "application/json" or not response.content:
        return {}
    content = response.content
    if response.headers.get("content-encoding") == "gzip":
        import gzip

        content = gzip.decompress(content)
    report: dict[str, Any] = json.loads(content)
    return report


def request_parts(
    platform: str,
    method: str,
    query: list[tuple[str, str]],
    cookies: dict[str, str],
    extra: dict[str, str],
    body: bytes,
    respond: str,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], bytes]:
    """``(query, headers, body)`` of a generated request, as both sides will send it."""
    if platform in ("alibaba_fc", "alibaba_apigw"):
        # FC (and, unverified, API Gateway) join repeated query keys with commas.
        query = list(dict(query).items())
    if method in ("GET", "DELETE"):
        body = b""
    query = [*query, ("respond", respond)]
    headers = list(extra.items())
    if cookies:
        headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items())))
    if body:
        headers.append(("Content-Type", "application/octet-stream"))
    return query, headers, body


def comparable(response: TestResponse) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted(
        (name.lower(), value)
        for name, value in response.headers.items()
        if name.lower() != "content-length"
    )
    return response.status_code, headers, response.content


@pytest.mark.parametrize("framework", sorted(APPS))
@pytest.mark.parametrize("platform", PLATFORM_NAMES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**REQUESTS)
def test_same_request_same_response(
    framework: str,
    platform: str,
    method: str,
    path: str,
    query: list[tuple[str, str]],
    cookies: dict[str, str],
    extra: dict[str, str],
    body: bytes,
    respond: str,
) -> None:
    app = APPS[framework]()
    query, headers, body = request_parts(platform, method, query, cookies, extra, body, respond)

    expected_seen, expected = direct(app, method, path, query, headers, body)
    seen, got = via_platform(app, platform, method, path, query, headers, body)

    assert seen == expected_seen
    assert comparable(got) == comparable(expected)


@pytest.mark.parametrize("framework", sorted(APPS))
@pytest.mark.parametrize("platform", PLATFORM_NAMES)
@pytest.mark.parametrize("respond", probe.RESPONSES)
def test_each_response_kind(framework: str, platform: str, respond: str) -> None:
    """Every response shape on every platform, deterministically (hypothesis may skip some)."""
    app = APPS[framework]()
    query = [("q", "云 函数"), ("respond", respond)]
    headers = [("Cookie", "a=1; b=2"), ("Content-Type", "application/octet-stream")]
    body = bytes(range(256))
    expected_seen, expected = direct(app, "POST", "/商品/a b", query, headers, body)
    seen, got = via_platform(app, platform, "POST", "/商品/a b", query, headers, body)
    assert seen == expected_seen
    assert comparable(got) == comparable(expected)
    if respond == "cookies":
        assert len(got.headers.get_all("set-cookie")) == 3
    if respond == "binary-echo":
        assert got.content == body

"""Hostile and broken events: the handler answers a well-formed response or raises a
:class:`~faas_bridge.BridgeError`, never a stray ``KeyError``/``TypeError``/``UnicodeError``.

Each platform's event is built with :func:`faas_bridge.testing.build_event`, then fields are
removed or replaced (wrong types, invalid base64, lone surrogates standing for non-UTF-8
bytes, CR/LF/NUL, very long values), and whole events of the wrong kind are sent. Both a WSGI
(Flask) and an ASGI (Starlette) app answer.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import traceback
from typing import Any, Callable

import pytest
from flask import Flask, jsonify, request
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse
from starlette.routing import Route

from faas_bridge import BridgeError, Handler, make_handler
from faas_bridge.errors import AppResponseError
from faas_bridge.platforms import detect
from faas_bridge.testing import build_context, build_event

PLATFORMS = ("tencent_apigw", "tencent_url", "cloudbase", "alibaba_fc", "alibaba_apigw")
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --------------------------------------------------------------------------------------------
# Two echo apps: what they saw, as JSON, so rendering is exercised with request-derived text

flask_app = Flask(__name__)


@flask_app.route("/", defaults={"path": ""}, methods=METHODS)
@flask_app.route("/<path:path>", methods=METHODS)
def flask_echo(path: str) -> Any:
    response = jsonify(
        method=request.method,
        path=request.path,
        query=request.query_string.decode("latin-1"),
        headers=len(request.headers),
        body=base64.b64encode(request.get_data()).decode("ascii"),
    )
    response.set_cookie("seen", "1")
    response.set_cookie("again", "2")
    return response


async def starlette_echo(request: StarletteRequest) -> JSONResponse:
    body = await request.body()
    response = JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": len(request.headers),
            "body": base64.b64encode(body).decode("ascii"),
        }
    )
    response.set_cookie("seen", "1")
    response.set_cookie("again", "2")
    return response


starlette_app = Starlette(routes=[Route("/{path:path}", starlette_echo, methods=METHODS)])

APPS = {"flask": flask_app, "starlette": starlette_app}
OPTION_SETS: list[dict[str, Any]] = [
    {},
    {"base_path": "/items", "trust_forwarded_for": True, "fc_cookies": "join"},
]
HANDLERS: dict[tuple[str, str | None, int], Handler] = {}


def handler_for(app: str, platform: str | None = None, options: int = 0) -> Handler:
    key = (app, platform, options)
    if key not in HANDLERS:
        HANDLERS[key] = make_handler(APPS[app], platform=platform, **OPTION_SETS[options])
    return HANDLERS[key]


# --------------------------------------------------------------------------------------------
# The property


def assert_well_formed(result: Any, platform: str | None) -> None:
    """A response the platform's gateway accepts."""
    assert type(result) is dict, result
    status = result["statusCode"]
    assert type(status) is int, status
    assert 100 <= status <= 599, status
    assert type(result["isBase64Encoded"]) is bool
    assert type(result["body"]) is str
    headers = result["headers"]
    assert type(headers) is dict
    lists_allowed = platform not in ("alibaba_fc", "alibaba_apigw")
    for name, value in headers.items():
        assert type(name) is str
        if type(value) is list:
            assert lists_allowed, f"{platform} headers must be str -> str: {name}: {value!r}"
            assert value
            assert all(type(item) is str for item in value)
        else:
            assert type(value) is str, (name, value)


def platform_of(event: Any, forced: str | None) -> str | None:
    if forced is not None:
        return forced
    if isinstance(event, (bytes, str)):
        try:
            event = json.loads(event)
        except ValueError:
            return None
    platform = detect(event) if isinstance(event, dict) else None
    return platform.NAME if platform is not None else None


class Failures(logging.Handler):
    """Collects the exceptions the library logs, to tell its own failures from the app's."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


FAILURES = Failures()
logging.getLogger("faas_bridge").addHandler(FAILURES)


def raised_inside_faas_bridge(record: logging.LogRecord) -> bool:
    """Whether a logged exception started in faas_bridge's own code (not the app's)."""
    assert record.exc_info is not None
    error = record.exc_info[1]
    if isinstance(error, AppResponseError):  # the app broke its protocol: its fault
        return False
    frames = traceback.extract_tb(record.exc_info[2])
    return bool(frames) and f"{os.sep}faas_bridge{os.sep}" in frames[-1].filename


def call(
    handler: Handler, event: Any, context: Any, forced: str | None = None, strict: bool = True
) -> Any:
    """Call the handler; a BridgeError is an accepted outcome, anything else must not escape,
    and (``strict``) a 500 must never hide an exception raised by faas_bridge itself."""
    FAILURES.records.clear()
    try:
        result = handler(event, context)
    except BridgeError:
        return None
    assert_well_formed(result, platform_of(event, forced))
    if not strict:
        return result
    ours = [record for record in FAILURES.records if raised_inside_faas_bridge(record)]
    assert not ours, ours[0].exc_info
    return result


# --------------------------------------------------------------------------------------------
# Strategies

NASTY = [
    "",
    "\r\n",
    "a\rb",
    "a\nSet-Cookie: x=1",
    "\x00",
    "a\x00b",
    "\udcff",  # a lone surrogate: what a non-UTF-8 byte becomes in a str
    "\ud800x",
    "%",
    "%zz",
    "%ff%fe",
    "%00",
    "?",
    "#frag",
    "//double",
    "../../etc/passwd",
    " leading space",
    "你好",
    "\u2028",
    "=?utf-8?q?x?=",
    "true",
    "null",
]
LONG = [
    "x" * 70_000,
    "/" + "a/" * 20_000,
    "%41" * 20_000,
    "A" * 8191 + "\r\n",
    base64.b64encode(b"\xff" * 300_000).decode("ascii"),
]
nasty_text = st.one_of(
    st.sampled_from(NASTY),
    st.lists(st.one_of(st.text(max_size=4), st.sampled_from(NASTY)), max_size=4).map("".join),
)
long_text = st.sampled_from(LONG)
scalar_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
)
junk = st.one_of(
    scalar_junk,
    long_text,
    st.lists(scalar_junk, max_size=3),
    st.dictionaries(st.one_of(nasty_text, st.integers()), scalar_junk, max_size=3),
    st.dictionaries(st.text(max_size=3), st.lists(scalar_junk, max_size=2), max_size=2),
)


def base_event(platform: str, body: bytes = b'{"k": 1}') -> dict[str, Any]:
    event = build_event(
        platform,
        "POST",
        "/items/你好?x=1&x=2&flag",
        headers={"Content-Type": "application/json", "X-Custom": ["a", "b"]},
        cookies={"session": "s1"},
        body=body,
        is_base64=not body.isascii(),
    )
    if isinstance(event, bytes):
        decoded: dict[str, Any] = json.loads(event)
        return decoded
    assert isinstance(event, dict)
    return event


def key_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside nested dicts and lists."""
    paths: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return paths
    for key, child in items:
        paths.append((*prefix, key))
        paths.extend(key_paths(child, (*prefix, key)))
    return paths


def mutate(event: dict[str, Any], data: st.DataObject) -> None:
    """Apply one to three removals, replacements or additions somewhere in the event."""
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = key_paths(event)
        if not paths:
            return
        path = data.draw(st.sampled_from(paths), label="path")
        parent: Any = event
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["remove", "replace", "add"]), label="action")
        if action == "remove":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = data.draw(junk, label="value")
        elif isinstance(parent, dict):
            parent[data.draw(nasty_text, label="new key")] = data.draw(junk, label="value")


def as_delivered(event: dict[str, Any], platform: str, data: st.DataObject) -> Any:
    """The event as a dict, or (FC 3.0 style) as JSON bytes that may not be valid UTF-8."""
    if platform in ("alibaba_fc", "alibaba_apigw") and data.draw(st.booleans(), label="as bytes"):
        try:
            text = json.dumps(event, ensure_ascii=False)
        except (TypeError, ValueError):
            return event
        return text.encode("utf-8", "surrogatepass")  # a lone surrogate: invalid UTF-8
    return event


# --------------------------------------------------------------------------------------------
# Broken fields in otherwise real events


@pytest.mark.parametrize("app", sorted(APPS))
@pytest.mark.parametrize("platform", PLATFORMS)
@FUZZ
@given(data=st.data())
def test_mutated_events_answer_or_raise_bridge_errors(
    app: str, platform: str, data: st.DataObject
) -> None:
    event = base_event(platform)
    mutate(event, data)
    forced = data.draw(st.sampled_from([None, platform]), label="forced platform")
    options = data.draw(st.sampled_from(range(len(OPTION_SETS))), label="options")
    handler = handler_for(app, forced, options)
    call(handler, as_delivered(event, platform, data), None, forced)


@pytest.mark.parametrize("app", sorted(APPS))
@pytest.mark.parametrize("platform", PLATFORMS)
@FUZZ
@given(
    field=st.sampled_from(["body", "path", "header", "header name", "query", "method"]),
    value=st.one_of(nasty_text, long_text),
    flag=st.sampled_from([True, "true", "TRUE", " true ", False, "false", None, 1, "yes"]),
)
def test_hostile_values_in_string_fields(
    app: str, platform: str, field: str, value: str, flag: Any
) -> None:
    event = base_event(platform)
    event["isBase64Encoded"] = flag
    if field == "body":
        event["body"] = value
    elif field == "path":
        event["rawPath" if platform == "alibaba_fc" else "path"] = value
    elif field == "header":
        event["headers"]["X-Hostile"] = value
        event["headers"]["host"] = value
    elif field == "header name":
        event["headers"][value] = "v"
    elif field == "query":
        key = "queryParameters" if platform in ("alibaba_fc", "alibaba_apigw") else "queryString"
        event[key] = {value: value, "k": [value, True, None]}
    elif platform == "alibaba_fc":
        event["requestContext"]["http"]["method"] = value
    else:
        event["httpMethod"] = value
    result = call(handler_for(app), event, build_context(platform))
    if result is not None and field == "body" and flag is True and value in LONG[-1:]:
        assert result["statusCode"] < 500


@pytest.mark.parametrize("app", sorted(APPS))
@pytest.mark.parametrize("platform", PLATFORMS)
def test_invalid_base64_body_is_passed_as_text_not_a_crash(app: str, platform: str) -> None:
    # A body flagged base64 that is not base64 reaches the app as its text (Tencent's own
    # documented sample is one); only text that is not Unicode is a malformed event.
    for body in ("not base64!", "QUJ", "\udcff", "YWJj\x00", "Zm9v\r\nYmFy"):
        event = base_event(platform)
        event["body"], event["isBase64Encoded"] = body, True
        result = call(handler_for(app), event, build_context(platform))
        assert result is not None
        if body == "\udcff":
            assert result["statusCode"] == 400
            assert json.loads(result["body"])["error"] == "malformed_event"
        else:
            assert result["statusCode"] < 500


@pytest.mark.parametrize("app", sorted(APPS))
@pytest.mark.parametrize("platform", PLATFORMS)
@FUZZ
@given(data=st.data(), context=st.one_of(junk, st.just({"time_limit_in_ms": "3000"})))
def test_contexts_of_any_shape(app: str, platform: str, data: st.DataObject, context: Any) -> None:
    event = base_event(platform)
    if data.draw(st.booleans()):
        mutate(event, data)
    call(handler_for(app), event, context)


@pytest.mark.parametrize("app", sorted(APPS))
@pytest.mark.parametrize("platform", PLATFORMS)
def test_long_paths_headers_and_bodies_are_served(app: str, platform: str) -> None:
    body = b"\x00\xff" * 200_000
    event = base_event(platform, body=body)
    event["headers"]["X-Long"] = "v" * 60_000
    if platform == "alibaba_fc":
        event["rawPath"] = "/items/" + "a" * 30_000
    else:
        event["path"] = "/items/" + "a" * 30_000
    result = call(handler_for(app), event, build_context(platform))
    assert result is not None
    assert result["statusCode"] in (200, 413)
    if result["statusCode"] == 200:
        seen = json.loads(result["body"])
        assert base64.b64decode(seen["body"]) == body
        assert seen["path"].endswith("/items/" + "a" * 30_000)


# --------------------------------------------------------------------------------------------
# Whole events of the wrong kind

TIMER = {
    "Type": "Timer",
    "TriggerName": "every-minute",
    "Time": "2024-01-01T00:00:00Z",
    "Message": "",
}
COS = {"Records": [{"cos": {"cosObject": {"key": "a.txt"}}, "event": {"eventName": "put"}}]}
FC_TIMER = b'{"triggerTime": "2024-01-01T00:00:00Z", "triggerName": "t", "payload": ""}'
WRONG_KINDS: list[Any] = [
    {},
    [],
    [{"httpMethod": "GET"}],
    "",
    "GET / HTTP/1.1",
    "null",
    0,
    1.5,
    True,
    None,
    b"",
    b"\xff\xfe\x00",
    bytearray(b"{}"),
    TIMER,
    COS,
    FC_TIMER,
    {"httpMethod": "GET"},  # no path, no requestContext
    {"rawPath": "/"},  # FC without requestContext
    {"requestContext": {}},
    {"httpMethod": None, "requestContext": None},
    {"httpMethod": "GET", "requestContext": ["envId"]},
    {"httpMethod": "GET", "requestContext": "envId"},
    {"rawPath": None, "requestContext": None},
    {"rawPath": "/", "requestContext": {"http": None}},
    {1: 2, None: 3},
]


@pytest.mark.parametrize("app", sorted(APPS))
@pytest.mark.parametrize("platform", [None, *PLATFORMS])
@pytest.mark.parametrize("event", WRONG_KINDS, ids=range(len(WRONG_KINDS)))
def test_events_of_the_wrong_kind(app: str, platform: str | None, event: Any) -> None:
    call(handler_for(app, platform), event, None, platform)


@pytest.mark.parametrize("app", sorted(APPS))
@pytest.mark.parametrize("platform", PLATFORMS)
def test_another_platforms_event(app: str, platform: str) -> None:
    for other in PLATFORMS:
        call(handler_for(app, platform), base_event(other), build_context(other), platform)


@pytest.mark.parametrize("app", sorted(APPS))
@FUZZ
@given(platform=st.sampled_from(PLATFORMS), cut=st.integers(min_value=0, max_value=2000))
def test_truncated_json_bytes(app: str, platform: str, cut: int) -> None:
    raw = json.dumps(base_event(platform)).encode("utf-8")
    truncated = raw[: min(cut, len(raw) - 1)]
    call(handler_for(app), truncated, None)
    call(handler_for(app), truncated.decode("utf-8", "replace"), None)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), nasty_text),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                ["httpMethod", "path", "rawPath", "requestContext", "headers", "body", "http"]
            )
            | st.text(max_size=4),
            children,
            max_size=5,
        ),
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("app", sorted(APPS))
@FUZZ
@given(event=json_values, platform=st.sampled_from([None, *PLATFORMS]))
def test_arbitrary_json_values(app: str, event: Any, platform: str | None) -> None:
    call(handler_for(app, platform), event, None, platform)


def test_property_catches_a_malformed_response() -> None:
    """The checker itself: a response the gateway would reject fails it."""
    bad: list[Callable[[dict[str, Any]], None]] = [
        lambda r: r.update(statusCode="200"),
        lambda r: r.update(statusCode=700),
        lambda r: r.update(body=b""),
        lambda r: r.update(isBase64Encoded="false"),
        lambda r: r["headers"].update({"a": 1}),
    ]
    for spoil in bad:
        result = handler_for("flask")(build_event("tencent_apigw"), None)
        assert_well_formed(result, "tencent_apigw")
        spoil(result)
        with pytest.raises(AssertionError):
            assert_well_formed(result, "tencent_apigw")
    result = handler_for("flask")(build_event("tencent_apigw"), None)
    assert isinstance(result["headers"]["Set-Cookie"], list)
    with pytest.raises(AssertionError):
        assert_well_formed(result, "alibaba_fc")


# --------------------------------------------------------------------------------------------
# Hostile responses: whatever the app answers, the gateway gets a well-formed response


def responding_apps(status: Any, headers: list[Any]) -> dict[str, Any]:
    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(status if isinstance(status, str) else f"{status} Reason", headers)
        return [b"body"]

    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        encoded = [
            tuple(
                part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
                for part in pair
            )
            if isinstance(pair, tuple)
            else pair
            for pair in headers
        ]
        await send({"type": "http.response.start", "status": status, "headers": encoded})
        await send({"type": "http.response.body", "body": b"body"})

    return {"wsgi": wsgi_app, "asgi": asgi_app}


header_text = st.one_of(st.sampled_from(["Content-Type", "Set-Cookie", "X-A"]), nasty_text)


@pytest.mark.parametrize("interface", ["wsgi", "asgi"])
@pytest.mark.parametrize("platform", PLATFORMS)
@FUZZ
@given(
    status=st.one_of(st.integers(-5, 1000), st.sampled_from(["200 OK", "2000", "abc", "", None])),
    headers=st.lists(
        st.one_of(
            st.tuples(header_text, st.one_of(header_text, st.integers(), st.none())),
            st.tuples(header_text, header_text, header_text),  # not a pair
            st.tuples(header_text),
            header_text,
            st.none(),
        ),
        max_size=4,
    ),
)
def test_responses_of_any_shape_reach_the_gateway_well_formed(
    interface: str, platform: str, status: Any, headers: list[Any]
) -> None:
    app = responding_apps(status, headers)[interface]
    handler = make_handler(app, interface=interface, lifespan="off")  # type: ignore[arg-type]
    # Header items that are not pairs fail where the response is rendered (checking their
    # shape up front would cost every call): still the logged 500, with a ValueError.
    pairs = all(isinstance(pair, tuple) and len(pair) == 2 for pair in headers)
    result = call(handler, build_event(platform), build_context(platform), strict=pairs)
    assert result is not None
    for name, value in result["headers"].items():
        for text in [name, *(value if isinstance(value, list) else [value])]:
            assert not set(text) & {"\r", "\n", "\0"}, (name, value)


QUERY_TEXT = st.one_of(
    st.sampled_from(["", "2", "abc", "a b", "a&b", "a=b", "x+y", "%41", "李", "~ok", "#f"]),
    st.text(max_size=6),
)
QUERY_VALUE = st.one_of(
    QUERY_TEXT,
    st.lists(st.one_of(QUERY_TEXT, st.just(True)), max_size=3),
    st.sampled_from([True, None]),
)


@FUZZ
@given(params=st.dictionaries(QUERY_TEXT, QUERY_VALUE, max_size=4))
@example(params={"q": "李"})
@example(params={"q": ["a", "李"], "p": True})
@example(params={"q": "a=b", "r": ["x&y"]})
@example(params={"q": ["1", True, None], "b": None})
def test_the_query_fast_path_encodes_as_the_careful_one(params: dict[str, Any]) -> None:
    """encode_query takes a short way for plain queries: its bytes are the careful way's,
    whatever the names and values (asked twice: names are remembered after the first)."""
    from faas_bridge.errors import MalformedEventError
    from faas_bridge.http import _encode_query_carefully, encode_query

    try:
        expected = _encode_query_carefully(params)
    except MalformedEventError:
        with pytest.raises(MalformedEventError):
            encode_query(params)
        return
    assert encode_query(params) == expected
    assert encode_query(params) == expected

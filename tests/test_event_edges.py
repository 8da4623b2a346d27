"""Event mode's second round of hostile input (issue 16): no stray exception, no memory a
client controls, no forged log line, the deadline from the handler's entry, response
headers checked as a server checks them, and the formats' documented edges."""

from __future__ import annotations

import base64
import gc
import json
import logging
import os
from typing import Any, Callable

import pytest
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from flask import Flask, request

from faas_bridge import UnknownEventError, make_handler
from faas_bridge import asgi as asgi_module
from faas_bridge.emulator import EmulatorConfig, Gateway, redact
from faas_bridge.testing import (
    InvalidResponseError,
    build_context,
    build_event,
    parse_response,
)

from .conftest import Spy


def flask_echo() -> Flask:
    app = Flask(__name__)

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
    @app.route("/<path:path>", methods=["GET", "POST"])
    def echo(path: str) -> Any:
        return {
            "headers": [[k, v] for k, v in request.headers.items()],
            "args": request.args.to_dict(flat=False),
            "body": request.get_data(as_text=True),
        }

    return app


def fastapi_echo() -> FastAPI:
    app = FastAPI()

    @app.get("/{path:path}")
    async def echo(path: str, request: FastAPIRequest) -> Any:
        return {"headers": [[k, v] for k, v in request.headers.items()]}

    return app


def wsgi_app(headers: list[Any]) -> Callable[..., Any]:
    def app(environ: Any, start_response: Callable[..., Any]) -> list[bytes]:
        start_response("200 OK", headers)
        return [b"ok"]

    return app


def asgi_app(headers: list[Any]) -> Callable[..., Any]:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


# --- 1. a stray exception ----------------------------------------------------------------


def test_deeply_nested_fc_bytes_are_an_unknown_event_not_a_recursion_error() -> None:
    handler = make_handler(Spy())
    nested = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(UnknownEventError):
        handler(nested, build_context("alibaba_fc"))
    seen: list[Any] = []

    def on_other(event: Any, context: Any) -> str:
        seen.append(event)
        return "done"

    on_event = make_handler(Spy(), on_event=on_other)
    assert on_event(nested, None) == "done"
    assert seen == [nested]


# --- 2. memory a client controls -----------------------------------------------------------


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_memos_stay_bounded_under_hostile_header_names_and_hosts(kind: str) -> None:
    app: Any = Spy() if kind == "wsgi" else asgi_app([(b"content-type", b"text/plain")])
    handler = make_handler(app, lifespan="off")
    context = build_context("tencent_apigw")
    template = build_event("tencent_apigw", "GET", "/", headers={"accept": "*/*"})

    def hostile(number: int) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(json.dumps(template))
        size = 32_768 + number % 32_768  # 32-64 KB of header names, different every call
        stem = f"x-{number}-" + "a" * 500
        event["headers"] = {f"{stem}-{i}": "v" for i in range(size // 520)}
        event["headers"]["host"] = f"h{number}-" + "b" * 240 + ".example.com"
        event["queryString"] = {f"k{number}" + "c" * 60: "1"}
        event["path"] = f"/{number}/" + "d" * 200
        return event

    for number in range(50):  # warm: imports, first allocations
        handler(hostile(number), context)
    gc.collect()
    before = rss_bytes()
    for number in range(50, 3050):
        assert handler(hostile(number), context)["statusCode"] == 200
    gc.collect()
    assert rss_bytes() - before < 10 * 1024 * 1024


# --- 3. forged log lines -------------------------------------------------------------------


def test_a_line_break_in_the_path_cannot_forge_a_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def crash(environ: Any, start_response: Any) -> list[bytes]:
        raise RuntimeError("boom")

    forged = "/a%0aFORGED admin logged in%0d%0a"
    context = build_context("tencent_apigw")
    with caplog.at_level(logging.INFO, logger="faas_bridge"):
        make_handler(crash)(build_event("tencent_apigw", "GET", forged), context)
        big = build_event("tencent_apigw", "POST", forged, body=b"x" * 200)
        make_handler(Spy(), request_limit=100)(big, context)
        make_handler(Spy(body=b"y" * 300), response_limit=200)(
            build_event("tencent_apigw", "GET", forged), context
        )
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 3
    for message in messages:
        assert "\n" not in message
        assert "\r" not in message
        assert "%0A" in message.upper()


# --- 4. the deadline starts when the handler is entered ---------------------------------


def test_the_deadline_counts_lifespan_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(asgi_module, "_monotonic", lambda: clock[0])
    seen: dict[str, float] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            clock[0] += 2.0  # a two-second startup
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        (cycle,) = handler._run.watchdog.active  # type: ignore[attr-defined]
        seen["left"] = cycle.due - clock[0]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    handler = make_handler(app, lifespan="on")
    context = build_context("tencent_apigw", time_limit_in_ms=3000)
    assert handler(build_event("tencent_apigw"), context)["statusCode"] == 200
    # 3 s limit, 0.6 s kept for returning: 2.4 s from entry, so 0.4 s after the startup
    assert seen["left"] == pytest.approx(0.4)


# --- 5. response headers checked as a server checks them -------------------------------

BAD_HEADERS = [
    ("", "empty-name"),
    ("X Space", "v"),
    ("X-Colon:", "v"),
    ("X-Ctl", "a\x01b"),
    ("X-Del", "a\x7fb"),
    ("X-Esc", "\x1b[31m"),
    ("Kélvin", "v"),
]


@pytest.mark.parametrize(("name", "value"), BAD_HEADERS)
def test_invalid_response_headers_are_a_500_never_passed_on(name: str, value: str) -> None:
    context = build_context("tencent_apigw")
    for app in (
        wsgi_app([(name, value)]),
        asgi_app([(name.encode("latin-1"), value.encode("latin-1"))]),
    ):
        returned = make_handler(app, lifespan="off")(build_event("tencent_apigw"), context)
        assert returned["statusCode"] == 500
        assert name not in returned["headers"]


def test_a_lone_surrogate_in_a_wsgi_header_value_is_a_500_not_a_gateway_error() -> None:
    returned = make_handler(wsgi_app([("X-Bad", "a\udc80b")]))(
        build_event("tencent_apigw"), build_context("tencent_apigw")
    )
    assert returned["statusCode"] == 500
    json.dumps(returned).encode("utf-8")  # serialisable: the gateway gets a real answer


def test_tabs_and_non_ascii_values_still_pass() -> None:
    headers = [("X-Tab", "a\tb"), ("Content-Disposition", "attachment; filename=\xe9t\xe9")]
    returned = make_handler(wsgi_app(headers))(
        build_event("tencent_apigw"), build_context("tencent_apigw")
    )
    assert returned["statusCode"] == 200
    assert returned["headers"]["X-Tab"] == "a\tb"


# --- 6. non-ASCII header names do not fold onto trusted ones -----------------------------


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_a_non_ascii_header_name_is_dropped(kind: str) -> None:
    app: Any = flask_echo() if kind == "wsgi" else fastapi_echo()
    handler = make_handler(app, lifespan="off")
    kelvin = "x-fc-access-\u212aey-id"  # KELVIN SIGN lower-cases to "k"
    event = build_event("alibaba_fc", "GET", "/", headers={kelvin: "forged", "x-other": "1"})
    returned = handler(event, build_context("alibaba_fc"))
    headers = {name.lower(): value for name, value in json.loads(returned["body"])["headers"]}
    assert "x-fc-access-key-id" not in headers
    assert not any("\u212a" in name for name in headers)
    assert headers["x-other"] == "1"


def test_header_names_that_join_alike_do_not_share_an_environ() -> None:
    """The WSGI runner remembers an environ per set of header names, found by the names
    joined with ":": a set holding a name with a colon must not take another set's keys."""
    spy = Spy()
    handler = make_handler(spy)
    context = build_context("tencent_apigw")
    event = build_event("tencent_apigw")
    for _ in range(2):  # the second call takes the remembered environ
        event["headers"] = {"x-a": "1", "b": "2", "c": "3"}
        handler(event, context)
    assert (spy.environ["HTTP_X_A"], spy.environ["HTTP_B"]) == ("1", "2")
    event["headers"] = {"x-a": "1", "b:c": "2"}  # the same names joined, one name fewer
    handler(event, context)
    assert spy.environ["HTTP_X_A"] == "1"
    assert not any(key in spy.environ for key in ("HTTP_B", "HTTP_C", "HTTP_B:C"))
    event["headers"] = {"x-a": "one", "b": "two", "c": "three"}  # same names, new values
    handler(event, context)
    assert [spy.environ[key] for key in ("HTTP_X_A", "HTTP_B", "HTTP_C")] == ["one", "two", "three"]


@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_a_non_ascii_value_after_ascii_ones_under_the_same_names_is_transcoded(kind: str) -> None:
    """The headers' values are checked once, while parsing: a remembered set of names must
    not let a later non-ASCII value reach the app unconverted."""
    app: Any = flask_echo() if kind == "wsgi" else fastapi_echo()
    handler = make_handler(app, lifespan="off")
    context = build_context("tencent_apigw")
    seen = []
    for value in ("plain", "李雷", "plain"):
        event = build_event("tencent_apigw", "GET", "/", headers={"x-name": value})
        returned = handler(event, context)
        headers = {name.lower(): text for name, text in json.loads(returned["body"])["headers"]}
        seen.append(headers["x-name"].encode("latin-1").decode("utf-8"))  # as servers do
    assert seen == ["plain", "李雷", "plain"]


def test_responses_with_the_same_header_names_are_judged_by_their_values() -> None:
    """What rendering knows of a set of response header names is remembered; the values
    (an identity or a gzip encoding, the media type) are read every time."""
    names = ("Content-Type", "Content-Encoding")
    context = build_context("tencent_apigw")
    for values, base64_expected in [
        (("application/json", "identity"), False),
        (("application/json", "gzip"), True),
        (("image/png", "identity"), True),
        (("text/plain", ""), False),
    ]:
        returned = make_handler(wsgi_app(list(zip(names, values))))(
            build_event("tencent_apigw"), context
        )
        assert returned["isBase64Encoded"] is base64_expected, values
        assert returned["headers"] == dict(zip(names, values))


# --- 7. tooling edges -----------------------------------------------------------------------


def test_the_emulator_makes_its_own_request_id() -> None:
    gateway = Gateway(EmulatorConfig("tencent_apigw"))
    client_headers = [("host", "localhost"), ("X-Api-RequestId", "client-chosen")]
    invocation = gateway.invocation("GET", b"/", b"", client_headers, b"", "127.0.0.1")
    assert invocation is not None
    assert invocation.event["headers"]["x-api-requestid"] == invocation.request_id
    assert invocation.request_id != "client-chosen"


def test_show_events_redacts_authorization_and_cookies_unless_asked() -> None:
    event = {"headers": {"Authorization": "Bearer s3cret", "cookie": "sid=abc", "accept": "*/*"}}
    shown = redact(event)["headers"]
    assert shown == {"Authorization": "<redacted>", "cookie": "<redacted>", "accept": "*/*"}
    assert redact(event, show_auth=True)["headers"] == event["headers"]
    assert redact({"headers": {"X-Fc-Security-Token": "t"}}, show_auth=True) == {
        "headers": {"X-Fc-Security-Token": "<redacted>"}
    }


def nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("platform", ["tencent_apigw", "tencent_url", "cloudbase", "alibaba_fc"])
@pytest.mark.parametrize(
    "returned",
    [
        {"statusCode": 200, "headers": {1: "x"}, "body": ""},
        {"statusCode": 200, "body": nested(100_000)},
        {"statusCode": 200, "headers": {"a": nested(100_000)}},
        nested(100_000),
    ],
    ids=["int-header-name", "nested-body", "nested-header", "nested-value"],
)
def test_parse_response_raises_invalid_response_error_only(platform: str, returned: Any) -> None:
    with pytest.raises(InvalidResponseError):
        parse_response(platform, returned)


def test_parse_response_refuses_a_lone_surrogate_text() -> None:
    with pytest.raises(InvalidResponseError):
        parse_response("cloudbase", "a\ud800")


# --- 8. the formats' edges ------------------------------------------------------------------


def test_an_aws_function_url_event_is_unknown_not_misparsed() -> None:
    aws = {
        "version": "2.0",
        "rawPath": "/items",
        "rawQueryString": "a=1",
        "cookies": ["s=1"],
        "headers": {"host": "x.lambda-url.us-east-1.on.aws"},
        "requestContext": {"http": {"method": "GET", "path": "/items", "sourceIp": "1.2.3.4"}},
        "isBase64Encoded": False,
    }
    for platform in (None, "alibaba_fc"):
        with pytest.raises(UnknownEventError):
            make_handler(Spy(), platform=platform)(aws, None)
        with pytest.raises(UnknownEventError):
            make_handler(Spy(), platform=platform)(json.dumps(aws).encode(), None)


def test_fc_events_carry_version_v1() -> None:
    spy = Spy()
    event = build_event("alibaba_fc", "GET", "/x")
    assert json.loads(event)["version"] == "v1"
    assert make_handler(spy)(event, build_context("alibaba_fc"))["statusCode"] == 200


def test_cloudbase_multi_value_headers_reach_the_app() -> None:
    spy = Spy()
    event = build_event("cloudbase", "GET", "/", headers={"accept": "*/*"})
    event["multiValueHeaders"] = {
        "accept": ["*/*"],
        "x-only-here": ["1"],
        "x-repeated": ["a", "b"],
    }
    assert make_handler(spy)(event, build_context("cloudbase"))["statusCode"] == 200
    assert spy.environ["HTTP_X_ONLY_HERE"] == "1"
    assert spy.environ["HTTP_X_REPEATED"] == "a,b"
    assert spy.environ["HTTP_ACCEPT"] == "*/*"


def test_tencents_documented_sample_with_a_text_body_flagged_base64(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spy = Spy()
    event = build_event("tencent_apigw", "POST", "/", body=b"x")
    event["isBase64Encoded"] = "true"
    event["body"] = "{key:value}"
    handler = make_handler(spy)
    with caplog.at_level(logging.WARNING, logger="faas_bridge"):
        for _ in range(2):
            assert handler(event, build_context("tencent_apigw"))["statusCode"] == 200
    assert spy.input == b"{key:value}"
    assert len([r for r in caplog.records if "base64" in r.getMessage()]) <= 1
    good = build_event("tencent_apigw", "POST", "/", body=b"\x00\xff", is_base64=True)
    handler(good, build_context("tencent_apigw"))
    assert spy.input == b"\x00\xff"
    assert good["body"] == base64.b64encode(b"\x00\xff").decode()


def test_both_shapes_of_tencent_function_url_events() -> None:
    spy = Spy()
    handler = make_handler(spy)
    slim = {
        "httpMethod": "GET",
        "path": "/a",
        "queryString": {"q": "1"},
        "headers": {
            "host": "1250000000-abc.ap-guangzhou.tencentscf.com",
            "x-scf-remote-addr": "198.51.100.7",
        },
        "body": "",
    }
    handler(slim, {"request_id": "r1", "time_limit_in_ms": 3000})
    assert spy.environ["REMOTE_ADDR"] == "198.51.100.7"
    assert spy.environ["QUERY_STRING"] == "q=1"
    recorded = {
        "httpMethod": "GET",
        "path": "/b",
        "queryString": {"q": "2"},
        "headers": {"host": "1250000000-abc.ap-guangzhou.tencentscf.com"},
        "requestContext": {"sourceIp": "198.51.100.8"},
        "isBase64Encoded": False,
        "body": "",
    }
    handler(recorded, {"request_id": "r2", "time_limit_in_ms": 3000})
    assert spy.environ["REMOTE_ADDR"] == "198.51.100.8"
    assert spy.environ["PATH_INFO"] == "/b"
    assert spy.environ["QUERY_STRING"] == "q=2"


@pytest.mark.parametrize(
    ("platform", "limit"), [("tencent_apigw", 6_000_000), ("alibaba_fc", 32_000_000)]
)
def test_limits_use_the_decimal_reading_of_the_docs(platform: str, limit: int) -> None:
    body = b"\x00" * (limit // 4 * 3 + 1000)  # base64 grows it past the decimal limit
    spy = Spy(headers=[("Content-Type", "application/octet-stream")], body=body)
    returned = make_handler(spy)(build_event(platform), build_context(platform))
    assert returned["statusCode"] == 502
    assert json.loads(returned["body"])["error"] == "response_too_large"

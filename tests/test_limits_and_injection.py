"""Responses no gateway may pass on are refused, and bodies above a platform's size limit
get a clear JSON answer instead of an opaque gateway failure."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

import pytest

from faas_bridge import ConfigurationError, make_handler
from faas_bridge.http import returned_size
from faas_bridge.testing import PLATFORM_NAMES, build_context, build_event, parse_response

from .conftest import Spy

MIB = 1024 * 1024


def wsgi_app(status: str, headers: list[Any], body: bytes = b"ok") -> Callable[..., Any]:
    def app(environ: Any, start_response: Callable[..., Any]) -> list[bytes]:
        start_response(status, headers)
        return [body]

    return app


def asgi_app(status: Any, headers: list[Any], body: bytes = b"ok") -> Callable[..., Any]:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


INJECTIONS = [
    ("X-Evil", "a\r\nSet-Cookie: admin=1"),
    ("X-Evil", "line\nbreak"),
    ("X-Evil", "nul\x00byte"),
    ("X-Evil\r\nSet-Cookie", "admin=1"),
]


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
@pytest.mark.parametrize(("name", "value"), INJECTIONS)
def test_header_injection_is_refused_as_a_logged_500(
    platform: str, name: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = wsgi_app("200 OK", [("Content-Type", "text/plain"), (name, value)])
    with caplog.at_level(logging.ERROR, logger="faas_bridge"):
        event = build_event(platform, "GET", "/", request_id="req-inj")
        result = make_handler(app)(event, build_context(platform, request_id="req-inj"))
    response = parse_response(platform, result)
    assert response.status_code == 500
    assert "admin" not in json.dumps(result)
    assert all("\r" not in v and "\n" not in v for _, v in response.headers.items())
    [record] = caplog.records
    assert "req-inj" in record.getMessage()


@pytest.mark.parametrize(("name", "value"), [(b"x-evil", b"a\r\nb"), (b"x-evil\n", b"v")])
def test_asgi_header_injection_is_refused(name: bytes, value: bytes) -> None:
    app = asgi_app(200, [(b"content-type", b"text/plain"), (name, value)])
    result = make_handler(app, lifespan="off")(build_event("tencent_apigw", "GET", "/"), None)
    assert result["statusCode"] == 500


@pytest.mark.parametrize("status", [99, 600, 1000, "200", 200.0, None])
def test_asgi_status_outside_100_599_is_refused(status: Any) -> None:
    app = asgi_app(status, [(b"content-type", b"text/plain")])
    result = make_handler(app, lifespan="off")(build_event("cloudbase", "GET", "/"), None)
    assert result["statusCode"] == 500


@pytest.mark.parametrize(
    "header", [("X-Number", 5), (b"X-Bytes", "v"), ("X-Only-Name",), ("X-Three", "a", "b")]
)
def test_wsgi_headers_that_are_not_string_pairs_are_refused(header: Any) -> None:
    result = make_handler(wsgi_app("200 OK", [header]))(
        build_event("tencent_url", "GET", "/"), None
    )
    assert result["statusCode"] == 500


@pytest.mark.parametrize(
    ("platform", "limit"),
    [("tencent_apigw", 6_000_000), ("tencent_url", 6_000_000), ("cloudbase", 6_000_000),
     ("alibaba_fc", 32_000_000)],
)  # fmt: skip
def test_request_above_the_platform_limit_answers_413(
    platform: str, limit: int, caplog: pytest.LogCaptureFixture
) -> None:
    spy = Spy()
    handler = make_handler(spy)
    assert handler(build_event(platform, "POST", "/", body=b"x" * limit), None)["statusCode"] == 200
    with caplog.at_level(logging.WARNING, logger="faas_bridge"):
        result = handler(build_event(platform, "POST", "/", body=b"x" * (limit + 1)), None)
    assert result["statusCode"] == 413
    assert json.loads(result["body"])["error"] == "request_too_large"
    assert "limit" in caplog.records[0].getMessage()


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_response_above_the_limit_answers_502_counting_the_whole_return(
    platform: str, caplog: pytest.LogCaptureFixture
) -> None:
    text = Spy(headers=[("Content-Type", "text/plain")], body=b"a" * 1400)
    binary = Spy(headers=[("Content-Type", "image/png")], body=b"\x89" * 1400)
    event = build_event(platform, "GET", "/", request_id="req-big")
    context = build_context(platform, request_id="req-big")
    unlimited = make_handler(binary, response_limit=0)(event, context)
    size = returned_size(unlimited)  # the return value's JSON: base64 and headers count
    assert size > 1400 * 4 // 3
    # 1400 text bytes fit an 1800-byte limit; the same bytes as base64 do not
    assert make_handler(text, response_limit=1800)(event, context)["statusCode"] == 200
    with caplog.at_level(logging.WARNING, logger="faas_bridge"):
        result = make_handler(binary, response_limit=1800)(event, context)
    assert result["statusCode"] == 502
    error = json.loads(result["body"])
    assert error["error"] == "response_too_large"
    assert error["request_id"] == "req-big"
    assert f"{size} bytes" in error["message"]
    assert "req-big" in caplog.records[0].getMessage()
    assert make_handler(binary, response_limit=size)(event, context)["statusCode"] == 200


def test_json_escaping_counts_towards_the_response_limit() -> None:
    quotes = Spy(headers=[("Content-Type", "application/json")], body=b'"' * 3000)
    event = build_event("tencent_url", "GET", "/")
    # 3000 body bytes, but the returned JSON escapes each quote: over 6000 bytes
    assert make_handler(quotes, response_limit=5000)(event, None)["statusCode"] == 502


def test_default_response_limit_is_the_platforms() -> None:
    big = Spy(headers=[("Content-Type", "application/octet-stream")], body=b"\x00" * (5 * MIB))
    event = build_event("tencent_apigw", "GET", "/")
    assert make_handler(big)(event, None)["statusCode"] == 502  # 6.7 MB of base64 > 6 MB
    fc_event = build_event("alibaba_fc", "GET", "/")
    assert make_handler(big)(fc_event, None)["statusCode"] == 200  # FC allows 32 MB


def test_limits_can_be_lifted_or_validated() -> None:
    spy = Spy()
    event = build_event("cloudbase", "POST", "/", body=b"x" * (6 * MIB + 1))
    assert make_handler(spy, request_limit=0)(event, None)["statusCode"] == 200
    assert make_handler(spy, request_limit=10 * MIB)(event, None)["statusCode"] == 200
    with pytest.raises(ConfigurationError):
        make_handler(spy, response_limit=-1)
    with pytest.raises(ConfigurationError):
        make_handler(spy, request_limit="6MB")  # type: ignore[arg-type]

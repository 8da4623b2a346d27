"""What the client gets: app responses rendered in each platform's return format."""

from __future__ import annotations

import base64
import gzip
from typing import Any, Callable

import pytest

from faas_bridge import make_handler
from faas_bridge.testing import PLATFORM_NAMES, build_event, parse_response

from .conftest import Spy

LIST_PLATFORMS = ("tencent_apigw", "tencent_url", "cloudbase")


def call(platform: str, app: Any, method: str = "GET", **options: Any) -> dict[str, Any]:
    result = make_handler(app, **options)(build_event(platform, method, "/"), None)
    assert isinstance(result, dict)
    return result


COOKIES = [
    ("Content-Type", "text/plain"),
    ("Set-Cookie", "a=1; Path=/"),
    ("Set-Cookie", "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT"),
    ("Set-Cookie", "c=3; HttpOnly"),
]


@pytest.mark.parametrize("platform", LIST_PLATFORMS)
def test_tencent_and_cloudbase_send_repeated_headers_as_lists(platform: str) -> None:
    result = call(platform, Spy(headers=[*COOKIES, ("Vary", "Accept"), ("vary", "Cookie")]))
    assert result["headers"]["Set-Cookie"] == [
        "a=1; Path=/",
        "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
        "c=3; HttpOnly",
    ]
    assert result["headers"]["Vary"] == ["Accept", "Cookie"]
    assert result["headers"]["Content-Type"] == "text/plain"
    assert set(result) == {"isBase64Encoded", "statusCode", "headers", "body"}


def test_fc_cookies_default_spelling_keeps_every_cookie() -> None:
    result = call("alibaba_fc", Spy(headers=[*COOKIES, ("Vary", "Accept"), ("Vary", "Cookie")]))
    headers = result["headers"]
    assert all(isinstance(value, str) for value in headers.values())
    cookie_values = sorted(v for k, v in headers.items() if k.lower() == "set-cookie")
    assert cookie_values == sorted(value for _, value in COOKIES[1:])
    assert len({k for k in headers if k.lower() == "set-cookie"}) == 3
    assert headers["Vary"] == "Accept, Cookie"
    assert parse_response("alibaba_fc", result).cookies == {"a": "1", "b": "2", "c": "3"}


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("join", "a=1; Path=/, b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT, c=3; HttpOnly"),
        ("first", "a=1; Path=/"),
        ("last", "c=3; HttpOnly"),
    ],
)
def test_fc_cookie_modes(mode: Any, expected: str) -> None:
    headers = call("alibaba_fc", Spy(headers=COOKIES), fc_cookies=mode)["headers"]
    assert [k for k in headers if k.lower() == "set-cookie"] == ["Set-Cookie"]
    assert headers["Set-Cookie"] == expected


def test_fc_cookie_mode_is_validated() -> None:
    from faas_bridge import BridgeError

    with pytest.raises(BridgeError, match="fc_cookies"):
        make_handler(Spy(), fc_cookies="all")  # type: ignore[arg-type]


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
@pytest.mark.parametrize(
    ("content_type", "body", "as_text"),
    [
        ("text/html; charset=utf-8", "<p>你好</p>".encode(), True),
        ("application/json", b'{"a": 1}', True),
        ("application/problem+json", b'{"title": "x"}', True),
        ("application/atom+xml", b"<feed/>", True),
        ("application/javascript", b"let a = 1;", True),
        ("application/x-www-form-urlencoded", b"a=1", True),
        ("image/svg+xml", b"<svg/>", True),
        ("image/png", b"\x89PNG\r\n\x1a\n", False),
        ("application/octet-stream", b"abc", False),
        ("application/pdf", b"%PDF-1.4", False),
        ("text/plain", b"\xff\xfe not utf-8", False),  # falls back to base64
    ],
)
def test_text_or_base64(platform: str, content_type: str, body: bytes, as_text: bool) -> None:
    result = call(platform, Spy(headers=[("Content-Type", content_type)], body=body))
    assert result["isBase64Encoded"] is (not as_text)
    if as_text:
        assert result["body"] == body.decode()
    else:
        assert base64.b64decode(result["body"]) == body
    assert parse_response(platform, result).content == body


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_any_content_encoding_means_base64(platform: str) -> None:
    body = gzip.compress(b'{"big": "json"}')
    spy = Spy(
        headers=[("Content-Type", "application/json"), ("Content-Encoding", "gzip")], body=body
    )
    result = call(platform, spy)
    assert result["isBase64Encoded"] is True
    assert gzip.decompress(parse_response(platform, result).content) == b'{"big": "json"}'


def test_missing_content_type_is_sent_as_base64_not_lost() -> None:
    result = call("tencent_apigw", Spy(headers=[], body=b"\x00\x01"))
    assert result["isBase64Encoded"] is True
    assert base64.b64decode(result["body"]) == b"\x00\x01"


def test_text_mime_types_option_extends_the_list() -> None:
    spy = Spy(headers=[("Content-Type", "application/vnd.api+yaml")], body=b"a: 1")
    assert call("tencent_apigw", spy)["isBase64Encoded"] is True
    result = call("tencent_apigw", spy, text_mime_types=["application/vnd.api+yaml"])
    assert result == {**result, "isBase64Encoded": False, "body": "a: 1"}
    font = Spy(headers=[("Content-Type", "font/woff2")], body=b"wOF2")
    assert call("tencent_apigw", font, text_mime_types=["font/*"])["body"] == "wOF2"


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
@pytest.mark.parametrize(
    ("method", "status"),
    [("HEAD", "200 OK"), ("GET", "204 No Content"), ("GET", "304 Not Modified")],
)
def test_head_and_bodyless_statuses_send_no_body(platform: str, method: str, status: str) -> None:
    headers = [("Content-Type", "text/plain"), ("Content-Length", "5")]
    result = call(platform, Spy(status=status, headers=headers, body=b"hello"), method)
    assert result["body"] == ""
    assert result["statusCode"] == int(status[:3])
    assert parse_response(platform, result).headers["content-length"] == "5"


def test_app_iterable_is_always_closed() -> None:
    closed = []

    class Body:
        def __iter__(self) -> Any:
            yield b"part1 "
            yield b""
            yield b"part2"

        def close(self) -> None:
            closed.append(True)

    def app(environ: Any, start_response: Callable[..., Any]) -> Body:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body()

    assert call("cloudbase", app)["body"] == "part1 part2"
    assert closed == [True]

    class Exploding(Body):
        def __iter__(self) -> Any:
            yield b"x"
            raise RuntimeError("mid-body")

    def failing(environ: Any, start_response: Callable[..., Any]) -> Body:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Exploding()

    assert call("cloudbase", failing)["statusCode"] == 500
    assert closed == [True, True]


def test_write_callable_and_generator_start_response() -> None:
    def app(environ: Any, start_response: Callable[..., Any]) -> Any:
        write = start_response("201 Created", [("Content-Type", "text/plain")])
        write(b"written ")
        return iter([b"returned"])

    assert call("tencent_url", app)["body"] == "written returned"

    def lazy(environ: Any, start_response: Callable[..., Any]) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])  # inside the generator
        yield b"lazy"

    assert call("tencent_url", lazy)["body"] == "lazy"


def test_exc_info_replaces_headers_before_any_body() -> None:
    def app(environ: Any, start_response: Callable[..., Any]) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("late failure")
        except ValueError:
            import sys

            start_response(
                "503 Service Unavailable", [("Content-Type", "text/plain")], sys.exc_info()
            )
        return [b"try later"]

    result = call("tencent_apigw", app)
    assert (result["statusCode"], result["body"]) == (503, "try later")


def test_exc_info_after_body_reraises_and_answers_500() -> None:
    def app(environ: Any, start_response: Callable[..., Any]) -> Any:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"already sent")
        try:
            raise ValueError("too late")
        except ValueError:
            import sys

            start_response("500 Oops", [], sys.exc_info())
        return []

    assert call("tencent_apigw", app)["statusCode"] == 500
    with pytest.raises(ValueError, match="too late"):
        call("tencent_apigw", app, on_error="raise")


@pytest.mark.parametrize(
    "app_body",
    [
        "twice",
        "non-bytes",
        "bad-status",
        "no-start",
    ],
)
def test_protocol_misuse_answers_500(app_body: str) -> None:
    def app(environ: Any, start_response: Callable[..., Any]) -> Any:
        if app_body == "twice":
            start_response("200 OK", [])
            start_response("200 OK", [])
        elif app_body == "non-bytes":
            start_response("200 OK", [])
            return ["text, not bytes"]
        elif app_body == "bad-status":
            start_response("OK", [])
        return [b"x"]

    result = call("tencent_apigw", app)
    assert result["statusCode"] == 500
    assert "Traceback" not in result["body"]

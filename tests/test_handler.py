"""Detection, error policy and the public surface of make_handler."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

import pytest

import faas_bridge
from faas_bridge import (
    BridgeError,
    ConfigurationError,
    MalformedEventError,
    UnknownEventError,
    make_handler,
)
from faas_bridge.testing import PLATFORM_NAMES, build_context, build_event

from .conftest import Spy, load_event


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_detects_each_platform(spy: Spy, platform: str) -> None:
    make_handler(spy)(build_event(platform, "GET", "/"), build_context(platform))
    assert spy.environ["faas_bridge.platform"] == platform


def test_platform_option_overrides_detection(spy: Spy) -> None:
    event = build_event("cloudbase", "GET", "/", client_ip="198.51.100.3")
    make_handler(spy, platform="tencent_apigw")(event, None)
    assert spy.environ["faas_bridge.platform"] == "tencent_apigw"


def test_unknown_platform_name_is_a_configuration_error(spy: Spy) -> None:
    with pytest.raises(ConfigurationError, match="tencent_apigw"):
        make_handler(spy, platform="aws")


@pytest.mark.parametrize("event_file", ["tencent_timer.json", "alibaba_fc_timer.json"])
def test_timer_events_raise_a_clear_bridge_error(spy: Spy, event_file: str) -> None:
    event = load_event(event_file)  # FC's arrives as bytes
    with pytest.raises(UnknownEventError) as caught:
        make_handler(spy)(event, None)
    message = str(caught.value)
    assert "not an HTTP event" in message
    assert "Type" in message or "triggerTime" in message  # names the keys it saw
    assert all(name in message for name in PLATFORM_NAMES)  # and the formats it tried
    assert isinstance(caught.value, BridgeError)


def test_an_empty_event_is_called_empty(spy: Spy) -> None:
    # Issue 18: the message read "an object with keys: none".
    with pytest.raises(UnknownEventError) as caught:
        make_handler(spy)({}, None)
    assert "got an empty object" in str(caught.value)
    assert "keys: none" not in str(caught.value)


@pytest.mark.parametrize("event", [[], 42, b"not json at all", "plain text", None])
def test_non_mapping_events_raise_unknown_event(spy: Spy, event: Any) -> None:
    with pytest.raises(UnknownEventError):
        make_handler(spy)(event, None)


def test_on_event_receives_non_http_events(spy: Spy) -> None:
    seen: list[Any] = []

    def on_event(event: Any, context: Any) -> str:
        seen.append((event, context))
        return "timer done"

    handler = make_handler(spy, on_event=on_event)
    timer = load_event("tencent_timer.json")
    assert handler(timer, {"request_id": "t"}) == "timer done"
    fc_timer = load_event("alibaba_fc_timer.json")
    assert isinstance(fc_timer, bytes)
    assert handler(fc_timer, None) == "timer done"
    assert seen[0] == (timer, {"request_id": "t"})
    assert seen[1][0] == json.loads(fc_timer)  # decoded from bytes
    assert handler(build_event("tencent_url", "GET", "/"), None)["statusCode"] == 200


@pytest.mark.parametrize(
    ("platform", "field", "value", "message"),
    [
        ("tencent_apigw", "httpMethod", 7, "method"),
        ("tencent_apigw", "headers", "nope", "headers"),
        ("tencent_apigw", "body", {"a": 1}, "body"),
        ("tencent_apigw", "queryString", ["a"], "query"),
        ("tencent_url", "path", 12, "path"),
        ("cloudbase", "requestContext", {"envId": "e", "requestId": 5}, None),
    ],
)
def test_malformed_http_events_answer_400_json(
    spy: Spy, platform: str, field: str, value: Any, message: str | None
) -> None:
    event = build_event(platform, "POST", "/", body="not base64 ***")
    event[field] = value
    result = make_handler(spy)(event, None)
    if message is None:  # tolerated: a wrong-typed request id is ignored
        assert result["statusCode"] == 200
        return
    assert result["statusCode"] == 400
    assert result["headers"]["Content-Type"] == "application/json"
    error = json.loads(result["body"])
    assert error["error"] == "malformed_event"
    assert message in error["message"]


def test_malformed_fc_event_answers_400(spy: Spy) -> None:
    event = json.loads(build_event("alibaba_fc", "GET", "/"))
    event["requestContext"]["http"] = "GET /"
    result = make_handler(spy)(json.dumps(event).encode(), None)
    assert result["statusCode"] == 400
    assert set(result["headers"]) == {"Content-Type"}


def test_app_exception_is_a_logged_500_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    def app(environ: Any, start_response: Callable[..., Any]) -> Any:
        raise RuntimeError("secret internals")

    event = build_event("tencent_apigw", "GET", "/boom", request_id="req-boom")
    with caplog.at_level(logging.ERROR, logger="faas_bridge"):
        result = make_handler(app)(event, None)
    assert result["statusCode"] == 500
    body = json.loads(result["body"])
    assert body == {
        "error": "internal_error",
        "message": "Internal Server Error",
        "request_id": "req-boom",
    }
    assert "secret internals" not in result["body"]
    [record] = caplog.records
    assert "req-boom" in record.getMessage()
    assert record.exc_info is not None
    assert "secret internals" in str(record.exc_info[1])


def test_on_error_raise_propagates() -> None:
    def app(environ: Any, start_response: Callable[..., Any]) -> Any:
        raise RuntimeError("let the platform see it")

    with pytest.raises(RuntimeError, match="let the platform"):
        make_handler(app, on_error="raise")(build_event("cloudbase", "GET", "/"), None)


def test_option_validation() -> None:
    with pytest.raises(ConfigurationError):
        make_handler(Spy(), on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        make_handler(Spy(), interface="cgi")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        make_handler("not an app")
    with pytest.raises(TypeError):
        make_handler(Spy(), "tencent_apigw")  # type: ignore[misc]  # options are keyword-only


def test_fc2_wsgi_call_passes_straight_through(spy: Spy) -> None:
    fc_context = object()
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/x",
        "QUERY_STRING": "",
        "fc.context": fc_context,
        "fc.request_uri": "/x",
        "wsgi.input": __import__("io").BytesIO(b""),
    }
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append(status)
        return lambda data: None

    body = make_handler(spy)(environ, start_response)
    assert list(body) == [b"ok"]
    assert started == ["200 OK"]
    assert spy.environ["faas_bridge.context"] is fc_context
    assert spy.environ["faas_bridge.platform"] == "alibaba_fc"


def test_public_surface() -> None:
    assert faas_bridge.__version__
    for name in faas_bridge.__all__:
        obj = getattr(faas_bridge, name)
        if name != "__version__":
            assert obj.__doc__, name
    for error in (UnknownEventError, MalformedEventError, ConfigurationError):
        assert issubclass(error, BridgeError)


def test_handler_repr_names_app_and_platform(spy: Spy) -> None:
    assert "tencent_url" in repr(make_handler(spy, platform="tencent_url"))
    assert make_handler(spy).interface == "wsgi"


def test_fc2_call_exposes_the_request_id(spy: Spy) -> None:
    from io import BytesIO
    from types import SimpleNamespace

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "fc.context": SimpleNamespace(request_id="fc2-req-7"),
        "wsgi.input": BytesIO(b""),
    }
    make_handler(spy)(environ, lambda status, headers, exc_info=None: None)
    assert spy.environ["faas_bridge.request_id"] == "fc2-req-7"


def test_unknown_event_message_never_names_credential_headers(spy: Spy) -> None:
    event = {"X-Scf-Session-Token": "secret", "x-fc-access-key-id": "AK", "Host": "a"}
    with pytest.raises(UnknownEventError) as caught:
        make_handler(spy)(event, None)
    message = str(caught.value)
    assert "Host" in message
    assert "Session-Token" not in message
    assert "access-key" not in message


def test_text_mime_types_must_be_a_list_not_one_string() -> None:
    with pytest.raises(ConfigurationError, match="list"):
        make_handler(Spy(), text_mime_types="application/x-yaml")


def test_bytes_with_trailing_garbage_are_not_an_event(spy: Spy) -> None:
    event = build_event("alibaba_fc", "GET", "/") + "\u00a0".encode()
    with pytest.raises(UnknownEventError):
        make_handler(spy)(event, None)


def test_fc2_call_of_an_asgi_app_with_a_non_utf8_path_is_answered() -> None:
    from io import BytesIO

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/\xff",
        "QUERY_STRING": "",
        "SERVER_NAME": "x",
        "SERVER_PORT": "443",
        "wsgi.url_scheme": "https",
        "wsgi.input": BytesIO(b""),
    }
    statuses: list[str] = []
    body = make_handler(app, lifespan="off")(
        environ, lambda status, headers, exc_info=None: statuses.append(status)
    )
    assert statuses == ["200 OK"]
    assert b"".join(body) == "/\ufffd".encode()  # as uvicorn decodes a non-UTF-8 path

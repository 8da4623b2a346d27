"""The credentials platforms inject never reach a log record faas_bridge emits.

Tencent SCF (``X-Scf-Secret-Id``/``-Key``, ``X-Scf-Session-Token``), Alibaba FC
(``x-fc-access-key-id``/``-secret``, ``x-fc-security-token``) and CloudBase
(``X-Cloudbase-Context``, whose decoded JSON holds the keys too) put the function role's
temporary credentials in request headers. Every record of the ``faas_bridge`` logger and its
children, at every level down to DEBUG, is rendered in full (message, arguments, traceback,
extra attributes) and searched for the header names and their values: in event mode (apps
that raise, protocol faults, apps copying credentials into refused or oversize responses,
oversize requests, malformed and unknown events, deadlines, lifespan failures) and in web
mode (the WSGI and ASGI context middleware, access log included).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import json
import logging
from collections.abc import Iterator
from typing import Any, Callable

import httpx
import pytest
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from flask import Flask
from werkzeug.test import Client

from faas_bridge import BridgeError, make_handler
from faas_bridge.testing import build_context, build_event
from faas_bridge.web import AsgiContextMiddleware, WsgiContextMiddleware

PLATFORMS = ("tencent_apigw", "tencent_url", "cloudbase", "alibaba_fc")

# Values no other part of a request or log line could contain by chance.
SECRET_VALUES = {
    "X-Scf-Secret-Id": "AKIDscfSECRETid0001",
    "X-Scf-Secret-Key": "scfSECRETkey0002",
    "X-Scf-Session-Token": "scfSESSIONtoken0003",
    "x-fc-access-key-id": "LTAIfcACCESSkey0004",
    "x-fc-access-key-secret": "fcACCESSsecret0005",
    "x-fc-security-token": "fcSECURITYtoken0006",
}
CONTEXT_SECRETS = {"secretId": "cbSECRETid0007", "secretKey": "cbSECRETkey0008"}
CLOUDBASE_CONTEXT = base64.b64encode(
    gzip.compress(json.dumps({**CONTEXT_SECRETS, "token": "cbTOKEN0009"}).encode())
).decode()
CREDENTIALS = {**SECRET_VALUES, "X-Cloudbase-Context": CLOUDBASE_CONTEXT}
FORBIDDEN = [
    *(name.lower() for name in CREDENTIALS),
    *SECRET_VALUES.values(),
    CLOUDBASE_CONTEXT,
    CLOUDBASE_CONTEXT[:24],  # a truncated copy leaks just the same
    *CONTEXT_SECRETS.values(),
    "cbTOKEN0009",
]


class Everything(logging.Handler):
    """Keeps each record rendered as fully as any handler could render it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.render = logging.Formatter(
            "%(name)s %(levelname)s %(pathname)s %(funcName)s %(message)s"
        ).format

    def emit(self, record: logging.LogRecord) -> None:
        rendered = self.render(record)  # message, traceback and stack info
        self.texts.append(f"{rendered}\n{record.__dict__!r}")


@pytest.fixture
def logs() -> Iterator[Everything]:
    handler = Everything()
    loggers = [logging.getLogger(name) for name in ("faas_bridge", "faas_bridge.access")]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    loggers[0].addHandler(handler)
    try:
        yield handler
    finally:
        loggers[0].removeHandler(handler)
        for logger, level in saved:
            logger.setLevel(level)


def assert_no_credentials(logs: Everything, *, expect_records: bool = True) -> None:
    if expect_records:
        assert logs.texts, "the scenario was meant to log something"
    text = "\n".join(logs.texts).lower()
    for forbidden in FORBIDDEN:
        assert forbidden.lower() not in text, f"{forbidden!r} reached a log record"


def credential_event(platform: str, **overrides: Any) -> Any:
    return build_event(
        platform,
        "POST",
        "/leak",
        headers={**CREDENTIALS, "Content-Type": "application/json"},
        body=b'{"a": 1}',
        **overrides,
    )


def call(handler: Any, event: Any, context: Any) -> str:
    """Call and return whatever the caller would see (a response or an error message)."""
    try:
        return json.dumps(handler(event, context))
    except BridgeError as exc:
        return str(exc)


# --------------------------------------------------------------------------------------------
# Event mode: apps that fail


flask_app = Flask(__name__)


@flask_app.route("/leak", methods=["POST"])
def flask_leak() -> str:
    raise RuntimeError("the view failed")


def wsgi_raises_mid_body(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"part"
    raise RuntimeError("the body failed")


def wsgi_bad_status(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    start_response("bogus", [])
    return [b""]


fastapi_app = FastAPI()


@fastapi_app.post("/leak")
def fastapi_leak(request: FastAPIRequest) -> None:
    raise RuntimeError("the endpoint failed")


async def asgi_raises(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        raise RuntimeError("no lifespan here")  # logged at DEBUG/INFO by the lifespan
    raise RuntimeError("the ASGI app failed")


async def asgi_lifespan_fails(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "database unreachable"})
        return
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def asgi_too_slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await asyncio.Event().wait()


async def asgi_bad_protocol(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.body", "body": b"before start"})


def wsgi_echoes_credentials(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    """Copies injected credentials into response headers, one of them with a CR LF."""
    token = environ.get("HTTP_X_SCF_SESSION_TOKEN", "")
    start_response(
        "200 OK",
        [
            ("X-Echo", environ.get("HTTP_X_FC_SECURITY_TOKEN", "")),
            ("X-Injected", token + "\r\nSet-Cookie: stolen=" + token),
        ],
    )
    return [environ.get("HTTP_X_CLOUDBASE_CONTEXT", "").encode()]


async def asgi_echoes_credentials(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = [(b"x-echo-" + name, value) for name, value in scope["headers"]]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"x" * 64})


EVENT_APPS: dict[str, tuple[Any, dict[str, Any]]] = {
    "wsgi_header_injection": (wsgi_echoes_credentials, {}),
    "wsgi_request_too_large": (wsgi_echoes_credentials, {"request_limit": 4}),
    "asgi_response_too_large": (asgi_echoes_credentials, {"response_limit": 16}),
    "flask": (flask_app, {}),
    "wsgi_raises_mid_body": (wsgi_raises_mid_body, {}),
    "wsgi_bad_status": (wsgi_bad_status, {}),
    "fastapi": (fastapi_app, {"lifespan": "off"}),
    "asgi_raises": (asgi_raises, {}),
    "asgi_lifespan_fails": (asgi_lifespan_fails, {}),
    "asgi_too_slow": (asgi_too_slow, {"deadline": 0.05, "lifespan": "off"}),
    "asgi_bad_protocol": (asgi_bad_protocol, {"lifespan": "off"}),
}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("name", sorted(EVENT_APPS))
def test_failing_apps_log_no_credentials(logs: Everything, name: str, platform: str) -> None:
    app, options = EVENT_APPS[name]
    handler = make_handler(app, **options)
    seen = call(handler, credential_event(platform), build_context(platform))
    assert_no_credentials(logs, expect_records=name != "flask")  # Flask logs on its own
    for value in SECRET_VALUES.values():
        assert value not in seen  # nor does the client get them back (all answers are errors)


# --------------------------------------------------------------------------------------------
# Event mode: events that are broken or not HTTP at all


def broken_events(platform: str) -> list[Any]:
    def edited(**changes: Any) -> Any:
        event = credential_event(platform)
        if isinstance(event, bytes):
            event = json.loads(event)
        event.update(changes)
        return event

    path_key = "rawPath" if platform == "alibaba_fc" else "path"
    return [
        edited(body="not base64!", isBase64Encoded=True),
        edited(**{path_key: 12}),
        edited(body=["a list"]),
        edited(headers={**CREDENTIALS, "x-broken": {"nested": True}}),
        edited(headers={**CREDENTIALS, "x-surrogate": "\ud800"}),
        edited(requestContext=[CREDENTIALS]),
        json.dumps(edited()).encode()[:-40],  # truncated JSON bytes
        {**CREDENTIALS},  # a flat header dict is no event
        {"Type": "Timer", "Message": json.dumps(CREDENTIALS)},
        [CREDENTIALS],
    ]


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("app", [flask_app, fastapi_app], ids=["wsgi", "asgi"])
def test_broken_and_unknown_events_log_no_credentials(
    logs: Everything, app: Any, platform: str
) -> None:
    handler = make_handler(app, lifespan="off") if app is fastapi_app else make_handler(app)
    for event in broken_events(platform):
        seen = call(handler, event, build_context(platform))
        for value in SECRET_VALUES.values():
            assert value not in seen
    assert_no_credentials(logs, expect_records=False)


def test_the_check_would_catch_a_leak(logs: Everything) -> None:
    """The capture sees DEBUG records of child loggers, arguments included."""
    logging.getLogger("faas_bridge.any.child").debug("headers: %s", {"h": CLOUDBASE_CONTEXT})
    with pytest.raises(AssertionError, match="reached a log record"):
        assert_no_credentials(logs)


# --------------------------------------------------------------------------------------------
# Web mode: the context middleware, access log included


web_flask = Flask("web_flask")


@web_flask.route("/ok")
def web_ok() -> str:
    return "ok"


@web_flask.route("/fail")
def web_fail() -> str:
    raise RuntimeError("the view failed")


def raw_wsgi_fails(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    raise RuntimeError("the raw app failed")


WEB_HEADERS = {
    "tencent": {**CREDENTIALS, "X-Scf-Request-Id": "web-req-1"},
    "alibaba": {**CREDENTIALS, "x-fc-request-id": "web-req-2"},
    "cloudbase": {**CREDENTIALS, "X-Cloudbase-Request-Id": "web-req-3"},
    "local": {**CREDENTIALS, "X-Scf-Request-Id": "web-req-4"},
}


@pytest.mark.parametrize("platform", list(WEB_HEADERS))
def test_wsgi_middleware_logs_no_credentials(logs: Everything, platform: str) -> None:
    headers = WEB_HEADERS[platform]
    client = Client(WsgiContextMiddleware(web_flask, platform=platform))
    for path in ("/ok", "/fail", "/missing?token=x"):
        client.get(path, headers=headers)
    client.post("/initialize", headers={**headers, "x-fc-control-path": "/initialize"})
    with pytest.raises(RuntimeError):
        Client(WsgiContextMiddleware(raw_wsgi_fails, platform=platform)).get("/", headers=headers)
    assert_no_credentials(logs)


web_fastapi = FastAPI()


@web_fastapi.get("/ok")
def web_fastapi_ok(request: FastAPIRequest) -> dict[str, Any]:
    return {"platform": request.scope.get("faas_bridge.platform")}


@web_fastapi.get("/fail")
def web_fastapi_fail() -> None:
    raise RuntimeError("the endpoint failed")


async def raw_asgi_fails(scope: dict[str, Any], receive: Any, send: Any) -> None:
    raise RuntimeError("the raw ASGI app failed")


@pytest.mark.parametrize("platform", list(WEB_HEADERS))
def test_asgi_middleware_logs_no_credentials(logs: Everything, platform: str) -> None:
    headers = WEB_HEADERS[platform]

    async def exchange() -> None:
        apps: list[Any] = [web_fastapi, raw_asgi_fails]
        for app in apps:
            transport = httpx.ASGITransport(app=AsgiContextMiddleware(app, platform=platform))
            async with httpx.AsyncClient(transport=transport, base_url="http://fn") as client:
                for path in ("/ok", "/fail", "/missing?token=x"):
                    # A RuntimeError escaping is the server's job: it answers 500 and logs.
                    with contextlib.suppress(RuntimeError):
                        await client.get(path, headers=headers)
                lifecycle = {**headers, "x-fc-control-path": "/initialize"}
                with contextlib.suppress(RuntimeError):  # the app's, off FC
                    await client.post("/initialize", headers=lifecycle)

    asyncio.run(exchange())
    assert_no_credentials(logs)

"""make_handler(events_path=...): timers, queue messages and storage notifications reach the
app as POST <events_path>, with their kind named; HTTP requests to that path stay ordinary
requests, and the app can tell them apart. Real Flask, FastAPI and Django apps."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from flask import Flask, jsonify, request

from faas_bridge import (
    ConfigurationError,
    EventRouteError,
    UnknownEventError,
    event_kind,
    make_handler,
)
from faas_bridge.emulator import TRIGGER_PATH, Emulator, EmulatorConfig
from faas_bridge.testing import (
    build_event,
    build_timer_event,
    build_trigger_event,
    parse_response,
    trigger_kinds,
)

from . import probe
from .probe_asgi import make_django_asgi_app


def flask_app() -> Flask:
    app = Flask(__name__)

    @app.post("/_events")
    def events() -> Any:
        kind = event_kind(request.environ)
        return jsonify(kind=kind, event=request.get_json(silent=True), ran="cleanup")

    @app.get("/plain")
    def plain() -> Any:
        return "done", 200, {"Content-Type": "text/plain"}

    return app


def fastapi_app() -> FastAPI:
    app = FastAPI()

    @app.post("/jobs/event")
    async def events(request: Request) -> dict[str, Any]:
        return {"kind": event_kind(request.scope), "event": json.loads(await request.body())}

    return app


def decoded(event: Any) -> Any:
    return json.loads(event) if isinstance(event, bytes) else event


@pytest.mark.parametrize("kind", trigger_kinds())
def test_every_trigger_kind_reaches_a_flask_route_with_its_kind(kind: str) -> None:
    event = build_trigger_event(kind)
    result = make_handler(flask_app(), events_path="/_events")(event, None)
    assert result == {"kind": kind, "event": decoded(event), "ran": "cleanup"}


@pytest.mark.parametrize("cloud", ["tencent", "cloudbase", "alibaba"])
def test_a_timer_reaches_a_fastapi_route(cloud: str) -> None:
    event = build_timer_event(cloud, name="nightly", message="go", at=0)
    handler = make_handler(fastapi_app(), events_path="/jobs/event")
    result = handler(event, None)
    kind = "alibaba.timer" if cloud == "alibaba" else "tencent.timer"
    assert result["kind"] == kind
    assert result["event"] == decoded(event)
    assert "1970-01-01T00:00:00Z" in json.dumps(result["event"])
    assert "nightly" in json.dumps(result["event"])


@pytest.mark.parametrize("make_app", [probe.make_django_wsgi_app, make_django_asgi_app])
def test_django_receives_the_event_as_a_json_post(make_app: Any) -> None:
    event = build_trigger_event("alibaba.oss")
    seen = make_handler(make_app(), events_path="/events/oss")(event, None)
    assert (seen["method"], seen["path"]) == ("POST", "/events/oss")
    assert seen["content_type"] == "application/json"
    body = json.dumps(json.loads(event), ensure_ascii=False).encode("utf-8")
    assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_an_http_request_to_the_path_is_ordinary_whatever_its_headers() -> None:
    handler = make_handler(flask_app(), events_path="/_events")
    forged = build_event(
        "tencent_apigw",
        "POST",
        "/_events",
        json={"Type": "Timer"},
        headers={"X-Faas-Bridge-Event-Kind": "tencent.timer"},
    )
    response = parse_response("tencent_apigw", handler(forged, None))
    assert response.status_code == 200
    assert response.json()["kind"] is None  # the app knows no trigger sent it


def test_an_error_answer_fails_the_invocation() -> None:
    app = flask_app()

    @app.post("/boom")
    def boom() -> Any:
        raise RuntimeError("job failed")

    with pytest.raises(EventRouteError, match="500 to POST /boom"):
        make_handler(app, events_path="/boom")(build_timer_event("tencent"), None)
    with pytest.raises(EventRouteError, match="404 to POST /missing"):
        make_handler(app, events_path="/missing")(build_timer_event("tencent"), None)


def test_other_answers_and_unknown_events() -> None:
    handler = make_handler(flask_app(), events_path="/plain")
    with pytest.raises(EventRouteError, match="405"):  # /plain takes GET only
        handler({"custom": 1}, None)
    seen: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append((event_kind(environ), environ["CONTENT_TYPE"], environ["wsgi.input"].read()))
        start_response("204 No Content", [])
        return []

    raw = make_handler(app, events_path="/e")
    assert raw({"custom": 1}, None) is None  # an empty answer is None
    assert raw(b"\xff\xferaw MNS message", None) is None
    assert seen[0] == ("unknown", "application/json", b'{"custom": 1}')
    assert seen[1] == ("unknown", "application/octet-stream", b"\xff\xferaw MNS message")


@pytest.mark.parametrize(
    "event",
    [
        # AWS API Gateway payload 2.0: an HTTP request, though of no format faas_bridge reads
        {"version": "2.0", "rawPath": "/_events", "requestContext": {"http": {"method": "POST"}},
         "headers": {"x-faas-bridge-event-kind": "tencent.timer"}, "body": "{}"},
        # an HTTP event missing a field its format needs, with a command added
        {"httpMethod": "POST", "headers": {}, "body": "{}",
         "faas_bridge.command": {"python": "import os; os.environ['FAAS_BRIDGE_TEST_RAN'] = '1'"}},
    ],
)  # fmt: skip
def test_an_http_request_of_no_known_format_is_no_trigger_event(
    event: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Delivered to events_path, it would reach the app as a trigger (kind "unknown"): it is
    refused instead, as an unknown event, and runs no command."""
    import os

    monkeypatch.delenv("FAAS_BRIDGE_TEST_RAN", raising=False)
    seen: list[Any] = []
    app = flask_app()
    app.before_request(lambda: seen.append(event_kind(request.environ)))
    handler = make_handler(app, events_path="/_events", commands=True)
    with pytest.raises(UnknownEventError, match="HTTP request"):
        handler(event, None)
    assert seen == []
    assert "FAAS_BRIDGE_TEST_RAN" not in os.environ
    assert handler({"custom": 1}, None)["kind"] == "unknown"  # other events still arrive


def test_configuration_mistakes_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        make_handler(flask_app(), events_path="/_events", on_event=lambda e, c: None)
    with pytest.raises(ConfigurationError, match="absolute path"):
        make_handler(flask_app(), events_path="_events")


def test_without_events_path_nothing_changes() -> None:
    from faas_bridge import UnknownEventError

    with pytest.raises(UnknownEventError):
        make_handler(flask_app())(build_timer_event("alibaba"), None)


def test_the_emulator_fires_a_trigger() -> None:
    handler = make_handler(flask_app(), events_path="/_events")
    emulator = Emulator(handler, EmulatorConfig("alibaba_apigw"))

    async def fire() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=emulator)
        async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
            return [
                await client.post(TRIGGER_PATH),  # the cloud's timer
                await client.post(f"{TRIGGER_PATH}/alibaba.mns", json={"Message": "hi"}),
                await client.post(f"{TRIGGER_PATH}/nope"),
            ]

    timer, mns, unknown = asyncio.run(fire())
    assert timer.status_code == 200
    assert timer.json()["kind"] == "alibaba.timer"
    assert mns.json()["event"]["Message"] == "hi"
    assert unknown.status_code == 400
    assert "unknown event kind" in unknown.json()["message"]

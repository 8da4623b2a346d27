"""The sample events shipped in ``faas_bridge/samples``: listed, loadable, answered by a real
Flask app, and exactly what :func:`build_event` produces for the same request.

The samples are generated from ``RECIPES`` below and committed; after changing a recipe or
the builders, rewrite them with ``FAAS_BRIDGE_WRITE_SAMPLES=1 pytest tests/test_testing_samples.py``
and review the diff.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, jsonify, request

from faas_bridge import UnknownEventError, make_handler
from faas_bridge.testing import (
    PLATFORM_NAMES,
    build_event,
    list_events,
    load_event,
    parse_response,
)

PLATFORMS_DIR = Path(__file__).resolve().parents[1] / "faas_bridge" / "platforms"

# A 1x1 transparent PNG: binary, not UTF-8.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"

# case -> (method, path, build_event keyword arguments)
RECIPES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "get_query": (
        "GET",
        "/商品/列表",
        {
            "query": [("tag", "绿茶"), ("tag", "红茶"), ("page", "2"), ("debug", None)],
            "headers": {"Accept": "application/json", "User-Agent": BROWSER},
        },
    ),
    "json_post": (
        "POST",
        "/api/items",
        {"json": {"name": "普洱", "price": 88}, "headers": {"User-Agent": "curl/8.5.0"}},
    ),
    "form_post": (
        "POST",
        "/form",
        {
            "body": "city=%E6%B7%B1%E5%9C%B3&tags=a&tags=b",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
    ),
    "binary_upload": (
        "PUT",
        "/upload/pixel.png",
        {"body": PIXEL, "headers": {"Content-Type": "image/png"}},
    ),
    "cookies": (
        "GET",
        "/me",
        {"cookies": {"sid": "s%3Aabc", "theme": "dark"}, "headers": {"User-Agent": BROWSER}},
    ),
}
TIMERS: dict[str, Any] = {
    "tencent": {
        "Type": "Timer",
        "TriggerName": "daily-report",
        "Time": "2026-01-01T00:00:00Z",
        "Message": "",
    },
    "alibaba_fc": {
        "triggerTime": "2026-01-01T00:00:00Z",
        "triggerName": "daily-report",
        "payload": "",
    },
}
FIXED: dict[str, Any] = {
    "client_ip": "198.51.100.23",
    "request_id": "6f1c2d3e4a5b46c7889900aabbccddee",
}
FC_TIME: dict[str, Any] = {
    "requestContext": {"time": "2026-01-01T08:00:00Z", "timeEpoch": "1767254400000"}
}


def expected_sample(platform: str, case: str) -> Any:
    """The decoded JSON a sample file must hold."""
    if case == "timer":
        return TIMERS["alibaba_fc" if on_fc(platform) else "tencent"]
    method, path, kwargs = RECIPES[case]
    extra: dict[str, Any] = FC_TIME if platform == "alibaba_fc" else {}
    event = build_event(platform, method, path, **FIXED, **kwargs, **extra)
    return json.loads(event) if on_fc(platform) else event


def on_fc(platform: str) -> bool:
    """Alibaba's formats reach FC's runtimes, which pass bytes of JSON."""
    return platform in ("alibaba_fc", "alibaba_apigw")


ALL_SAMPLES = [(p, c) for p in PLATFORM_NAMES for c in [*RECIPES, "timer"]]


@pytest.mark.skipif(not os.environ.get("FAAS_BRIDGE_WRITE_SAMPLES"), reason="writes files")
def test_write_samples() -> None:
    for platform, case in ALL_SAMPLES:
        target = PLATFORMS_DIR / platform / "samples" / f"{case}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(expected_sample(platform, case), indent=2, ensure_ascii=False)
        target.write_text(text + "\n", encoding="utf-8")


@pytest.mark.parametrize(("platform", "case"), ALL_SAMPLES)
def test_sample_is_what_build_event_produces(platform: str, case: str) -> None:
    loaded = load_event(f"{platform}/{case}")
    if on_fc(platform):
        assert isinstance(loaded, bytes)  # as the FC 3.0 runtime passes it
        loaded = json.loads(loaded)
    else:
        assert isinstance(loaded, dict)
    assert loaded == expected_sample(platform, case)


def test_list_events_names_every_sample_with_a_description() -> None:
    listed = list_events()
    assert list(listed) == [f"{p}/{c}" for p, c in ALL_SAMPLES]
    assert all(listed.values())
    assert list(list_events("cloudbase")) == [f"cloudbase/{c}" for c in [*RECIPES, "timer"]]
    assert load_event("cloudbase/cookies.json") == load_event("cloudbase/cookies")


@pytest.mark.parametrize("name", ["nope", "tencent_apigw/nope", "aws/get_query", "../x", ""])
def test_unknown_sample_names_are_refused(name: str) -> None:
    from faas_bridge import ConfigurationError

    with pytest.raises(ConfigurationError, match="unknown sample event"):
        load_event(name)


def echo_app() -> Flask:
    app = Flask(__name__)

    @app.route("/<path:anything>", methods=["GET", "POST", "PUT"])
    def echo(anything: str) -> Any:
        return jsonify(
            method=request.method,
            path=request.path,
            args=request.args.to_dict(flat=False),
            form=request.form.to_dict(flat=False),
            json=request.get_json(silent=True),
            body=base64.b64encode(request.get_data()).decode(),
            cookies=request.cookies,
            remote_addr=request.remote_addr,
        )

    return app


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_a_flask_app_answers_every_http_sample(platform: str) -> None:
    handler = make_handler(echo_app())

    def call(case: str) -> Any:
        response = parse_response(platform, handler(load_event(f"{platform}/{case}"), None))
        assert response.status_code == 200, response.text
        return response.json()

    seen = call("get_query")
    assert (seen["method"], seen["path"]) == ("GET", "/商品/列表")
    expected_args = {"tag": ["绿茶", "红茶"], "page": ["2"], "debug": [""]}
    if on_fc(platform):  # FC (and, unverified, API Gateway) join repeated keys
        expected_args["tag"] = ["绿茶,红茶"]
    assert seen["args"] == expected_args
    assert seen["remote_addr"] == "198.51.100.23"

    assert call("json_post")["json"] == {"name": "普洱", "price": 88}
    assert call("form_post")["form"] == {"city": ["深圳"], "tags": ["a", "b"]}
    upload = call("binary_upload")
    assert (upload["method"], base64.b64decode(upload["body"])) == ("PUT", PIXEL)
    assert call("cookies")["cookies"] == {"sid": "s%3Aabc", "theme": "dark"}


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_timer_samples_are_not_http(platform: str) -> None:
    event = load_event(f"{platform}/timer")
    with pytest.raises(UnknownEventError):
        make_handler(echo_app())(event, None)
    seen: list[Any] = []
    make_handler(echo_app(), on_event=lambda e, c: seen.append(e))(event, None)
    assert len(seen) == 1

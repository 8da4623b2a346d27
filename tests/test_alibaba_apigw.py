"""Alibaba API Gateway in front of an FC event function (the ``alibaba_apigw`` format): the
events its docs and public captures show reach Flask, FastAPI and Django apps whole, the
answer is what the gateway reads, and it is never confused with another format."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi import FastAPI, Request
from flask import Flask, jsonify, request

from faas_bridge import make_handler
from faas_bridge.clouds import resolve_cloud_name
from faas_bridge.errors import InvalidResponseError
from faas_bridge.platforms import PLATFORMS, detect, resolve_platform_name
from faas_bridge.testing import build_event, parse_response

from . import probe
from .probe_asgi import make_django_asgi_app

# The sample of the FC "API Gateway trigger" page (doc-detail/74797), filled in.
DOC_EVENT: dict[str, Any] = {
    "path": "/items/42",
    "httpMethod": "POST",
    "headers": {"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9"},
    "queryParameters": {"page": "2", "q": "绿茶"},
    "pathParameters": {"id": "42"},
    "body": base64.b64encode(b'{"name": "tea"}').decode(),
    "isBase64Encoded": "true",  # the doc types it "true|false"
}
# A GET through the default *.alicloudapi.com domain, as a public capture shows it: Host
# replaced by CA-Host, isBase64Encoded true on an empty body (binary-mode API).
CAPTURED_GET: dict[str, Any] = {
    "body": "",
    "headers": {
        "Accept": "text/html",
        "X-Ca-Api-Gateway": "619CCFCB-404F-4C89-B590-7A814A7C4A31",
        "X-Real-IP": "115.236.92.74",
        "X-Forwarded-Proto": "http",
        "X-Forwarded-For": "115.236.92.74",
        "CA-Host": "6f6543b4ff354955a3d2ba0475c49999-cn-hangzhou.alicloudapi.com",
    },
    "httpMethod": "GET",
    "isBase64Encoded": True,
    "path": "/",
    "pathParameters": {},
    "queryParameters": {},
}


def flask_app() -> Flask:
    app = Flask(__name__)

    @app.route("/", defaults={"rest": ""}, methods=["GET", "POST"])
    @app.route("/<path:rest>", methods=["GET", "POST"])
    def echo(rest: str) -> Any:
        response = jsonify(
            path=request.path,
            args=request.args.to_dict(flat=False),
            json=request.get_json(silent=True),
            host=request.host,
            url=request.url,
            remote_addr=request.remote_addr,
            platform=request.environ["faas_bridge.platform"],
        )
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    return app


def fastapi_app() -> FastAPI:
    app = FastAPI()

    @app.api_route("/{rest:path}", methods=["GET", "POST"])
    async def echo(rest: str, request: Request) -> dict[str, Any]:
        return {
            "path": request.url.path,
            "args": {k: request.query_params.getlist(k) for k in request.query_params},
            "json": json.loads(await request.body() or b"null"),
            "host": request.headers.get("ca-host"),
            "client": request.client.host if request.client else None,
            "platform": request.scope["faas_bridge.platform"],
        }

    return app


def as_bytes(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8")  # as FC's runtime passes it


def test_the_documented_event_reaches_a_flask_app_with_its_query() -> None:
    returned = make_handler(flask_app())(as_bytes(DOC_EVENT), None)
    assert set(returned) == {"isBase64Encoded", "statusCode", "headers", "body"}
    assert all(isinstance(value, str) for value in returned["headers"].values())
    response = parse_response("alibaba_apigw", returned)
    assert response.status_code == 200
    seen = response.json()
    assert seen["path"] == "/items/42"
    assert seen["args"] == {"page": ["2"], "q": ["绿茶"]}  # a function URL would drop these
    assert seen["json"] == {"name": "tea"}
    assert seen["remote_addr"] == "203.0.113.9"
    assert seen["platform"] == "alibaba_apigw"
    assert response.cookies == {"a": "1", "b": "2"}  # two Set-Cookie in str -> str headers


def test_a_captured_get_uses_ca_host_and_the_gateways_scheme() -> None:
    seen = parse_response(
        "alibaba_apigw", make_handler(flask_app())(as_bytes(CAPTURED_GET), None)
    ).json()
    assert seen["host"] == CAPTURED_GET["headers"]["CA-Host"]
    assert seen["url"] == f"http://{CAPTURED_GET['headers']['CA-Host']}/"
    assert seen["remote_addr"] == "115.236.92.74"


def test_a_fastapi_app_sees_the_same_request() -> None:
    handler = make_handler(fastapi_app())
    seen = parse_response("alibaba_apigw", handler(as_bytes(DOC_EVENT), None)).json()
    assert seen["path"] == "/items/42"
    assert seen["args"] == {"page": ["2"], "q": ["绿茶"]}
    assert seen["json"] == {"name": "tea"}
    assert seen["client"] == "203.0.113.9"
    assert seen["platform"] == "alibaba_apigw"


@pytest.mark.parametrize("make_app", [probe.make_django_wsgi_app, make_django_asgi_app])
def test_django_sees_the_built_request(make_app: Any) -> None:
    event = build_event("alibaba_apigw", "POST", "/商品/a", query={"q": "云"}, body=b"\x00\xff",
                        headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    response = parse_response("alibaba_apigw", make_handler(make_app())(event, None))
    seen = response.json()
    assert (seen["path"], seen["query"], seen["body_length"]) == ("/商品/a", {"q": ["云"]}, 2)


def test_the_client_address_is_the_entry_the_gateway_appended() -> None:
    event = json.loads(build_event("alibaba_apigw", "GET", "/", client_ip="198.51.100.7",
                                   headers={"X-Forwarded-For": "10.0.0.1"}))  # fmt: skip
    assert event["headers"]["X-Forwarded-For"] == "10.0.0.1,198.51.100.7"
    seen = parse_response("alibaba_apigw", make_handler(flask_app())(event, None)).json()
    assert seen["remote_addr"] == "198.51.100.7"  # not the client-supplied 10.0.0.1
    trusting = make_handler(flask_app(), trust_forwarded_for=True)
    assert parse_response("alibaba_apigw", trusting(event, None)).json()["remote_addr"] == (
        "10.0.0.1"
    )


def test_detection_never_confuses_it_with_a_function_url_event() -> None:
    apigw, url = PLATFORMS["alibaba_apigw"], PLATFORMS["tencent_url"]
    url_event = build_event("tencent_url", "GET", "/", query={"a": "1"})
    assert url.matches(url_event)
    assert not apigw.matches(url_event)
    assert apigw.matches(DOC_EVENT)
    assert not url.matches(DOC_EVENT)
    assert [p.NAME for p in PLATFORMS.values() if p.matches(CAPTURED_GET)] == ["alibaba_apigw"]
    fc_event = json.loads(build_event("alibaba_fc", "GET", "/"))
    assert not apigw.matches(fc_event)
    found = detect(DOC_EVENT)
    assert found is not None
    assert found.NAME == "alibaba_apigw"


def test_names() -> None:
    assert resolve_platform_name("alibaba") == "alibaba_fc"  # the cloud name keeps its meaning
    assert resolve_platform_name("Alibaba-APIGW") == "alibaba_apigw"
    assert resolve_cloud_name("alibaba_apigw") == "alibaba"


@pytest.mark.parametrize(
    "returned",
    ["hello", {"hello": "world"}, {"statusCode": "200", "body": "x"}, None],
)
def test_the_gateway_reads_only_an_integrated_response(returned: Any) -> None:
    with pytest.raises(InvalidResponseError):
        parse_response("alibaba_apigw", returned)

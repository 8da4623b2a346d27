"""faas_bridge.testing: events exactly as each gateway builds them, responses decoded (and
rejected) as each gateway does, and FaasClient driving real apps and plain handlers."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response
from flask import Flask, jsonify, redirect, request, url_for

from faas_bridge import ConfigurationError, make_handler
from faas_bridge.platforms import detect
from faas_bridge.testing import (
    PLATFORM_NAMES,
    FaasClient,
    InvalidResponseError,
    TestResponse,
    build_context,
    build_event,
    is_handler,
    parse_response,
)

from .conftest import ON_FC

REFERENCE_EVENTS = Path(
    os.environ.get(
        "FAAS_BRIDGE_REFERENCE_EVENTS",
        Path(__file__).resolve().parents[2] / "shared" / "reference-events",
    )
)


def decoded(platform: str, event: Any) -> dict[str, Any]:
    if platform in ON_FC:
        assert isinstance(event, bytes)
        event = json.loads(event)
    assert isinstance(event, dict)
    return event


# ---------------------------------------------------------------------------------------------
# build_event: one wire format each


def test_tencent_apigw_event() -> None:
    event = build_event(
        "tencent_apigw",
        "post",
        "/商品?page=2",
        query=[("tag", "a"), ("tag", "b"), ("debug", None)],
        headers={"X-Trace": "1", "Accept": ["text/html", "application/json"]},
        cookies={"a": "1", "b": "2"},
        body="hello",
        client_ip="198.51.100.7",
        stage="test",
        request_id="req-1",
    )
    assert event["httpMethod"] == "POST"
    assert event["path"] == "/商品"
    assert event["queryString"] == {"page": "2", "tag": ["a", "b"], "debug": True}
    assert event["queryStringParameters"] == {}
    headers = event["headers"]
    assert all(name == name.lower() for name in headers)
    assert headers["x-trace"] == "1"
    assert headers["accept"] == "text/html,application/json"
    assert headers["cookie"] == "a=1; b=2"
    assert headers["x-api-requestid"] == "req-1"
    assert headers["content-length"] == "5"
    assert headers["host"].endswith(".apigw.tencentcs.com")
    assert event["requestContext"]["sourceIp"] == "198.51.100.7"
    assert event["requestContext"]["stage"] == "test"
    assert event["requestContext"]["serviceId"] == "service-abcd1234"
    assert (event["body"], event["isBase64Encoded"]) == ("hello", False)
    assert detect(event) is not None
    assert detect(event).NAME == "tencent_apigw"  # type: ignore[union-attr]


def test_tencent_apigw_get_has_no_body_field() -> None:
    event = build_event("tencent_apigw", "GET", "/")
    assert "body" not in event
    assert event["isBase64Encoded"] is False


def test_tencent_url_event_is_the_slim_form() -> None:
    event = build_event("tencent_url", "GET", "/x", query="a=1&a=2&flag", client_ip="198.51.100.8")
    assert set(event) == {"headers", "httpMethod", "path", "queryString"}
    assert event["headers"]["x-scf-remote-addr"] == "198.51.100.8"
    assert event["queryString"] == {"a": ["1", "2"], "flag": True}
    assert detect(event).NAME == "tencent_url"  # type: ignore[union-attr]


def test_tencent_url_platform_address_cannot_be_forged_by_a_header() -> None:
    event = build_event(
        "tencent_url", headers={"x-scf-remote-addr": "6.6.6.6"}, client_ip="1.2.3.4"
    )
    assert event["headers"]["x-scf-remote-addr"] == "1.2.3.4"


def test_cloudbase_event() -> None:
    event = build_event(
        "cloudbase",
        "GET",
        "/api",
        query={"k": ["1", "2"]},
        host="prod-9z8y.ap-shanghai.app.tcloudbase.com",
        request_id="cb-1",
    )
    assert event["requestContext"] == {
        "requestId": "cb-1",
        "envId": "prod-9z8y",
        "appId": 1250000000,
        "uin": 100000000001,
    }
    assert event["queryStringParameters"] == {"k": ["1", "2"]}
    assert "queryString" not in event
    assert (event["body"], event["isBase64Encoded"]) == ("", False)
    assert event["headers"]["x-cloudbase-request-id"] == "cb-1"
    assert detect(event).NAME == "cloudbase"  # type: ignore[union-attr]


def test_alibaba_fc_event_is_bytes_of_json() -> None:
    raw = build_event(
        "alibaba_fc",
        "GET",
        "/你好/a b",
        query=[("tags", "x"), ("tags", "y"), ("flag", None)],
        headers=[("X-Multi", "1"), ("x-multi", "2"), ("User-Agent", "probe/1")],
        client_ip="198.51.100.9",
        request_id="1-abc",
    )
    assert isinstance(raw, bytes)
    event = json.loads(raw)
    assert event["version"] == "v1"
    assert event["rawPath"] == "/%E4%BD%A0%E5%A5%BD/a%20b"
    assert event["requestContext"]["http"]["path"] == "/你好/a b"
    assert event["queryParameters"] == {"tags": "x,y", "flag": ""}
    assert event["headers"]["X-Multi"] == "1,2"  # original case, repeats comma-joined
    assert event["headers"]["Host"] == event["requestContext"]["domainName"]
    context = event["requestContext"]
    assert context["http"]["sourceIp"] == "198.51.100.9"
    assert context["http"]["userAgent"] == "probe/1"
    assert context["requestId"] == "1-abc"
    assert isinstance(context["timeEpoch"], str)
    assert context["timeEpoch"].isdigit()
    assert detect(event).NAME == "alibaba_fc"  # type: ignore[union-attr]


def test_alibaba_fc_path_already_encoded_is_not_encoded_twice() -> None:
    event = json.loads(build_event("alibaba_fc", "GET", "/caf%C3%A9"))
    assert event["rawPath"] == "/caf%C3%A9"
    assert event["requestContext"]["http"]["path"] == "/café"


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_binary_bodies_are_base64_flagged(platform: str) -> None:
    payload = bytes(range(256))
    event = decoded(
        platform,
        build_event(
            platform, "POST", "/", body=payload, headers={"Content-Type": "application/zip"}
        ),
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_text_bodies_travel_as_text_unless_forced(platform: str) -> None:
    text = decoded(platform, build_event(platform, "POST", "/", json={"名": 1}))
    assert json.loads(text["body"]) == {"名": 1}
    assert text.get("isBase64Encoded", False) is False
    forced = decoded(platform, build_event(platform, "POST", "/", body="abc", is_base64=True))
    assert (forced["body"], forced["isBase64Encoded"]) == ("YWJj", True)


def test_a_binary_body_cannot_be_forced_into_text() -> None:
    with pytest.raises(ConfigurationError, match="not UTF-8"):
        build_event("cloudbase", "POST", "/", body=b"\xff\xfe", is_base64=False)


def test_overrides_merge_into_nested_fields() -> None:
    event = build_event("tencent_apigw", requestContext={"stage": "prepub"}, body="x")
    assert event["requestContext"]["stage"] == "prepub"
    assert event["requestContext"]["sourceIp"] == "203.0.113.10"
    assert event["body"] == "x"
    fc = json.loads(build_event("alibaba_fc", requestContext={"requestId": ""}))
    assert fc["requestContext"]["requestId"] == ""
    assert fc["requestContext"]["http"]["method"] == "GET"


def test_unknown_platforms_are_refused() -> None:
    for call in (
        lambda: build_event("aws"),
        lambda: build_context("aws"),
        lambda: parse_response("aws", {}),
        lambda: FaasClient(lambda e, c: None, "aws"),
    ):
        with pytest.raises(ConfigurationError, match="unknown platform 'aws'"):
            call()


def test_build_context_per_platform() -> None:
    tencent = build_context("tencent_url", request_id="r1", memory_limit_in_mb=512)
    assert tencent["request_id"] == "r1"
    assert tencent["memory_limit_in_mb"] == 512
    assert "function_name" in tencent
    fc = build_context("alibaba_fc", request_id="r2", function={"name": "api", "memory": 1024})
    assert fc.request_id == "r2"
    assert (fc.function.name, fc.function.memory) == ("api", 1024)
    assert fc.credentials.access_key_id == ""


def reference(name: str) -> dict[str, Any]:
    path = REFERENCE_EVENTS / name
    if not path.exists():
        pytest.skip("reference events not available")
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


@pytest.mark.parametrize(
    ("platform", "recorded"),
    [
        ("tencent_apigw", "tencent-apigw-serverless-tencent-2.json"),
        ("tencent_url", "tencent-funcurl-scf-docs-1.json"),
        ("cloudbase", "cloudbase-http-cloudbase-docs-1.json"),
        ("alibaba_fc", "alibaba-fc3-http-heimdallr-proxy-1.json"),
    ],
)
def test_built_events_have_the_shape_of_recorded_ones(platform: str, recorded: str) -> None:
    real = reference(recorded)
    method = real.get("httpMethod") or real["requestContext"]["http"]["method"]
    query = real.get("queryString") or real.get("queryParameters") or {}
    built = decoded(
        platform, build_event(platform, method, "/", query=query, body=real.get("body") or "")
    )

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: shape(item) for key, item in value.items() if key != "headers"}
        return type(value).__name__

    real_shape, built_shape = shape(real), shape(built)
    if platform == "alibaba_fc":  # an undocumented field some captures carry
        real_shape["requestContext"].pop("triggerId", None)
    assert built_shape == real_shape


# ---------------------------------------------------------------------------------------------
# parse_response


def integrated(**fields: Any) -> dict[str, Any]:
    response: dict[str, Any] = {
        "isBase64Encoded": False,
        "statusCode": 200,
        "headers": {"Content-Type": "text/plain"},
        "body": "ok",
    }
    response.update(fields)
    return response


@pytest.mark.parametrize(
    ("platform", "returned", "field"),
    [
        ("tencent_apigw", {"message": "hi"}, "'statusCode'"),
        ("tencent_apigw", "hi", "'statusCode'"),
        ("tencent_apigw", integrated(statusCode="200"), "'statusCode'"),
        ("cloudbase", integrated(statusCode=True), "'statusCode'"),
        ("tencent_url", integrated(statusCode=99), "'statusCode'"),
        ("cloudbase", integrated(headers=["a"]), "'headers'"),
        ("tencent_apigw", integrated(headers={"X-N": 1}), "header 'X-N'"),
        ("tencent_apigw", integrated(headers={"X-L": ["a", 2]}), "header 'X-L'"),
        ("alibaba_fc", integrated(headers={"Set-Cookie": ["a=1", "b=2"]}), "header 'Set-Cookie'"),
        ("cloudbase", integrated(headers={"X-Bad": "a\r\nInjected: 1"}), "header 'X-Bad'"),
        ("tencent_url", integrated(body=b"bytes"), "not JSON-serialisable"),
        ("alibaba_fc", integrated(body=b"bytes"), "'body'"),
        ("tencent_apigw", integrated(body=12), "'body'"),
        ("cloudbase", integrated(isBase64Encoded="true"), "'isBase64Encoded'"),
        ("alibaba_fc", integrated(isBase64Encoded=True, body="***"), "not valid base64"),
        ("tencent_url", {"value": {1, 2}}, "not JSON-serialisable"),
        ("cloudbase", b"bytes", "not JSON-serialisable"),
    ],
)
def test_returns_the_gateway_rejects(platform: str, returned: Any, field: str) -> None:
    with pytest.raises(InvalidResponseError, match=platform) as caught:
        parse_response(platform, returned)
    assert field in str(caught.value)
    assert isinstance(caught.value, AssertionError)  # a plain failure in pytest


@pytest.mark.parametrize(
    ("platform", "returned", "content_type", "content"),
    [
        ("cloudbase", "你好", "text/plain; charset=utf-8", "你好".encode()),
        ("cloudbase", {"a": 1}, "application/json", b'{"a": 1}'),
        ("cloudbase", [1, 2], "application/json", b"[1, 2]"),
        ("tencent_url", {"a": "云"}, "application/json", '{"a": "云"}'.encode()),
        ("tencent_url", "hi", "application/json", b'"hi"'),
        ("alibaba_fc", b"\x00raw", "application/octet-stream", b"\x00raw"),
        ("alibaba_fc", "plain", "text/plain; charset=utf-8", b"plain"),
    ],
)
def test_platform_defaults_for_plain_returns(
    platform: str, returned: Any, content_type: str, content: bytes
) -> None:
    response = parse_response(platform, returned)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == content
    assert response.raw is returned


def test_lists_base64_and_case_insensitive_headers() -> None:
    returned = integrated(
        statusCode=201,
        headers={"Set-Cookie": ["a=1; Path=/", "b=2"], "X-One": "1"},
        isBase64Encoded=True,
        body=base64.b64encode(b"\x00\x01").decode(),
    )
    response = parse_response("tencent_apigw", returned)
    assert response.status_code == 201
    assert response.headers.get_all("set-cookie") == ["a=1; Path=/", "b=2"]
    assert response.cookies == {"a": "1", "b": "2"}
    assert response.headers["x-one"] == "1"
    assert "X-ONE" in response.headers
    assert response.content == b"\x00\x01"
    assert parse_response("cloudbase", integrated(headers=None, body=None)).content == b""


def test_recorded_integrated_responses_parse() -> None:
    real = reference("tencent-apigw-response-qcloud-docs-2.json")
    response = parse_response("tencent_apigw", real)
    assert response.headers.get_all("key") == ["value1", "value2", "value3"]
    assert "<h1>Heading</h1>" in response.text


# ---------------------------------------------------------------------------------------------
# FaasClient


def flask_app() -> Flask:
    app = Flask(__name__)
    app.secret_key = "test"

    @app.route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def echo() -> Any:
        files = {
            name: [storage.filename, storage.mimetype, storage.read().decode("latin-1")]
            for name, storage in request.files.items()
        }
        return jsonify(
            method=request.method,
            args=request.args.to_dict(flat=False),
            form=request.form.to_dict(flat=False),
            json=request.get_json(silent=True),
            files=files,
            data=request.get_data(as_text=True) if not request.files else "",
            content_type=request.content_type,
            cookies=request.cookies,
            host=request.host,
            x=request.headers.get("X-Test"),
        )

    @app.post("/login")
    def login() -> Any:
        response = redirect("/me")
        response.set_cookie("user", request.form["user"])
        response.set_cookie("theme", "dark", max_age=3600)
        return response

    @app.post("/logout")
    def logout() -> Any:
        response = jsonify(bye=True)
        response.delete_cookie("user")
        return response

    @app.get("/me")
    def me() -> Any:
        return jsonify(user=request.cookies.get("user"), theme=request.cookies.get("theme"))

    @app.get("/go")
    def go() -> Any:
        return redirect(url_for("me", _external=True), 307)

    return app


@pytest.fixture(params=PLATFORM_NAMES)
def client(request: pytest.FixtureRequest) -> FaasClient:
    return FaasClient(make_handler(flask_app()), request.param)


def test_client_verbs_query_and_headers(client: FaasClient) -> None:
    for verb in ("get", "post", "put", "patch", "delete"):
        response = getattr(client, verb)("/echo?a=1", query={"b": "2"}, headers={"X-Test": "t"})
        assert response.status_code == 200, response.text
        seen = response.json()
        assert seen["method"] == verb.upper()
        assert seen["args"] == {"a": ["1"], "b": ["2"]}
        assert seen["x"] == "t"


def test_client_json_form_and_raw_bodies(client: FaasClient) -> None:
    assert client.post("/echo", json={"名": [1, 2]}).json()["json"] == {"名": [1, 2]}
    form = client.post("/echo", data={"tag": ["a", "b"], "city": "深圳"}).json()
    assert form["form"] == {"tag": ["a", "b"], "city": ["深圳"]}
    raw = client.put("/echo", data="plain text", headers={"Content-Type": "text/plain"}).json()
    assert (raw["data"], raw["content_type"]) == ("plain text", "text/plain")


def test_client_multipart_files(client: FaasClient) -> None:
    payload = bytes(range(256))
    seen = client.post(
        "/echo",
        data={"title": "照片"},
        files={"photo": ("p.bin", payload, "image/png"), "note": b"hello"},
    ).json()
    assert seen["form"] == {"title": ["照片"]}
    assert seen["files"]["photo"] == ["p.bin", "image/png", payload.decode("latin-1")]
    assert seen["files"]["note"] == ["note", "application/octet-stream", "hello"]


def test_client_cookie_jar_keeps_and_deletes(client: FaasClient) -> None:
    response = client.post("/login", data={"user": "lin"})
    assert response.status_code == 302
    assert len(response.headers.get_all("set-cookie")) == 2
    assert client.cookies == {"user": "lin", "theme": "dark"}
    assert client.get("/me").json() == {"user": "lin", "theme": "dark"}
    assert client.get("/me", cookies={"theme": "light"}).json()["theme"] == "light"
    client.post("/logout")
    assert client.get("/me").json() == {"user": None, "theme": "dark"}


def test_client_without_cookie_jar() -> None:
    client = FaasClient(make_handler(flask_app()), "cloudbase", use_cookies=False)
    client.post("/login", data={"user": "lin"})
    assert client.cookies == {}
    assert client.get("/me").json() == {"user": None, "theme": None}


def test_client_full_url_sets_the_host() -> None:
    client = FaasClient(make_handler(flask_app()), "alibaba_fc")
    assert client.get("https://api.example.cn/echo").json()["host"] == "api.example.cn"


def test_client_json_and_data_together_is_an_error() -> None:
    client = FaasClient(make_handler(flask_app()), "tencent_url")
    with pytest.raises(ConfigurationError, match="not both"):
        client.post("/echo", json={}, data="x")


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_client_drives_a_hand_written_handler(platform: str) -> None:
    calls: list[tuple[Any, Any]] = []

    def main_handler(event: Any, context: Any) -> dict[str, Any]:
        calls.append((event, context))
        return {
            "isBase64Encoded": False,
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"ok": True}),
        }

    response = FaasClient(main_handler, platform).post("/x", json={"a": 1})
    assert response.json() == {"ok": True}
    event, context = calls[0]
    if platform == "alibaba_apigw":
        assert isinstance(event, bytes)  # what the FC runtime passes
        assert context.request_id
    elif platform == "alibaba_fc":
        assert isinstance(event, bytes)  # what the FC runtime passes
        request_id = json.loads(event)["requestContext"]["requestId"]
        assert context.request_id == request_id
    else:
        assert isinstance(event, dict)
        assert isinstance(context, dict)
        assert context["request_id"]


def test_client_surfaces_a_return_the_gateway_rejects() -> None:
    client = FaasClient(lambda event, context: {"body": "no status"}, "tencent_apigw")
    with pytest.raises(InvalidResponseError, match="statusCode"):
        client.get("/")


def test_client_uses_a_given_context() -> None:
    seen: list[Any] = []

    def handler(event: Any, context: Any) -> Any:
        seen.append(context)
        return "ok"

    FaasClient(handler, "cloudbase", context={"custom": 1}).get("/")
    assert seen == [{"custom": 1}]


def test_handlers_and_apps_are_told_apart() -> None:
    def main_handler(event: Any, context: Any) -> Any:
        return None

    def handler_with_default(event: Any, context: Any = None) -> Any:
        return None

    def wsgi_app(environ: Any, start_response: Any) -> Any:
        return []

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        pass

    assert is_handler(main_handler)
    assert is_handler(handler_with_default)
    assert is_handler(make_handler(wsgi_app))
    assert not is_handler(wsgi_app)
    assert not is_handler(asgi_app)
    assert not is_handler(flask_app())
    assert not is_handler(42)


def test_test_response_text_uses_the_charset() -> None:
    from faas_bridge.testing import Headers

    response = TestResponse(
        200, Headers([("Content-Type", "text/plain; charset=gbk")]), "你好".encode("gbk")
    )
    assert response.text == "你好"


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_client_with_a_fastapi_app(platform: str) -> None:
    async def probe(scope: Any, receive: Any, send: Any) -> None:
        pass

    try:
        make_handler(probe)
    except ConfigurationError:
        pytest.skip("this faas_bridge does not run ASGI apps yet")
    app = FastAPI()

    @app.post("/items")
    async def create(item: dict[str, Any], response: Response) -> dict[str, Any]:
        response.set_cookie("last", str(item["id"]))
        response.status_code = 201
        return item

    @app.get("/last")
    async def last(request: Request) -> dict[str, Any]:
        return {"last": request.cookies.get("last")}

    client = FaasClient(make_handler(app), platform)
    created = client.post("/items", json={"id": 7, "名": "茶"})
    assert created.status_code == 201
    assert created.json() == {"id": 7, "名": "茶"}
    assert client.get("/last").json() == {"last": "7"}


def test_client_takes_the_names_of_httpx_requests_and_flask(client: FaasClient) -> None:
    # Issue 18: params= and query_string= were swallowed, so no query was sent.
    assert client.get("/echo", params={"a": "1 2"}).json()["args"] == {"a": ["1 2"]}
    assert client.get("/echo", query_string="b=3").json()["args"] == {"b": ["3"]}
    assert client.get("/echo?c=4", params=[("d", "5")]).json()["args"] == {
        "c": ["4"],
        "d": ["5"],
    }
    sent = client.post("/echo", content=b"raw", headers={"Content-Type": "text/plain"})
    assert sent.get_json()["data"] == "raw"
    assert json.loads(sent.data) == sent.json()


@pytest.mark.parametrize("keyword", ["timeout", "auth", "json_body", "allow_redirects"])
def test_client_refuses_a_keyword_it_does_not_know(client: FaasClient, keyword: str) -> None:
    with pytest.raises(TypeError, match=keyword):
        client.get("/echo", **{keyword: 1})


def test_client_follows_redirects_when_asked(client: FaasClient) -> None:
    response = client.post("/login", data={"user": "lin"}, follow_redirects=True)
    assert response.status_code == 200
    assert response.json() == {"user": "lin", "theme": "dark"}
    assert [step.status_code for step in response.history] == [302]
    # an absolute URL from url_for, with /release in front on API Gateway's default domain
    followed = client.get("/go", follow_redirects=True)
    assert followed.status_code == 200, followed.text
    assert followed.json()["user"] == "lin"
    assert client.get("/go").status_code == 307  # not followed unless asked


def test_client_stays_on_its_host_when_following() -> None:
    app = Flask(__name__)

    @app.get("/away")
    def away() -> Any:
        return redirect("https://elsewhere.example.com/x")

    response = FaasClient(app, "cloudbase", follow_redirects=True).get("/away")
    assert response.status_code == 302
    assert response.history == []


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_client_wraps_a_bare_app(platform: str) -> None:
    # Issue 18: FaasClient(app, platform) called the Flask app with (event, context).
    client = FaasClient(flask_app(), platform)
    assert client.get("/echo", params={"a": "1"}).json()["args"] == {"a": ["1"]}

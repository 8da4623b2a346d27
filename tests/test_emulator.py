"""`faas-bridge emulate` as a user runs it: a real server in a subprocess, real HTTP (httpx).

Every platform gets its own ``python -m faas_bridge emulate tests.test_emulator:main_handler
--platform P --show-events`` on a free port of 127.0.0.1. ``main_handler`` is a user's own
handler around ``make_handler(flask_app)``: a route answering with ``X-Test-Return: <kind>``
makes it return one of the hand-written values in ``RETURNS`` instead, so malformed returns
reach the emulator exactly as a buggy handler would produce them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from flask import Flask, Response, jsonify, redirect, request, url_for

from faas_bridge import ConfigurationError, make_handler
from faas_bridge.emulator import (
    REQUEST_LIMITS,
    EmulatorConfig,
    Gateway,
    default_timeout,
    redact,
)
from faas_bridge.platforms.tencent_apigw.gateway import STAGE_HOST as DEFAULT_STAGE_HOST

from .conftest import ON_FC
from .processes import ServerProcess, free_port

PLATFORMS = ("tencent_apigw", "tencent_url", "cloudbase", "alibaba_fc", "alibaba_apigw")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
TENCENT_403 = {
    "errno": 403,
    "error": "Invalid scf response format. please check your scf response format.",
}
SECRETS = {
    "X-Scf-Secret-Id": "AKIDsecretid0001",
    "X-Scf-Session-Token": "scfsessiontoken0002",
    "x-fc-access-key-secret": "fcaccesskeysecret0003",
    "x-fc-security-token": "fcsecuritytoken0004",
    "X-Cloudbase-Context": "H4sIAcloudbasecontext0005",
}

# --- the apps -----------------------------------------------------------------------------

flask_app = Flask(__name__)
_never = threading.Event()


@flask_app.route("/echo", methods=["GET", "POST", "PUT", "DELETE"])
def echo() -> Any:
    body = request.get_data(cache=True)
    return jsonify(
        method=request.method,
        path=request.path,
        script_root=request.script_root,
        url=request.url,
        args=request.args.to_dict(flat=False),
        form=request.form.to_dict(flat=False),
        json=request.get_json(silent=True),
        cookies=request.cookies,
        remote_addr=request.remote_addr,
        custom=request.headers.get("X-Custom"),
        body_size=len(body),
        body_sha256=hashlib.sha256(body).hexdigest(),
    )


@flask_app.get("/商品/<name>")
def product(name: str) -> Any:
    return jsonify(name=name, path=request.path)


@flask_app.get("/download")
def download() -> Response:
    return Response(PNG, mimetype="image/png")


@flask_app.get("/big")
def big() -> Response:
    return Response(b"\x00" * int(request.args["size"]), mimetype="application/octet-stream")


@flask_app.get("/cookies")
def set_cookies() -> Response:
    response = jsonify(set=3)
    response.set_cookie("session", "s1", httponly=True)
    response.set_cookie("theme", "dark")
    response.set_cookie("lang", "zh-CN", expires="Wed, 21 Oct 2037 07:28:00 GMT")
    return response


@flask_app.get("/redirect")
def go() -> Any:
    return redirect(url_for("echo", q="moved"))


@flask_app.get("/redirect-external")
def go_external() -> Any:
    return redirect(url_for("echo", q="moved", _external=True))


@flask_app.get("/boom")
def boom() -> Any:
    raise RuntimeError("an app bug")


@flask_app.get("/slow")
def slow() -> Any:
    _never.wait(20)  # longer than any --timeout the tests give
    return jsonify(finished=True)


@flask_app.get("/return/<kind>")
def return_kind(kind: str) -> Response:
    return Response("replaced by main_handler", headers={"X-Test-Return": kind})


RETURNS: dict[str, Any] = {
    "string-status": {"statusCode": "200", "headers": {}, "body": "x"},
    "plain-string": "hello 云",
    "plain-object": {"hello": "云"},
    "list-header": {"statusCode": 200, "headers": {"X-Multi": ["a", "b"]}, "body": "ok"},
    "base64": {
        "statusCode": 201,
        "headers": {"Content-Type": "image/png"},
        "isBase64Encoded": True,
        "body": base64.b64encode(PNG).decode(),
    },
    "bad-base64": {"statusCode": 200, "headers": {}, "isBase64Encoded": True, "body": "%%%"},
}

# response_limit=0: the adapter's own 502 for oversize responses (tested in
# test_limits_and_injection.py) would answer before the emulated gateway's check this tests.
_flask_handler = make_handler(flask_app, response_limit=0)


def main_handler(event: Any, context: Any) -> Any:
    """A user's own handler: make_handler's, except where a test asks for a raw return."""
    returned = _flask_handler(event, context)
    headers = {name.lower(): value for name, value in returned.get("headers", {}).items()}
    kind = headers.get("x-test-return")
    if kind == "raise":
        raise ValueError("a handler bug")
    return RETURNS[kind] if kind else returned


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    yield {"greeting": "你好"}


fastapi_app = FastAPI(lifespan=_lifespan)


@fastapi_app.get("/hello")
async def fastapi_hello(request: Request) -> dict[str, Any]:
    return {
        "greeting": request.scope["state"]["greeting"],
        "root_path": request.scope["root_path"],
        "docs": str(request.url_for("fastapi_hello")),
    }


# --- the server ---------------------------------------------------------------------------


class Emulated(ServerProcess):
    """One ``python -m faas_bridge emulate`` subprocess on 127.0.0.1, its output in a file."""

    def __init__(self, target: str, platform: str, log_path: Path, *args: str) -> None:
        self.platform = platform
        port = free_port()
        super().__init__(
            ["emulate", target, "--platform", platform, "--port", str(port), *args],
            log_path,
            port,
        )
        # On tencent_apigw the stage is part of the public URL, as on the default domain.
        self.prefix = "/release" if platform == "tencent_apigw" else ""


@pytest.fixture(scope="module", params=PLATFORMS)
def emulator(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Emulated]:
    log = tmp_path_factory.mktemp("emulate") / f"{request.param}.log"
    running = Emulated("tests.test_emulator:main_handler", request.param, log, "--show-events")
    yield running
    running.kill()


@pytest.fixture
def client(emulator: Emulated) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url + emulator.prefix, timeout=20) as http:
        yield http


# --- requests -----------------------------------------------------------------------------


def test_json_post(client: httpx.Client, emulator: Emulated) -> None:
    response = client.post("/echo?page=2&tag=a&tag=b", json={"name": "普洱", "price": 88})
    assert response.status_code == 200
    seen = response.json()
    assert seen["method"] == "POST"
    assert seen["path"] == "/echo"
    assert seen["script_root"] == emulator.prefix
    assert seen["json"] == {"name": "普洱", "price": 88}
    assert seen["remote_addr"] == "127.0.0.1"
    assert seen["url"].startswith("http://")  # what the emulator serves, stage path or not
    # Alibaba FC joins a repeated query key with commas before the function sees it.
    tags = ["a,b"] if emulator.platform in ON_FC else ["a", "b"]
    assert seen["args"] == {"page": ["2"], "tag": tags}
    assert response.headers["content-type"] == "application/json"


def test_form_post(client: httpx.Client) -> None:
    response = client.post("/echo", data={"name": "云函数", "tag": ["a", "b"]})
    assert response.json()["form"] == {"name": ["云函数"], "tag": ["a", "b"]}


def test_binary_upload_arrives_byte_for_byte(client: httpx.Client) -> None:
    payload = bytes(range(256)) * 1000
    response = client.put(
        "/echo", content=payload, headers={"Content-Type": "application/octet-stream"}
    )
    seen = response.json()
    assert seen["body_size"] == len(payload)
    assert seen["body_sha256"] == hashlib.sha256(payload).hexdigest()


def test_binary_download_arrives_byte_for_byte(client: httpx.Client) -> None:
    response = client.get("/download")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == PNG
    head = client.head("/download")
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(PNG))
    assert head.content == b""


def test_cookies_both_ways(client: httpx.Client) -> None:
    client.cookies.set("a", "1")
    client.cookies.set("b", "two")
    assert client.get("/echo").json()["cookies"] == {"a": "1", "b": "two"}

    response = client.get("/cookies")
    set_cookies = response.headers.get_list("set-cookie")
    assert len(set_cookies) == 3, set_cookies
    assert {c.split("=", 1)[0] for c in set_cookies} == {"session", "theme", "lang"}
    assert any("Expires=Wed, 21 Oct 2037" in c for c in set_cookies)
    assert response.cookies["theme"] == "dark"


def test_redirects_stay_on_the_emulator(client: httpx.Client, emulator: Emulated) -> None:
    response = client.get("/redirect")
    assert response.status_code == 302
    assert response.headers["location"] == f"{emulator.prefix}/echo?q=moved"
    followed = client.get("/redirect", follow_redirects=True)
    assert followed.json()["args"] == {"q": ["moved"]}
    # an absolute URL built from the request's host and scheme leads back here too
    external = client.get("/redirect-external", follow_redirects=True)
    assert external.status_code == 200
    assert str(external.url).startswith(emulator.url)


def test_unicode_path(client: httpx.Client, emulator: Emulated) -> None:
    response = client.get("/商品/普洱 茶")
    assert response.status_code == 200
    assert response.json() == {"name": "普洱 茶", "path": "/商品/普洱 茶"}


def test_an_app_error_is_the_apps_own_500(client: httpx.Client) -> None:
    response = client.get("/boom")  # Flask answers it; the gateway passes it on
    assert response.status_code == 500
    assert "Internal Server Error" in response.text
    assert "x-faas-bridge-emulated" not in response.headers
    assert client.get("/echo").status_code == 200


def test_a_handler_that_raises_is_a_gateway_error(client: httpx.Client, emulator: Emulated) -> None:
    response = client.get("/return/raise")
    assert response.status_code == (503 if emulator.platform == "alibaba_apigw" else 502)
    assert response.headers["x-faas-bridge-emulated"].startswith("function_error")
    assert client.get("/echo").status_code == 200


# --- what each gateway makes of a return value ----------------------------------------------


def test_a_malformed_return_gets_the_gateways_error(
    client: httpx.Client, emulator: Emulated
) -> None:
    for kind in ("string-status", "bad-base64"):
        response = client.get(f"/return/{kind}")
        if emulator.platform == "tencent_apigw":
            assert response.status_code == 403
            assert response.json() == TENCENT_403
        else:  # Alibaba API Gateway: 503 (its trigger docs)
            expected = 503 if emulator.platform == "alibaba_apigw" else 502
            assert response.status_code == expected
            assert response.headers["x-faas-bridge-emulated"].startswith("invalid_response")
            assert "statusCode" in response.text or "base64" in response.text


def test_plain_returns_get_the_platforms_defaults(client: httpx.Client, emulator: Emulated) -> None:
    text = client.get("/return/plain-string")
    obj = client.get("/return/plain-object")
    if emulator.platform == "tencent_apigw":
        assert (text.status_code, obj.status_code) == (403, 403)
        assert text.json() == TENCENT_403
        return
    if emulator.platform == "alibaba_apigw":  # an integrated response or its 503
        assert (text.status_code, obj.status_code) == (503, 503)
        assert "statusCode" in text.json()["X-Ca-Error-Message"]
        return
    assert (text.status_code, obj.status_code) == (200, 200)
    assert obj.json() == {"hello": "云"}
    assert obj.headers["content-type"] == "application/json"
    if emulator.platform == "tencent_url":
        assert text.json() == "hello 云"
    else:
        assert text.headers["content-type"].startswith("text/plain")
        assert text.text == "hello 云"


def test_list_valued_headers_and_base64_bodies(client: httpx.Client, emulator: Emulated) -> None:
    listed = client.get("/return/list-header")
    if emulator.platform in ON_FC:  # FC headers are string to string
        assert listed.status_code == (503 if emulator.platform == "alibaba_apigw" else 502)
    else:
        assert listed.status_code == 200
        assert listed.headers.get_list("x-multi") == ["a", "b"]
    decoded = client.get("/return/base64")
    assert decoded.status_code == 201
    assert decoded.content == PNG


# --- limits -------------------------------------------------------------------------------


def test_a_request_body_over_the_limit_is_refused(client: httpx.Client, emulator: Emulated) -> None:
    limit = REQUEST_LIMITS[emulator.platform]
    response = client.put("/echo", content=b"x" * (limit + 1))
    assert response.status_code == 413
    assert response.headers["x-faas-bridge-emulated"].startswith("request_too_large")
    assert f"{limit // 1_000_000} MB ({limit} bytes)" in response.text  # the docs' decimal MB
    if emulator.platform != "alibaba_fc":  # exactly the limit passes
        accepted = client.put("/echo", content=b"x" * limit)
        assert accepted.json()["body_size"] == limit


def test_a_response_over_the_limit_is_refused(client: httpx.Client, emulator: Emulated) -> None:
    # 5 MB of binary is 6.7 MB once base64-encoded in the return value
    response = client.get("/big", params={"size": 5 * 1024 * 1024})
    if emulator.platform == "alibaba_fc":  # 32 MB there
        assert response.status_code == 200
        assert len(response.content) == 5 * 1024 * 1024
    else:  # 6 MB on SCF, CloudBase and behind Alibaba's API Gateway (which answers 503)
        assert response.status_code == (503 if emulator.platform == "alibaba_apigw" else 502)
        assert response.headers["x-faas-bridge-emulated"].startswith("response_too_large")


# --- logs ---------------------------------------------------------------------------------


def test_access_log_and_show_events_never_print_credentials(
    client: httpx.Client, emulator: Emulated
) -> None:
    response = client.get("/echo?x=1", headers={**SECRETS, "X-Custom": "visible"})
    assert response.json()["custom"] == "visible"
    request_id = response.headers[
        {
            "tencent_apigw": "x-api-requestid",
            "tencent_url": "x-scf-request-id",
            "cloudbase": "x-cloudbase-request-id",
            "alibaba_fc": "x-fc-request-id",
            "alibaba_apigw": "x-ca-request-id",
        }[emulator.platform]
    ]
    client.get("/return/plain-object")  # a later request: the log above is written by now
    log = emulator.log()
    lines = [line for line in log.splitlines() if f"request_id={request_id}" in line]
    assert len(lines) == 1, log
    assert f'"GET {emulator.prefix}/echo?x=1" 200' in lines[0]
    assert f"--- event {request_id} ({emulator.platform})" in log
    assert f"--- returned {request_id}" in log
    assert '"visible"' in log
    assert "<redacted>" in log
    leaked = [value for value in SECRETS.values() if value in log]
    assert not leaked


# --- other flags (one server each) --------------------------------------------------------


@pytest.fixture(scope="module")
def fc_default_domain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulated]:
    log = tmp_path_factory.mktemp("emulate") / "fc-domain.log"
    running = Emulated(
        "tests.test_emulator:main_handler",
        "alibaba_fc",
        log,
        "--timeout",
        "0.5",
        "--fc-default-domain",
    )
    yield running
    running.kill()


def test_timeout_answers_504_and_the_emulator_keeps_serving(fc_default_domain: Emulated) -> None:
    with httpx.Client(base_url=fc_default_domain.url, timeout=20) as http:
        response = http.get("/slow")
        assert response.status_code == 504
        assert response.json()["ErrorCode"] == "FunctionTimeout"
        assert "0.5 s" in response.json()["ErrorMessage"]
        assert http.get("/echo").status_code == 200


def test_fc_default_domain_forces_attachment(fc_default_domain: Emulated) -> None:
    with httpx.Client(base_url=fc_default_domain.url, timeout=20) as http:
        response = http.get("/echo")
    assert response.headers.get_list("content-disposition") == ["attachment"]
    assert response.json()["path"] == "/echo"


def test_base_path_and_an_app_target(tmp_path: Path) -> None:
    server = Emulated(
        "tests.test_emulator:flask_app", "cloudbase", tmp_path / "log", "--base-path", "/api/"
    )
    try:
        with httpx.Client(base_url=server.url, timeout=20) as http:
            seen = http.get("/api/echo").json()
            assert (seen["script_root"], seen["path"]) == ("/api", "/echo")
            assert http.get("/api/redirect").headers["location"] == "/api/echo?q=moved"
            outside = http.get("/apix/echo")
            assert outside.status_code == 404
            assert outside.headers["x-faas-bridge-emulated"].startswith("not_found")
    finally:
        server.kill()
    assert '"GET /apix/echo" 404' in server.log()


def test_tencent_stage_and_custom_domain_with_fastapi(tmp_path: Path) -> None:
    server = Emulated("tests.test_emulator:fastapi_app", "tencent_apigw", tmp_path / "log")
    try:
        with httpx.Client(base_url=server.url, timeout=20) as http:
            on_default_domain = http.get("/release/hello").json()
            assert on_default_domain["greeting"] == "你好"  # lifespan ran
            assert on_default_domain["root_path"] == "/release"
            assert on_default_domain["docs"].endswith(f"{DEFAULT_STAGE_HOST}/release/hello")
            openapi = http.get("/release/openapi.json").json()
            assert openapi["servers"] == [{"url": "/release"}]
            # without the stage: as on a custom domain, the client's own host and no prefix
            custom = http.get("/hello").json()
            assert custom["root_path"] == ""
            assert custom["docs"] == f"{server.url}/hello"
    finally:
        server.kill()


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGTERM"])
def test_ctrl_c_and_sigterm_stop_with_the_same_status(tmp_path: Path, signal_name: str) -> None:
    # Issue 18: Ctrl+C ended with 130 and SIGTERM with a death by signal.
    import signal

    server = Emulated("tests.test_emulator:flask_app", "tencent_url", tmp_path / "log")
    try:
        with httpx.Client(base_url=server.url, timeout=20) as http:
            assert http.get("/echo").status_code == 200
        server.process.send_signal(getattr(signal, signal_name))
        assert server.process.wait(20) == 0, server.log()
    finally:
        server.kill()


def test_tls_with_uvicorns_certificate_flags(tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server = Emulated(
        "tests.test_emulator:flask_app",
        "tencent_apigw",
        tmp_path / "log",
        "--ssl-certfile",
        str(cert),
        "--ssl-keyfile",
        str(key),
    )
    try:
        url = server.url.replace("http://", "https://")
        with httpx.Client(base_url=url, timeout=20, verify=False) as http:
            seen = http.get("/release/echo").json()
        assert seen["url"].startswith("https://")
    finally:
        server.kill()


# --- the command's own errors (in-process: nothing is served) -------------------------------


def test_missing_serve_extra_is_one_line_and_exit_5(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from faas_bridge.cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn raises ImportError
    assert main(["emulate", "tests.test_emulator:main_handler", "--platform", "cloudbase"]) == 5
    err = capsys.readouterr().err
    assert err == (
        "faas-bridge: error: emulate needs uvicorn, from the serve extra: "
        'pip install "faas-bridge[serve]"\n'
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "aws"], "unknown platform 'aws'"),
        (["--platform", "cloudbase", "--fc-default-domain"], "alibaba_fc only"),
        (["--platform", "tencent_url", "--timeout", "0"], "timeout must be positive"),
    ],
)
def test_usage_errors_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from faas_bridge.cli import main

    assert main(["emulate", "tests.test_emulator:main_handler", *args]) == 2
    assert message in capsys.readouterr().err


# --- the gateway's rules as plain values ----------------------------------------------------


def test_the_default_timeout_is_the_one_the_deploy_configs_set() -> None:
    # Issue 18: 3 s locally, while `package --configs` deploys with 30 s.
    import inspect

    from faas_bridge.clouds import alibaba, cloudbase, tencent

    for write in (tencent.serverless_yml, cloudbase.cloudbaserc_json, alibaba.s_yaml):
        deployed = inspect.signature(write).parameters["timeout_s"].default
        assert all(default_timeout(name) == deployed for name in PLATFORMS)


def _scheme_told(platform: str, path: bytes, config_scheme: str | None, scheme: str) -> str:
    gateway = Gateway(EmulatorConfig(platform, scheme=config_scheme))
    headers = [("host", "127.0.0.1:8000"), ("X-Forwarded-Proto", "https")]
    invocation = gateway.invocation("GET", path, b"", headers, b"", "127.0.0.1", scheme)
    assert invocation is not None
    event = invocation.event
    event = json.loads(event) if isinstance(event, bytes) else event
    wanted = gateway.side.SCHEME_HEADER
    told: str = next(v for n, v in event["headers"].items() if n.lower() == wanted)
    return told


@pytest.mark.parametrize("platform", PLATFORMS)
def test_the_app_is_told_the_scheme_the_emulator_is_reached_by(platform: str) -> None:
    # Issue 18: on /release/ paths the app was told https while the emulator served http,
    # so Secure cookies never came back; a client's X-Forwarded-Proto is not believed.
    path = b"/release/x" if platform == "tencent_apigw" else b"/x"
    assert _scheme_told(platform, path, None, "http") == "http"
    assert _scheme_told(platform, path, None, "https") == "https"
    assert _scheme_told(platform, path, "https", "http") == "https"


def test_a_bad_scheme_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="http or https"):
        Gateway(EmulatorConfig("cloudbase", scheme="ftp"))


def test_the_context_carries_the_timeout() -> None:
    tencent = Gateway(EmulatorConfig("cloudbase", timeout=7.5))
    invocation = tencent.invocation("GET", b"/", b"", [("host", "localhost")], b"", "127.0.0.1")
    assert invocation is not None
    assert invocation.context["time_limit_in_ms"] == 7500
    assert invocation.context["request_id"] == invocation.request_id
    fc = Gateway(EmulatorConfig("alibaba_fc", timeout=7.5))
    invocation = fc.invocation("GET", b"/", b"", [], b"", "127.0.0.1")
    assert invocation is not None
    assert invocation.context.function.timeout == 8
    assert json.loads(invocation.event)["requestContext"]["requestId"] == invocation.request_id


def test_only_the_emulated_default_domain_is_rewritten_in_location() -> None:
    gateway = Gateway(EmulatorConfig("tencent_apigw"))
    for location, expected in [
        (f"https://{DEFAULT_STAGE_HOST}/release/a", "http://127.0.0.1:8000/release/a"),
        (f"https://{DEFAULT_STAGE_HOST}.evil.example/a", None),
        ("https://example.com/release/a", None),
    ]:
        returned = {"statusCode": 302, "headers": {"Location": location}, "body": ""}
        reply = gateway.reply(returned, local_origin="http://127.0.0.1:8000", stage_host=True)
        assert dict(reply.headers)["Location"] == (expected or location)


def test_redact_hides_credentials_at_any_depth_and_cuts_long_strings() -> None:
    shown = redact(
        {
            "headers": {"X-Fc-Access-Key-Id": "k", "x-scf-secret-key": "s", "accept": "*/*"},
            "body": "x" * 5000,
        }
    )
    assert shown["headers"] == {
        "X-Fc-Access-Key-Id": "<redacted>",
        "x-scf-secret-key": "<redacted>",
        "accept": "*/*",
    }
    assert shown["body"].endswith("(4000 more characters)")


def test_fc_default_domain_keeps_an_apps_own_attachment() -> None:
    gateway = Gateway(EmulatorConfig("alibaba_fc", fc_default_domain=True))
    named = 'attachment; filename="report.csv"'
    for given, expected in [(named, named), ("inline", "attachment"), (None, "attachment")]:
        headers = {"Content-Type": "text/csv"}
        if given:
            headers["Content-Disposition"] = given
        reply = gateway.reply({"statusCode": 200, "headers": headers, "body": "a,b"})
        dispositions = [v for n, v in reply.headers if n.lower() == "content-disposition"]
        assert dispositions == [expected]

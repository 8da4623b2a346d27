"""What the app sees: each platform's event turned into a PEP 3333 environ."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest

from faas_bridge import make_handler
from faas_bridge.testing import PLATFORM_NAMES, build_context, build_event

from .conftest import ON_FC, Spy, load_event


def wsgi_path(environ: dict[str, object]) -> str:
    value = environ["PATH_INFO"]
    assert isinstance(value, str)
    return value.encode("latin-1").decode("utf-8")


def test_tencent_apigw_chinese_path_lists_and_true_query_values(spy: Spy) -> None:
    make_handler(spy)(load_event("tencent_apigw_chinese_path_repeated_query.json"), {})
    env = spy.environ
    assert env["REQUEST_METHOD"] == "GET"
    assert wsgi_path(env) == "/商品/列表"
    # a default API Gateway domain shows the stage in the public URL
    assert env["SCRIPT_NAME"] == "/release"
    query = parse_qs(env["QUERY_STRING"], keep_blank_values=True)
    assert query == {"tag": ["绿茶", "红茶"], "page": ["2"], "debug": [""]}
    assert env["HTTP_COOKIE"] == "sid=s%3Aabc; theme=dark"
    assert env["REMOTE_ADDR"] == "198.51.100.23"
    assert env["wsgi.url_scheme"] == "https"
    assert (env["SERVER_NAME"], env["SERVER_PORT"]) == (
        "service-q1w2e3r4-1250000000.gz.apigw.tencentcs.com",
        "443",
    )
    assert env["faas_bridge.request_id"] == "4d1c5b2e9f0a47d6b3e8c7a6d5f4e3b2"
    assert env["faas_bridge.platform"] == "tencent_apigw"
    assert env["faas_bridge.event"]["path"] == "/商品/列表"


def test_tencent_apigw_base64_body_flagged_as_string(spy: Spy) -> None:
    make_handler(spy)(load_event("tencent_apigw_binary_post.json"), {})
    assert spy.input == base64.b64decode("AAH/gH8Q7sM=")
    assert spy.environ["CONTENT_LENGTH"] == "8"
    assert spy.environ["CONTENT_TYPE"] == "application/octet-stream"
    # custom domain: no stage prefix
    assert spy.environ["SCRIPT_NAME"] == ""
    assert spy.environ["faas_bridge.request_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_tencent_url_form_and_client_address(spy: Spy) -> None:
    context = build_context("tencent_url", request_id="ctx-req-1")
    make_handler(spy)(load_event("tencent_url_form_post.json"), context)
    env = spy.environ
    assert spy.input == b"name=%E6%9D%8E%E9%9B%B7&tags=a&tags=b"
    assert env["REMOTE_ADDR"] == "198.51.100.25"
    assert env["QUERY_STRING"] == "a=1"
    assert env["faas_bridge.platform"] == "tencent_url"
    assert env["faas_bridge.context"] is context
    assert env["faas_bridge.request_id"] == "ctx-req-1"


def test_cloudbase_json_body_and_forwarded_for(spy: Spy) -> None:
    make_handler(spy)(load_event("cloudbase_json_post.json"), {})
    env = spy.environ
    assert spy.input.decode() == '{"name": "普洱", "price": 88}'
    assert env["CONTENT_LENGTH"] == str(len(spy.input))
    assert env["QUERY_STRING"] == "dry_run=1"
    assert env["REMOTE_ADDR"] == "198.51.100.26"
    assert env["faas_bridge.platform"] == "cloudbase"
    assert env["faas_bridge.request_id"] == "9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def test_alibaba_fc_bytes_event_encoded_path_and_joined_values(spy: Spy) -> None:
    make_handler(spy)(
        load_event("alibaba_fc_encoded_path_cookies.json"), build_context("alibaba_fc")
    )
    env = spy.environ
    assert wsgi_path(env) == "/你好/a b"
    # FC joins repeated query values with commas before we see them: kept as one value
    assert parse_qs(env["QUERY_STRING"]) == {"tags": ["x,y"], "q": ["云"]}
    # FC folds a repeated Host header into "a,a"
    assert env["SERVER_NAME"] == "demo-trigger-abcdefghij.cn-hangzhou.fcapp.run"
    assert env["HTTP_COOKIE"] == "a=1; b=2"
    assert env["REMOTE_ADDR"] == "198.51.100.27"
    assert env["faas_bridge.request_id"] == "1-6731c2a0-1a2b3c4d-5e6f7a8b9c0d"
    assert isinstance(env["faas_bridge.event"], dict)


@pytest.mark.parametrize("form", ["bytes", "str", "dict", "bytearray"])
def test_alibaba_fc_event_accepted_in_every_form(spy: Spy, form: str) -> None:
    raw = load_event("alibaba_fc_encoded_path_cookies.json")
    import json

    event = {
        "bytes": raw,
        "str": raw.decode(),
        "dict": json.loads(raw),
        "bytearray": bytearray(raw),
    }[form]
    result = make_handler(spy)(event, None)
    assert result["statusCode"] == 200
    assert wsgi_path(spy.environ) == "/你好/a b"


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
@pytest.mark.parametrize("path", ["/你好/世界", "/a b/c", "/caf%C3%A9", "/%E4%BD%A0%E5%A5%BD"])
def test_encoded_and_decoded_paths_look_the_same(spy: Spy, platform: str, path: str) -> None:
    from urllib.parse import quote, unquote

    handler = make_handler(spy, stage_prefix=False)
    seen = []
    for form in (unquote(path), quote(unquote(path))):
        handler(build_event(platform, "GET", "/"), None)  # reset
        event = build_event(platform, "GET", form)
        if platform in ON_FC:
            import json

            decoded = json.loads(event)
            decoded["rawPath" if platform == "alibaba_fc" else "path"] = form
            event = json.dumps(decoded).encode()
        handler(event, None)
        seen.append(wsgi_path(spy.environ))
    assert seen == [unquote(path), unquote(path)]


def test_non_utf8_percent_bytes_reach_path_info_exactly(spy: Spy) -> None:
    make_handler(spy)(build_event("tencent_url", "GET", "/raw%FF%FE"), None)
    assert spy.environ["PATH_INFO"].encode("latin-1") == b"/raw\xff\xfe"


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_body_flags_as_bool_string_or_missing(spy: Spy, platform: str) -> None:
    import json

    payload = b"\x00\x01binary\xff"
    handler = make_handler(spy, platform=platform)
    flags: list[object] = [True, "true", "TRUE", False, "false", None]
    for flag in flags:
        flagged = flag in (True, "true", "TRUE")
        event = build_event(platform, "POST", "/", body="plain")
        if platform in ON_FC:
            event = json.loads(event)
        event["body"] = base64.b64encode(payload).decode() if flagged else "plain"
        if flag is None:
            event.pop("isBase64Encoded", None)
        else:
            event["isBase64Encoded"] = flag
        handler(event, None)
        assert spy.input == (payload if flagged else b"plain"), flag


def test_header_repeats_and_underscores(spy: Spy) -> None:
    event = build_event("tencent_url", "GET", "/", headers={"X-Custom": "1"})
    event["headers"]["x-multi"] = ["a", "b"]
    make_handler(spy)(event, None)
    assert spy.environ["HTTP_X_CUSTOM"] == "1"
    assert spy.environ["HTTP_X_MULTI"] == "a,b"


def test_header_names_with_underscores_are_dropped_as_gunicorn_does(spy: Spy) -> None:
    event = build_event("tencent_url", "GET", "/", headers={"X-Forwarded-For": "10.0.0.1"})
    event["headers"]["x_forwarded_for"] = "6.6.6.6"  # would land on HTTP_X_FORWARDED_FOR
    make_handler(spy)(event, None)
    assert spy.environ["HTTP_X_FORWARDED_FOR"] == "10.0.0.1"


def test_fc_folded_host_header_is_unfolded_for_the_app() -> None:
    import json

    from flask import Flask, request, url_for

    app = Flask("host")

    @app.get("/x")
    def where() -> str:
        return f"{request.host} {url_for('where', _external=True)}"

    event = json.loads(build_event("alibaba_fc", "GET", "/x"))
    event["headers"]["Host"] = "abc.cn-hangzhou.fcapp.run,abc.cn-hangzhou.fcapp.run"
    body = make_handler(app)(json.dumps(event).encode(), None)["body"]
    assert body == "abc.cn-hangzhou.fcapp.run https://abc.cn-hangzhou.fcapp.run/x"


def test_non_ascii_header_values_are_utf8_bytes_as_latin1(spy: Spy) -> None:
    make_handler(spy)(build_event("cloudbase", "GET", "/", headers={"X-Name": "李雷"}), None)
    assert spy.environ["HTTP_X_NAME"].encode("latin-1").decode("utf-8") == "李雷"


def test_stale_content_length_is_replaced_by_the_body_length(spy: Spy) -> None:
    event = build_event("tencent_apigw", "POST", "/", body="0123456789abcdef")
    event["headers"]["content-length"] = "11"
    make_handler(spy)(event, None)
    assert spy.environ["CONTENT_LENGTH"] == "16"
    assert spy.input == b"0123456789abcdef"


@pytest.mark.parametrize(
    ("headers", "scheme", "port"),
    [
        ({"x-api-scheme": "http"}, "http", "80"),
        ({"x-api-scheme": "https"}, "https", "443"),
        ({}, "https", "443"),
        ({"host": "api.example.cn:8443"}, "https", "8443"),
    ],
)
def test_scheme_and_port(spy: Spy, headers: dict[str, str], scheme: str, port: str) -> None:
    event = build_event("tencent_apigw", "GET", "/")
    del event["headers"]["x-api-scheme"]
    event["headers"].update(headers)
    make_handler(spy)(event, None)
    assert spy.environ["wsgi.url_scheme"] == scheme
    assert spy.environ["SERVER_PORT"] == port


def test_client_ip_ignores_forwarded_for_unless_trusted(spy: Spy) -> None:
    event = build_event("tencent_apigw", "GET", "/", client_ip="198.51.100.1")
    event["headers"]["x-forwarded-for"] = "6.6.6.6"
    make_handler(spy)(event, None)
    assert spy.environ["REMOTE_ADDR"] == "198.51.100.1"
    make_handler(spy, trust_forwarded_for=True)(event, None)
    assert spy.environ["REMOTE_ADDR"] == "6.6.6.6"


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_every_platform_sets_request_id_and_client(spy: Spy, platform: str) -> None:
    event = build_event(platform, "GET", "/", client_ip="198.51.100.9", request_id="req-42")
    make_handler(spy)(event, build_context(platform, request_id="req-42"))
    assert spy.environ["faas_bridge.request_id"] == "req-42"
    assert spy.environ["REMOTE_ADDR"] == "198.51.100.9"
    assert spy.environ["faas_bridge.platform"] == platform


# ---------------------------------------------------------------------------------------------
# base path and stage


@pytest.mark.parametrize(
    ("path", "script_name", "path_info"),
    [
        ("/api/users", "/api", "/users"),
        ("/api", "/api", ""),
        ("/api/", "/api", "/"),
        ("/apix/users", "", "/apix/users"),  # not on a segment boundary: untouched
        ("/other", "", "/other"),
    ],
)
def test_base_path_is_stripped_on_segment_boundary(
    spy: Spy, path: str, script_name: str, path_info: str
) -> None:
    make_handler(spy, base_path="/api/")(build_event("tencent_url", "GET", path), None)
    assert spy.environ["SCRIPT_NAME"] == script_name
    assert spy.environ["PATH_INFO"] == path_info


def test_stage_prefix_on_default_domains_only(spy: Spy) -> None:
    handler = make_handler(spy, base_path="/api")
    for host, expected in [
        ("service-x-1250000000.gz.apigw.tencentcs.com", "/test/api"),
        ("service-x-1250000000.ap-guangzhou.apigateway.myqcloud.com", "/test/api"),
        ("service-x-1250000000.tencentapigw.com", "/test/api"),
        ("api.example.cn", "/api"),
    ]:
        handler(build_event("tencent_apigw", "GET", "/api/x", host=host, stage="test"), None)
        assert spy.environ["SCRIPT_NAME"] == expected, host
        assert spy.environ["PATH_INFO"] == "/x"
    make_handler(spy, stage_prefix=False)(build_event("tencent_apigw", "GET", "/x"), None)
    assert spy.environ["SCRIPT_NAME"] == ""


def test_memos_stay_bounded_and_keep_caching_new_traffic(spy: Spy) -> None:
    from faas_bridge import http

    handler = make_handler(spy)
    for number in range(http.MEMO_LIMIT * 2 + 5):
        handler(build_event("tencent_url", "GET", f"/item/{number}"), None)
        assert spy.environ["PATH_INFO"] == f"/item/{number}"
    assert 0 < len(http._SPLIT_PATHS) <= http.MEMO_LIMIT
    assert "/item/2052" in http._SPLIT_PATHS  # recent paths are cached again after a clear

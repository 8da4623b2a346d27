"""The recorded public events in ../shared/reference-events, each answered correctly.

The folder sits beside the repository (see its SOURCES.md); these tests skip without it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from faas_bridge import make_handler
from faas_bridge.testing import build_context, parse_response

from .conftest import Spy

REFERENCE = Path(
    os.environ.get(
        "FAAS_BRIDGE_REFERENCE_EVENTS",
        Path(__file__).resolve().parents[2] / "shared" / "reference-events",
    )
)
pytestmark = pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"{REFERENCE} not present")


def replay(name: str, platform: str, spy: Spy) -> dict[str, Any]:
    raw = (REFERENCE / name).read_bytes()
    event: Any = raw if platform == "alibaba_fc" else json.loads(raw)  # FC passes bytes
    result = make_handler(spy)(event, build_context(platform, request_id="ctx-id"))
    assert isinstance(result, dict)
    return result


def path_info(spy: Spy) -> str:
    return str(spy.environ["PATH_INFO"]).encode("latin-1").decode("utf-8")


# file, platform, method, path, script name, query, client ip, request id, scheme
CASES = [
    ("alibaba-fc3-http-aliyun-docs-1.json", "alibaba_fc", "GET", "/example", "",
     {"parameter1": ["value1"], "parameter2": ["value1,value2"]}, "11.11.11.**",
     "1-64f6cd87-*************", "https"),
    ("alibaba-fc3-http-devsapp-fc3-1.json", "alibaba_fc", "POST",
     "/2023-03-30/functions/fc3-event-test-http-trigger-Darwin-x86_64/invocations", "", {},
     "112.10.236.5", "ctx-id", "https"),
    ("alibaba-fc3-http-heimdallr-proxy-1.json", "alibaba_fc", "POST", "/", "", {},
     "222.71.68.3", "1-699d51ea-160a87-54c1b40505c9", "https"),
    ("cloudbase-http-cloudbase-docs-1.json", "cloudbase", "GET", "/", "", {}, None,
     "cdbb96328072184d19d3fcd243e8cc4d", "https"),
    ("tencent-apigw-qcloud-docs-1.json", "tencent_apigw", "POST", "/test/value", "",
     {"foo": ["bar"], "bob": ["alice"]}, "10.0.2.14", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
     "https"),
    ("tencent-apigw-scf-go-lib-1.json", "tencent_apigw", "GET", "/ritchiechen-apigw-test",
     "/test", {"a": ["b", "c"], "x": ["y"], "i": [""]}, "8.8.8.8", "ctx-id", "https"),
    ("tencent-apigw-serverless-tencent-1.json", "tencent_apigw", "GET", "/", "/release", {},
     "20.197.69.95", "dd07d1c3558237a8881322d5f8109e5e", "http"),
    ("tencent-apigw-serverless-tencent-2.json", "tencent_apigw", "GET", "/", "/release", {},
     "20.197.69.95", "73837518616af99bbeace99522926399", "https"),
    ("tencent-apigw-userrepo-qianxi-1.json", "tencent_apigw", "GET", "/qianxi", "/release", {},
     "183.239.147.178", "6d7a4cb935e001a8d31405d5d8ec00a4", "https"),
    ("tencent-apigw-wasm-learning-1.json", "tencent_apigw", "POST", "/my_hk", "/release", {},
     "136.49.211.114", "e3123014742e7dd79f0652968bf1f62e", "https"),
    ("tencent-funcurl-scf-docs-1.json", "tencent_url", "POST", "/", "",
     {"a": ["1"], "b": ["2"]}, "111.206.96.145", "ctx-id", "https"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "platform", "method", "path", "script_name", "query", "client", "request_id",
     "scheme"),
    CASES,
    ids=[case[0] for case in CASES],
)  # fmt: skip
def test_recorded_event(
    name: str,
    platform: str,
    method: str,
    path: str,
    script_name: str,
    query: dict[str, list[str]],
    client: str | None,
    request_id: str,
    scheme: str,
) -> None:
    spy = Spy(
        headers=[("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    )
    result = replay(name, platform, spy)
    assert result["statusCode"] == 200
    assert parse_response(platform, result).cookies == {"a": "1", "b": "2"}
    env = spy.environ
    assert env["faas_bridge.platform"] == platform
    assert env["REQUEST_METHOD"] == method
    assert path_info(spy) == path
    assert env["SCRIPT_NAME"] == script_name
    assert parse_qs(env["QUERY_STRING"], keep_blank_values=True) == query
    assert env.get("REMOTE_ADDR") == client
    assert env["faas_bridge.request_id"] == request_id
    assert env["wsgi.url_scheme"] == scheme
    decoded = json.loads((REFERENCE / name).read_bytes())
    assert spy.input == (decoded.get("body") or "").encode()


def test_fc_folded_host_header_is_unfolded() -> None:
    spy = Spy()
    replay("alibaba-fc3-http-heimdallr-proxy-1.json", "alibaba_fc", spy)
    assert spy.environ["SERVER_NAME"] == "checkchlr-proxy-ggsguhdmtj.cn-shanghai.fcapp.run"
    # frameworks build URLs from the Host header itself: it must be unfolded too
    assert spy.environ["HTTP_HOST"] == "checkchlr-proxy-ggsguhdmtj.cn-shanghai.fcapp.run"
    assert json.loads(spy.input)["id"].startswith("监测任务")


def test_stale_content_length_in_recorded_event() -> None:
    spy = Spy()
    replay("tencent-apigw-wasm-learning-1.json", "tencent_apigw", spy)
    assert spy.environ["CONTENT_LENGTH"] == str(len(spy.input)) != "11"


def test_doc_event_with_string_flag_and_non_base64_body_reaches_the_app() -> None:
    # The API Gateway doc flags its body "{key:value}" as base64 with the string "true".
    # That body is not base64: a gateway sample must not fail, so it passes through as text.
    spy = Spy()
    result = replay("tencent-apigw-apigw-docs-1.json", "tencent_apigw", spy)
    assert result["statusCode"] == 200
    assert spy.input == b"{key:value}"


@pytest.mark.parametrize(
    ("name", "platform", "headers"),
    [
        (
            "tencent-apigw-response-qcloud-docs-1.json",
            "tencent_apigw",
            [("Content-Type", "text/html")],
        ),
        (
            "tencent-apigw-response-qcloud-docs-2.json",
            "tencent_apigw",
            [
                ("Content-Type", "text/html"),
                ("Key", "value1"),
                ("Key", "value2"),
                ("Key", "value3"),
            ],
        ),
        (
            "cloudbase-http-response-cloudbase-docs-1.json",
            "cloudbase",
            [("content-type", "image/png")],
        ),
    ],
)
def test_documented_responses_decode(
    name: str, platform: str, headers: list[tuple[str, str]]
) -> None:
    returned = json.loads((REFERENCE / name).read_bytes())
    if returned["isBase64Encoded"]:  # the doc truncates its PNG with "..."
        returned["body"] = returned["body"].rstrip(".")
        returned["body"] += "=" * (-len(returned["body"]) % 4)
    response = parse_response(platform, returned)
    assert response.status_code == 200
    assert response.headers.items() == headers
    if platform == "cloudbase":
        assert response.content.startswith(b"\x89PNG")

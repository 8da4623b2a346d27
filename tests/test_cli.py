"""``faas-bridge invoke`` and ``faas-bridge events``, run as a user runs them: a subprocess."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from faas_bridge.testing import list_events, load_event, trigger_kinds

APP = """
import json
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/echo/<path:rest>", methods=["GET", "POST", "PUT"])
def echo(rest):
    return jsonify(
        method=request.method,
        path=request.path,
        args=request.args.to_dict(flat=False),
        headers={k: v for k, v in request.headers.items() if k.startswith("X-")},
        content_type=request.content_type,
        body=request.get_data(as_text=True),
        request_id=request.environ.get("faas_bridge.request_id"),
    )


@app.get("/商品/列表")
def listing():
    return jsonify(args=request.args.to_dict(flat=False), client=request.remote_addr)


@app.get("/pixel.png")
def pixel():
    return b"\\x89PNG\\r\\n\\x1a\\n", 200, {"Content-Type": "image/png"}


@app.get("/cookies")
def cookies():
    response = jsonify(ok=True)
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    return response


@app.get("/boom")
def boom():
    raise RuntimeError("kaput")
"""

ASGI_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def listing(request):
    return JSONResponse(
        {"path": request.url.path, "tags": request.query_params.getlist("tag")}
    )

app = Starlette(routes=[Route("/商品/列表", listing)])
"""

HANDLERS = '''
def main_handler(event, context):
    """A hand-written handler, no faas_bridge involved."""
    return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "hand-made"}


def not_integrated(event, context):
    return {"message": "no statusCode"}


def raises(event, context):
    raise ValueError("handler bug")


def timer(event, context):
    return {"seen": event}


number = 42
'''

FACTORIES = """
from flask import Flask


def create_app(config=None):
    app = Flask(__name__)

    @app.get("/")
    def home():
        return "made by the factory"

    return app


def failing_factory():
    raise RuntimeError("no config")


async def async_handler(event, context):
    return {"statusCode": 200, "body": "never"}
"""


def run(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faas_bridge", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The stderr of a failed command: exactly one line, no traceback."""
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("faas-bridge: error: ")
    return lines[0]


def http_parts(output: str) -> tuple[str, dict[str, list[str]], str]:
    head, _, body = output.partition("\n\n")
    status, *header_lines = head.splitlines()
    headers: dict[str, list[str]] = {}
    for line in header_lines:
        name, _, value = line.partition(": ")
        headers.setdefault(name.lower(), []).append(value)
    return status, headers, body


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder: Path = tmp_path_factory.mktemp("project")
    (folder / "app.py").write_text(APP, encoding="utf-8")
    (folder / "handlers.py").write_text(HANDLERS, encoding="utf-8")
    (folder / "broken.py").write_text("import no_such_module_anywhere\n", encoding="utf-8")
    (folder / "factories.py").write_text(FACTORIES, encoding="utf-8")
    (folder / "pkg").mkdir()
    (folder / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (folder / "pkg" / "models.py").write_text("NAME = 'models'\n", encoding="utf-8")
    (folder / "pkg" / "views.py").write_text(
        "from flask import Flask\nfrom .models import NAME\napp = Flask(NAME)\n", encoding="utf-8"
    )
    (folder / "event.json").write_text(
        json.dumps(load_event("tencent_apigw/get_query")), encoding="utf-8"
    )
    (folder / "bad.json").write_text("{not json", encoding="utf-8")
    (folder / "list.json").write_text("[1, 2]", encoding="utf-8")
    (folder / "context.json").write_text('{"request_id": "ctx-7"}', encoding="utf-8")
    (folder / "body.bin").write_bytes(bytes(range(256)))
    return folder


# ---------------------------------------------------------------------------------------------
# events


def test_events_without_platform_lists_every_sample(project: Path) -> None:
    result = run(project, "events")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == [*list_events(), *trigger_kinds()]  # then the non-HTTP trigger kinds


def test_events_prints_a_built_event(project: Path) -> None:
    result = run(
        project,
        "events",
        "tencent_apigw",
        "--path",
        "/商品?page=2",
        "--query",
        "tag=a",
        "--query",
        "tag=b",
        "--query",
        "debug",
        "-H",
        "X-Trace: 7",
    )
    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout)
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/商品"
    assert event["queryString"] == {"page": "2", "tag": ["a", "b"], "debug": True}
    assert event["headers"]["x-trace"] == "7"
    assert event["requestContext"]["stage"] == "release"


def test_events_for_alibaba_fc_prints_the_decoded_json(project: Path) -> None:
    result = run(project, "events", "alibaba_fc", "--path", "/你好", "-d", '{"a": 1}')
    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout)
    assert event["rawPath"] == "/%E4%BD%A0%E5%A5%BD"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["body"] == '{"a": 1}'


def test_events_prints_a_sample(project: Path) -> None:
    result = run(project, "events", "cloudbase/json_post")
    assert result.returncode == 0
    assert json.loads(result.stdout) == load_event("cloudbase/json_post")


@pytest.mark.parametrize(
    "args",
    [
        ["events", "aws"],
        ["events", "--path", "/x"],
        ["events", "cloudbase/timer", "-X", "PUT"],
        ["events", "tencent_url", "-H", "no-colon"],
    ],
)
def test_events_usage_errors(project: Path, args: list[str]) -> None:
    result = run(project, *args)
    assert result.returncode == 2
    one_line_error(result)


# ---------------------------------------------------------------------------------------------
# invoke: success


def test_invoke_an_app_from_a_file_with_request_flags(project: Path) -> None:
    result = run(
        project,
        "invoke",
        "app.py:app",
        "--platform",
        "cloudbase",
        "--path",
        "/echo/云",
        "--query",
        "k=v",
        "-H",
        "X-Custom: yes",
        "-d",
        '{"n": 1}',
    )
    assert result.returncode == 0, result.stderr
    status, headers, body = http_parts(result.stdout)
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-type"] == ["application/json"]
    seen = json.loads(body)
    assert seen["method"] == "POST"  # --data implies POST
    assert seen["path"] == "/echo/云"
    assert seen["args"] == {"k": ["v"]}
    assert seen["headers"]["X-Custom"] == "yes"
    assert seen["headers"]["X-Cloudbase-Request-Id"]  # added by CloudBase's gateway
    assert (seen["content_type"], seen["body"]) == ("application/json", '{"n": 1}')


def test_invoke_a_module_attribute_with_a_sample_event(project: Path) -> None:
    result = run(project, "invoke", "app:app", "--event", "alibaba_fc/get_query")
    assert result.returncode == 0, result.stderr
    status, _, body = http_parts(result.stdout)
    assert status == "HTTP/1.1 200 OK"
    # FC joins repeated query keys before the function sees them
    assert json.loads(body) == {
        "args": {"tag": ["绿茶,红茶"], "page": ["2"], "debug": [""]},
        "client": "198.51.100.23",
    }


def test_invoke_detects_the_platform_of_an_event_file(project: Path) -> None:
    event = load_event("tencent_apigw/get_query")
    event["path"] = "/echo/x"
    (project / "echo.json").write_text(json.dumps(event), encoding="utf-8")
    result = run(project, "invoke", "app:app", "--event", "echo.json", "--context", "context.json")
    assert result.returncode == 0, result.stderr
    seen = json.loads(http_parts(result.stdout)[2])
    assert seen["args"] == {"tag": ["绿茶", "红茶"], "page": ["2"], "debug": [""]}
    # the sample carries x-api-requestid, which wins over the context's request id
    assert seen["request_id"] == "6f1c2d3e4a5b46c7889900aabbccddee"


def test_invoke_reads_the_event_from_stdin(project: Path) -> None:
    event = json.loads(load_event("alibaba_fc/json_post"))
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/echo/stdin"
    result = run(project, "invoke", "app:app", "--event", "-", stdin=json.dumps(event))
    assert result.returncode == 0, result.stderr
    seen = json.loads(http_parts(result.stdout)[2])
    assert (seen["path"], seen["body"]) == ("/echo/stdin", '{"name": "普洱", "price": 88}')


def test_invoke_raw_prints_the_platform_return_value(project: Path) -> None:
    result = run(project, "invoke", "app:app", "-p", "alibaba_fc", "--path", "/cookies", "--raw")
    assert result.returncode == 0, result.stderr
    returned = json.loads(result.stdout)
    assert returned["statusCode"] == 200
    assert all(isinstance(value, str) for value in returned["headers"].values())
    cookies = [v for k, v in returned["headers"].items() if k.lower() == "set-cookie"]
    assert sorted(c.split(";")[0] for c in cookies) == ["a=1", "b=2"]


def test_invoke_prints_every_cookie(project: Path) -> None:
    result = run(project, "invoke", "app:app", "-p", "tencent_url", "--path", "/cookies")
    assert result.returncode == 0, result.stderr
    cookies = http_parts(result.stdout)[1]["set-cookie"]
    assert [c.split(";")[0] for c in cookies] == ["a=1", "b=2"]


def test_invoke_summarises_a_binary_body(project: Path) -> None:
    result = run(project, "invoke", "app:app", "--path", "/pixel.png")
    assert result.returncode == 0, result.stderr
    assert "[8 bytes of image/png content" in result.stdout
    raw = json.loads(run(project, "invoke", "app:app", "--path", "/pixel.png", "--raw").stdout)
    assert base64.b64decode(raw["body"]) == b"\x89PNG\r\n\x1a\n"


def test_invoke_sends_a_data_file(project: Path) -> None:
    result = run(project, "invoke", "app:app", "-X", "PUT", "--path", "/echo/f", "-d", "@body.bin")
    assert result.returncode == 0, result.stderr
    seen = json.loads(http_parts(result.stdout)[2])
    assert (seen["method"], seen["content_type"]) == ("PUT", "application/octet-stream")


def test_invoke_a_hand_written_handler(project: Path) -> None:
    result = run(project, "invoke", "handlers.py:main_handler", "-p", "tencent_url")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\n\nhand-made\n")


def test_invoke_a_timer_event_prints_the_return_value(project: Path) -> None:
    result = run(project, "invoke", "handlers:timer", "--event", "tencent_apigw/timer")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["seen"]["Type"] == "Timer"


def test_an_app_error_is_a_500_response_not_a_cli_failure(project: Path) -> None:
    result = run(project, "invoke", "app:app", "--path", "/boom")
    assert result.returncode == 0
    assert result.stdout.startswith("HTTP/1.1 500 Internal Server Error")
    assert "RuntimeError: kaput" in result.stderr  # the app's logged traceback


# ---------------------------------------------------------------------------------------------
# invoke: failures, each one line on stderr with its exit code


def test_a_handler_exception_exits_1_with_its_traceback(project: Path) -> None:
    result = run(project, "invoke", "handlers:raises")
    assert result.returncode == 1
    assert "Traceback" in result.stderr  # the user's own bug: the traceback helps
    last = result.stderr.strip().splitlines()[-1]
    assert last == "faas-bridge: error: the handler raised ValueError: handler bug"


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["handlers:not_integrated"], 1, "invalid response: tencent_apigw:"),
        (["app:app", "--event", "tencent_url/timer"], 1, "UnknownEventError"),
        (["missing.py:app"], 3, "no such file: missing.py"),
        (["broken:app"], 3, "cannot import 'broken': ModuleNotFoundError"),
        (["app:nope"], 3, "has no attribute 'nope'"),
        (["handlers:number"], 3, "not a handler or a WSGI/ASGI app"),
        (["app:app", "--event", "nowhere.json"], 4, "no event file or sample named"),
        (["app:app", "--event", "bad.json"], 4, "bad.json is not valid JSON"),
        (["app:app", "--event", "list.json"], 4, "not an event object"),
        (["app:app", "--context", "bad.json"], 4, "--context bad.json is not valid JSON"),
        (["app:app", "--context", "nowhere.json"], 4, "cannot read --context"),
        (["app:app", "-d", "@nowhere.bin"], 4, "cannot read --data file"),
        (
            ["app:app", "--event", "event.json", "-p", "alibaba_fc"],
            4,
            "event, but --platform is alibaba_fc",
        ),
        (["app:app", "--platform", "aws"], 2, "unknown platform 'aws'"),
        (["handlers:timer", "--event", "tencent_url/timer", "--path", "/x"], 2, "not an HTTP"),
        (["app:app", "-d", "x", "-F", "a=1"], 2, "give --data or --form, not both"),
        (["app:app", "-F", "novalue"], 2, "--form expects NAME=VALUE"),
        (["app:app", "--path", "/pixel.png", "-o", "body.bin"], 2, "body.bin exists"),
        # issue 18: a factory, an async handler and a file with relative imports
        (["factories:create_app"], 3, "looks like an app factory"),
        (["factories:async_handler"], 3, "async function of two arguments"),
        (["factories:failing_factory()"], 3, "factory failing_factory() raised RuntimeError"),
        (["pkg/views.py:app"], 3, "'pkg.views:app'"),
    ],
)
def test_invoke_failures(project: Path, args: list[str], exit_code: int, message: str) -> None:
    result = run(project, "invoke", *args)
    assert result.returncode == exit_code, result.stderr
    assert message in one_line_error(result)


def test_invoke_an_asgi_app(project: Path) -> None:
    pytest.importorskip("starlette")
    from faas_bridge import ConfigurationError, make_handler

    async def probe(scope: object, receive: object, send: object) -> None:
        pass

    try:
        make_handler(probe)
    except ConfigurationError:
        pytest.skip("this faas_bridge does not run ASGI apps yet")
    (project / "asgi_app.py").write_text(ASGI_APP, encoding="utf-8")
    result = run(project, "invoke", "asgi_app.py:app", "--event", "tencent_url/get_query")
    assert result.returncode == 0, result.stderr
    status, _, body = http_parts(result.stdout)
    assert status == "HTTP/1.1 200 OK"
    assert json.loads(body) == {"path": "/商品/列表", "tags": ["绿茶", "红茶"]}


def test_help_lists_the_commands(project: Path) -> None:
    result = run(project, "--help")
    assert result.returncode == 0
    assert "invoke" in result.stdout
    assert "events" in result.stdout


# ---------------------------------------------------------------------------------------------
# issue 18: factories, sample events changed by the request flags, -F, -o, -q


@pytest.mark.parametrize(
    "target", [["factories:create_app()"], ["factories:create_app", "--factory"]]
)
def test_invoke_calls_an_app_factory(project: Path, target: list[str]) -> None:
    result = run(project, "invoke", *target, "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "made by the factory\n"


def test_a_package_module_with_relative_imports_loads_by_its_dotted_name(project: Path) -> None:
    result = run(project, "invoke", "pkg.views:app", "--path", "/nothing")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("HTTP/1.1 404")


def test_the_request_flags_change_a_sample(project: Path) -> None:
    # Issue 18: `invoke --event SAMPLE --path /books` was refused.
    result = run(
        project,
        "invoke",
        "app:app",
        "--event",
        "tencent_apigw/json_post",
        "--path",
        "/echo/books",
        "-X",
        "PUT",
        "--query",
        "a=1",
        "-H",
        "X-Extra: yes",
        "-d",
        "plain",
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(http_parts(result.stdout)[2])
    assert seen["method"] == "PUT"
    assert seen["path"] == "/echo/books"
    assert seen["args"] == {"a": ["1"]}
    assert seen["headers"]["X-Extra"] == "yes"
    assert (seen["body"], seen["content_type"]) == ("plain", "text/plain; charset=utf-8")


def test_a_sample_keeps_what_the_flags_do_not_give(project: Path) -> None:
    result = run(
        project, "invoke", "app:app", "--event", "alibaba_fc/json_post", "--path", "/echo/x"
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(http_parts(result.stdout)[2])
    assert (seen["method"], seen["path"]) == ("POST", "/echo/x")
    assert (seen["content_type"], seen["body"]) == (
        "application/json",
        '{"name": "普洱", "price": 88}',
    )


def test_events_prints_a_sample_with_another_path(project: Path) -> None:
    result = run(project, "events", "cloudbase/get_query", "--path", "/books", "-X", "HEAD")
    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout)
    assert (event["httpMethod"], event["path"]) == ("HEAD", "/books")
    assert event["headers"]["user-agent"].startswith("Mozilla")  # the sample's, kept


def test_events_lists_the_method_and_path_of_each_sample(project: Path) -> None:
    lines = run(project, "events").stdout.splitlines()
    json_post = next(line for line in lines if line.startswith("tencent_apigw/json_post "))
    assert json_post.split()[1:3] == ["POST", "/api/items"]
    query = next(line for line in lines if line.startswith("cloudbase/get_query "))
    assert query.split()[1:3] == ["GET", "/商品/列表?tag=绿茶&tag=红茶&page=2&debug"]
    # the description column starts at one terminal column on every line, CJK included
    from unicodedata import east_asian_width

    def columns(text: str) -> int:
        return sum(2 if east_asian_width(char) in "WF" else 1 for char in text)

    descriptions = list(list_events().values())
    starts = {columns(line[: line.index(d)]) for line, d in zip(lines, descriptions)}
    assert len(starts) == 1


def test_invoke_sends_a_multipart_form(project: Path) -> None:
    result = run(
        project, "invoke", "app:app", "--path", "/echo/up", "-F", "title=照片", "-F", "f=@body.bin"
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(http_parts(result.stdout)[2])
    assert seen["method"] == "POST"
    assert seen["content_type"].startswith("multipart/form-data; boundary=")


def test_invoke_writes_a_binary_body_to_a_new_file(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "pixel.png"
    result = run(project, "invoke", "app:app", "--path", "/pixel.png", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == b"\x89PNG\r\n\x1a\n"
    assert result.stdout.startswith("HTTP/1.1 200 OK\n")
    assert f"[8 bytes written to {target}]" in result.stdout


def test_quiet_prints_the_body_only(project: Path) -> None:
    result = run(project, "invoke", "app:app", "--path", "/echo/q", "--query", "k=v", "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["args"] == {"k": ["v"]}


def test_invoke_sends_a_trigger_event_to_the_events_path(project: Path) -> None:
    result = run(
        project, "invoke", "app:app", "--trigger", "alibaba.timer", "--events-path", "/echo/job"
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert (seen["method"], seen["path"]) == ("POST", "/echo/job")
    assert seen["headers"]["X-Faas-Bridge-Event-Kind"] == "alibaba.timer"
    assert json.loads(seen["body"])["triggerName"] == "daily-report"


def test_an_events_path_that_is_no_path_is_bad_usage(project: Path) -> None:
    """A mistyped --events-path is a usage mistake (exit 2), found before the app is
    imported; it was exit 3, "cannot run the target", as if the app were at fault."""
    for command in (
        ("invoke", "app:app", "--trigger", "tencent.timer", "--events-path", "_events"),
        ("emulate", "app:app", "-p", "alibaba_fc", "--events-path", "_events"),
    ):
        result = run(project, *command)
        assert result.returncode == 2, result.stderr
        assert "--events-path must be an absolute path like '/_events'" in one_line_error(result)


def test_trigger_kinds_are_listed_and_printed(project: Path) -> None:
    listed = run(project, "events")
    assert "tencent.cos" in listed.stdout
    assert "alibaba.sls" in listed.stdout
    printed = run(project, "events", "tencent.timer")
    assert json.loads(printed.stdout)["Type"] == "Timer"
    unknown = run(project, "invoke", "app:app", "--trigger", "aws.s3")
    assert unknown.returncode == 2
    assert "unknown event kind 'aws.s3'" in one_line_error(unknown)

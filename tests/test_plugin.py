"""The pytest plugin, run through pytester on a small sample project, as a user would."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from faas_bridge import ConfigurationError, make_handler
from faas_bridge.testing import PLATFORM_NAMES
from faas_bridge.testing.plugin import ALL_PLATFORMS

pytest_plugins = ["pytester"]

APP = """
from flask import Flask, jsonify, request, make_response

app = Flask(__name__)


@app.get("/hello")
def hello():
    return jsonify(greeting="你好", name=request.args.get("name"))


@app.post("/login")
def login():
    response = make_response("", 204)
    response.set_cookie("session", request.form["user"])
    response.set_cookie("theme", "dark")
    return response


@app.get("/me")
def me():
    return jsonify(user=request.cookies.get("session"), theme=request.cookies.get("theme"))
"""

CONFTEST = """
import pytest
from faas_bridge import make_handler
from faas_demo_app import app


@pytest.fixture
def faas_handler():
    return make_handler(app)
"""

TESTS = """
import pytest


def test_hello(faas_client, faas_platform):
    response = faas_client.get("/hello?name=lin")
    assert response.status_code == 200
    assert response.json() == {"greeting": "你好", "name": "lin"}
    assert faas_client.platform == faas_platform


def test_cookies_survive_a_login(faas_client):
    assert faas_client.post("/login", data={"user": "lin"}).status_code == 204
    assert faas_client.get("/me").json() == {"user": "lin", "theme": "dark"}


@pytest.mark.faas_platforms("alibaba_fc", "tencent_url")
def test_narrowed(faas_platform):
    assert faas_platform in ("alibaba_fc", "tencent_url")
"""


def plugin_args() -> list[str]:
    """Load the plugin explicitly only where the installed entry point is missing.

    In-process runs see faas_bridge already imported, which pytest's assertion rewriting
    (applied to plugin packages) warns about; a real session does not. Hypothesis's plugin is
    left out of the inner sessions: loading it took about 1 s of each run.
    """
    entry_points = importlib.metadata.entry_points()
    group = (
        entry_points.select(group="pytest11")
        if hasattr(entry_points, "select")
        else entry_points.get("pytest11", [])
    )
    installed = any(entry.value == "faas_bridge.testing.plugin" for entry in group)
    quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning", "-p", "no:hypothesispytest"]
    return quiet if installed else [*quiet, "-p", "faas_bridge.testing.plugin"]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(faas_demo_app=APP, conftest=CONFTEST, test_app=TESTS)
    pytester.syspathinsert()
    return pytester


def test_the_platform_list_matches_the_testing_module() -> None:
    assert ALL_PLATFORMS == PLATFORM_NAMES


def test_one_test_body_runs_on_every_format(project: pytest.Pytester) -> None:
    result = project.runpytest("-v", *plugin_args())
    result.assert_outcomes(passed=2 * len(PLATFORM_NAMES) + 2)
    for name in PLATFORM_NAMES:
        result.stdout.fnmatch_lines([f"*test_hello?{name}? PASSED*"])
    result.stdout.fnmatch_lines(["*test_narrowed?alibaba_fc? PASSED*"])
    assert "test_narrowed[cloudbase]" not in result.stdout.str()


def test_the_command_line_option_narrows_every_test(project: pytest.Pytester) -> None:
    result = project.runpytest("-v", "--faas-platform", "cloudbase,alibaba_fc", *plugin_args())
    result.assert_outcomes(passed=2 + 2 + 1)
    assert "[tencent_apigw]" not in result.stdout.str()


def test_an_unknown_option_value_is_a_usage_error(project: pytest.Pytester) -> None:
    result = project.runpytest("--faas-platform", "aws", *plugin_args())
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown event format 'aws'*"])


def test_an_unknown_marker_name_fails_that_test_clearly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.faas_platforms("tencent", "alibaba_fc")
        def test_x(faas_platform):
            pass
        """
    )
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*faas_platforms() needs event format names*'tencent'*"])


def test_a_missing_faas_handler_fixture_is_explained(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(faas_client):\n    pass\n")
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(errors=len(PLATFORM_NAMES))
    result.stdout.fnmatch_lines(["*needs a 'faas_handler' fixture*"])


def test_a_plain_handler_function_and_a_bare_app_both_work(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import json
        import pytest


        def handler(event, context):
            return {"statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "hi"}


        def wsgi_app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [environ["PATH_INFO"].encode()]


        @pytest.fixture(params=["handler", "app"])
        def faas_handler(request):
            return handler if request.param == "handler" else wsgi_app


        @pytest.mark.faas_platforms("tencent_apigw", "alibaba_fc")
        def test_it(faas_client, faas_handler):
            expected = "hi" if faas_handler is handler else "/x"
            assert faas_client.get("/x").text == expected
        """
    )
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(passed=4)


def test_a_test_may_parametrize_faas_platform_itself(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("faas_platform", ["cloudbase"])
        def test_x(faas_platform):
            assert faas_platform == "cloudbase"
        """
    )
    pytester.runpytest(*plugin_args()).assert_outcomes(passed=1)


def test_the_plugin_registers_its_marker_for_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.faas_platforms("cloudbase")
        def test_x(faas_platform):
            assert faas_platform == "cloudbase"
        """
    )
    pytester.runpytest("--strict-markers", *plugin_args()).assert_outcomes(passed=1)


def test_loading_the_plugin_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    code = (
        "import sys; before = set(sys.modules)\n"
        "import faas_bridge.testing.plugin\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(n for n in new if n.startswith('faas_bridge') or n in "
        "('json', 'asyncio', 'uuid', 'werkzeug', 'flask')))\n"
    )
    result = pytester.run(__import__("sys").executable, "-c", "import pytest\n" + code)
    assert result.ret == 0
    loaded = eval(result.stdout.str().strip().splitlines()[-1])
    assert not {"faas_bridge.testing.events", "faas_bridge.testing.client"} & set(loaded)
    assert not {"asyncio", "uuid", "werkzeug", "flask"} & set(loaded)


@pytest.fixture
def asgi_supported() -> None:
    async def probe(scope: object, receive: object, send: object) -> None:
        pass

    try:
        make_handler(probe)
    except ConfigurationError:
        pytest.skip("this faas_bridge does not run ASGI apps yet")


@pytest.mark.usefixtures("asgi_supported")
def test_an_asgi_app_through_the_plugin(pytester: pytest.Pytester) -> None:
    pytest.importorskip("starlette")
    pytester.makepyfile(
        """
        import pytest
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route


        async def hello(request):
            return JSONResponse({"path": request.scope["path"], "q": request.query_params["q"]})


        @pytest.fixture
        def faas_handler():
            return Starlette(routes=[Route("/hello", hello)])


        def test_it(faas_client):
            seen = faas_client.get("/hello?q=云").json()
            assert seen["path"].endswith("/hello")  # behind "/release" on API Gateway domains
            assert seen["q"] == "云"
        """
    )
    pytester.runpytest(*plugin_args()).assert_outcomes(passed=len(PLATFORM_NAMES))


def test_plain_pytest_imports_the_index_beside_tests(pytester: pytest.Pytester) -> None:
    # Issue 18: README's layout failed under the `pytest` command with "No module named
    # 'index'" (only `python -m pytest` put the project folder on sys.path).
    pytester.makepyfile(
        app="from flask import Flask\napp = Flask(__name__)\n"
        "@app.get('/')\ndef home():\n    return 'home'\n",
        index="from faas_bridge import make_handler\nfrom app import app\n"
        "main_handler = make_handler(app)\n",
    )
    tests = pytester.mkdir("tests")
    (tests / "test_app.py").write_text(
        "import pytest\nfrom index import main_handler\n\n"
        "@pytest.fixture\ndef faas_handler():\n    return main_handler\n\n"
        "def test_home(faas_client):\n    assert faas_client.get('/').text == 'home'\n"
    )
    pytester.makeini("[pytest]\n")
    # not pytester.run: it puts the folder on PYTHONPATH, which hides the problem
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    command = [str(Path(sys.executable).with_name("pytest")), "-p", "no:cacheprovider", "-q"]
    done = subprocess.run(
        command, cwd=pytester.path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(PLATFORM_NAMES)} passed" in done.stdout


def test_a_marker_replays_every_recorded_event_of_a_folder(pytester: pytest.Pytester) -> None:
    from faas_bridge.testing import build_event, build_timer_event

    folder = pytester.path / "tests" / "recorded"
    folder.mkdir(parents=True)
    events = {
        "tencent_apigw__GET_hello.json": build_event("tencent_apigw", "GET", "/hello"),
        "alibaba_apigw__GET_missing.json": json.loads(
            build_event("alibaba_apigw", "GET", "/missing")
        ),
        "event__tencent.timer.json": build_timer_event("tencent"),
    }
    for name, event in events.items():
        (folder / name).write_text(json.dumps(event), encoding="utf-8")
    pytester.makepyfile(
        """
        import pytest
        from flask import Flask
        from faas_bridge import make_handler
        from faas_bridge.testing import TestResponse, replay

        app = Flask(__name__)
        app.add_url_rule("/hello", "hello", lambda: "hi")
        app.add_url_rule("/_events", "events", lambda: {"ok": True}, methods=["POST"])

        @pytest.fixture
        def faas_handler():
            return make_handler(app, events_path="/_events")

        @pytest.mark.faas_recorded_events("tests/recorded")
        def test_recorded(faas_handler, faas_recorded_event):
            answer = replay(faas_handler, faas_recorded_event)
            if isinstance(answer, TestResponse):
                assert answer.status_code == 200, faas_recorded_event.name
            else:
                assert answer == {"ok": True}
        """
    )
    result = pytester.runpytest("-v", *plugin_args())
    result.assert_outcomes(passed=2, failed=1)  # /missing is a 404
    result.stdout.fnmatch_lines(["*test_recorded?event__tencent.timer.json? PASSED*"])
    result.stdout.fnmatch_lines(["*test_recorded?alibaba_apigw__GET_missing.json? FAILED*"])


def test_a_missing_recorded_folder_fails_clearly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(faas_recorded_event):\n    pass\n")
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*faas_recorded_events: no folder of recorded events at*"])

"""make_handler(app, commands=True): a direct-invoke command event runs a Django management
command, a Flask CLI command or a Python snippet in the function; off by default, never
reachable from an HTTP trigger or the events_path route. Real Flask and Django apps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from flask import Flask, jsonify, request

from faas_bridge import UnknownEventError, event_kind, make_handler
from faas_bridge.clouds import trigger_sample
from faas_bridge.commands import OUTPUT_LIMIT, command_event
from faas_bridge.platforms import PLATFORM_NAMES
from faas_bridge.testing import build_context, build_event, build_timer_event, parse_response

from . import probe

ran: list[str] = []


def flask_app() -> Flask:
    app = Flask("shop")

    @app.cli.command("hello")
    def hello() -> None:
        ran.append("hello")
        print("hello 云")

    @app.route("/<path:rest>", methods=["GET", "POST"])
    def echo(rest: str) -> Any:
        return jsonify(path=request.path, body=request.get_json(silent=True))

    return app


def test_a_flask_cli_command_runs_and_its_output_returns() -> None:
    handler = make_handler(flask_app(), commands=True)
    result = handler(command_event("flask", ["hello"]), None)
    assert result == {"exit_status": 0, "output": "hello 云\n", "truncated": False}
    routes = handler(command_event("flask", ["routes"]), None)
    assert routes["exit_status"] == 0
    assert "echo" in routes["output"]
    missing = handler(command_event("flask", ["nope"]), None)
    assert missing["exit_status"] == 2
    assert "No such command 'nope'" in missing["output"]


def test_a_django_management_command_runs() -> None:
    handler = make_handler(probe.make_django_wsgi_app(), commands=True)
    check = handler(command_event("django", ["check"]), build_context("alibaba_fc"))
    assert check["exit_status"] == 0
    assert "System check identified no issues" in check["output"]
    unknown = handler(command_event("django", ["no_such_command"]), None)
    assert unknown["exit_status"] == 1
    assert "Unknown command" in unknown["output"]


def test_python_snippets_exit_statuses_and_bounded_output() -> None:
    handler = make_handler(flask_app(), commands=True)
    assert handler(command_event("python", ["print(app.name)"]), None)["output"] == "shop\n"
    failed = handler(command_event("python", ["1 / 0"]), None)
    assert failed["exit_status"] == 1
    assert "ZeroDivisionError" in failed["output"]
    assert handler(command_event("python", ["raise SystemExit(3)"]), None)["exit_status"] == 3
    flood = handler(command_event("python", ["print('x' * 200000)"]), None)
    assert len(flood["output"]) == OUTPUT_LIMIT
    assert flood["truncated"] is True


def test_the_contexts_credentials_never_appear_in_the_output() -> None:
    handler = make_handler(flask_app(), commands=True)
    context = build_context(
        "alibaba_fc",
        credentials={"access_key_secret": "SECRET-abc-123", "security_token": "T0KEN-xyz"},
    )
    snippet = (
        "import sys\nprint(sys._getframe().f_globals.get('x', ''), 'SECRET-abc-123 T0KEN-xyz')"
    )
    result = handler(command_event("python", [snippet]), context)
    assert "SECRET-abc-123" not in result["output"]
    assert "T0KEN-xyz" not in result["output"]
    assert "<redacted>" in result["output"]


def test_commands_are_off_by_default() -> None:
    with pytest.raises(UnknownEventError):
        make_handler(flask_app())(command_event("flask", ["hello"]), None)


def test_no_http_request_and_no_events_path_route_runs_a_command() -> None:
    ran.clear()
    handler = make_handler(flask_app(), commands=True, events_path="/_events")
    for path in ("/_events", "/anything"):
        event = build_event("alibaba_apigw", "POST", path, json=command_event("flask", ["hello"]))
        response = parse_response("alibaba_apigw", handler(event, None))
        assert response.json()["path"] == path  # an ordinary request to the app
    timer = handler(build_timer_event("tencent"), None)
    assert timer["path"] == "/_events"  # other non-HTTP events still reach the route
    assert ran == []
    handler(command_event("flask", ["hello"]), None)  # a direct invoke does run it
    assert ran == ["hello"]


def test_the_cli_prints_the_event_and_invoke_runs_it(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "from flask import Flask\napp = Flask('shop')\n\n"
        "@app.cli.command('hello')\ndef hello():\n    print('hi from the function')\n"
    )

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "faas_bridge", *args],
            cwd=tmp_path,
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            check=False,
        )

    printed = cli("command-event", "manage", "migrate", "--noinput")
    assert json.loads(printed.stdout) == {
        "faas_bridge.command": {"django": ["migrate", "--noinput"]}
    }
    event = cli("command-event", "flask", "hello").stdout
    result = cli("invoke", "app:app", "--commands", "--event", "-", stdin=event)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "exit_status": 0,
        "output": "hi from the function\n",
        "truncated": False,
    }
    wrong = cli("command-event", "rake", "db:migrate")
    assert wrong.returncode == 2
    assert "a command is one of django, flask, python" in wrong.stderr


@pytest.mark.parametrize(
    "variable",
    [
        "TENCENTCLOUD_SECRETKEY",
        "TENCENTCLOUD_SESSIONTOKEN",
        "TCB_SESSIONTOKEN",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
    ],
)
def test_the_role_credentials_in_the_environment_never_appear_in_the_output(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SCF and FC put the function role's credentials in the process environment."""
    monkeypatch.setenv(variable, "role-secret-9f8e7d")
    handler = make_handler(flask_app(), commands=True)
    result = handler(command_event("python", ["import os; print(dict(os.environ))"]), None)
    assert result["exit_status"] == 0
    assert "role-secret-9f8e7d" not in result["output"]
    assert f"'{variable}': '<redacted>'" in result["output"]


def test_a_secret_at_the_output_limit_is_not_half_shown() -> None:
    context = build_context("alibaba_fc", credentials={"access_key_secret": "SECRET-abc-123"})
    handler = make_handler(flask_app(), commands=True)
    pad = OUTPUT_LIMIT - 6  # the limit falls inside the secret
    result = handler(command_event("python", [f"print('x' * {pad} + 'SECRET-abc-123')"]), context)
    assert result["truncated"] is True
    assert len(result["output"]) <= OUTPUT_LIMIT
    assert not result["output"].endswith("SECRET")


def test_a_command_kind_cannot_write_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    handler = make_handler(flask_app(), commands=True)
    forged: dict[str, Any] = {"faas_bridge.command": {"x\nFAAS_BRIDGE_EVENT {}": []}}
    assert handler(forged, None)["exit_status"] == 2
    messages = [record.getMessage() for record in caplog.records]
    assert messages
    assert not [message for message in messages if "\n" in message]


def fastapi_events_app() -> FastAPI:
    app = FastAPI()

    @app.post("/_events")
    async def events(request: Request) -> dict[str, Any]:
        return {"kind": event_kind(request.scope), "path": request.url.path}

    return app


@pytest.mark.parametrize("make_app", [flask_app, fastapi_events_app])
@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_no_event_of_any_format_reaches_a_command_or_the_events_route(
    platform: str, make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An HTTP event stays an HTTP request: to the events path, with the kind header, with
    a command in its body, even with a command and timers' fields added to the event."""
    monkeypatch.delenv("FAAS_BRIDGE_TEST_RAN", raising=False)
    handler = make_handler(make_app(), commands=True, events_path="/_events")
    command = command_event("python", ["import os; os.environ['FAAS_BRIDGE_TEST_RAN'] = '1'"])
    event = build_event(
        platform,
        "POST",
        "/_events",
        json=command,
        headers={"X-Faas-Bridge-Event-Kind": "tencent.timer"},
    )
    decoded = json.loads(event) if isinstance(event, bytes) else event
    timer, _ = trigger_sample("tencent.timer")
    crafted = {**trigger_sample("alibaba.timer")[0], **timer, **decoded, **command}
    for sent in (event, crafted):
        response = parse_response(platform, handler(sent, build_context(platform)))
        assert response.status_code == 200
        answer = response.json()
        assert answer.get("kind") is None  # the app knows no trigger sent it
        assert answer["path"].endswith("/_events")  # (FastAPI: under the stage root)
    assert "FAAS_BRIDGE_TEST_RAN" not in os.environ
    handler(command, None)  # the same command, invoked directly, does run
    assert os.environ["FAAS_BRIDGE_TEST_RAN"] == "1"


def test_concurrent_invocations_keep_their_output_apart(capsys: pytest.CaptureFixture[str]) -> None:
    """On an instance serving several calls at once (FC's instance concurrency), a command's
    answer holds its own output only: an invocation's print stays in the function's log,
    a second command gets its own, and the streams are put back after the last one."""
    app = flask_app()

    @app.get("/noisy")
    def noisy() -> str:
        print("request output")
        return "ok"

    entered, gate = threading.Event(), threading.Event()
    app.entered, app.gate = entered, gate  # type: ignore[attr-defined]
    handler = make_handler(app, commands=True)
    before = sys.stdout, sys.stderr
    results: dict[str, Any] = {}

    def slow() -> None:
        snippet = "print('first'); app.entered.set(); app.gate.wait(10); print('last')"
        results["slow"] = handler(command_event("python", [snippet]), None)

    worker = threading.Thread(target=slow)
    worker.start()
    assert entered.wait(10)
    response = handler(build_event("tencent_apigw", "GET", "/noisy"), None)
    assert parse_response("tencent_apigw", response).text == "ok"
    other = handler(command_event("python", ["import sys; print('other', file=sys.stderr)"]), None)
    gate.set()
    worker.join(10)
    assert results["slow"]["output"] == "first\nlast\n"
    assert other["output"] == "other\n"
    assert (sys.stdout, sys.stderr) == before
    assert "request output" in capsys.readouterr().out


def test_a_command_run_inside_a_command_hands_the_output_back() -> None:
    app = flask_app()
    handler = make_handler(app, commands=True)
    app.handler = handler  # type: ignore[attr-defined]
    snippet = (
        "from faas_bridge.commands import command_event\nprint('before')\n"
        "inner = app.handler(command_event('python', [\"print('inner')\"]), None)\n"
        "print('after', inner['output'].strip())\n"
    )
    assert handler(command_event("python", [snippet]), None)["output"] == "before\nafter inner\n"


def test_a_command_replacing_sys_stdout_does_not_keep_the_processs_output() -> None:
    before = sys.stdout, sys.stderr
    handler = make_handler(flask_app(), commands=True)
    try:
        snippet = "import io, sys; sys.stdout = io.StringIO(); sys.stderr = io.StringIO()"
        assert handler(command_event("python", [snippet]), None)["exit_status"] == 0
        assert (sys.stdout, sys.stderr) == before
    finally:
        sys.stdout, sys.stderr = before


def test_without_a_stdout_other_threads_print_nothing_while_a_command_runs() -> None:
    app = flask_app()
    entered, gate = threading.Event(), threading.Event()
    app.entered, app.gate = entered, gate  # type: ignore[attr-defined]
    handler = make_handler(app, commands=True)
    results: dict[str, Any] = {}

    def slow() -> None:
        snippet = "print('mine'); app.entered.set(); app.gate.wait(10)"
        results["slow"] = handler(command_event("python", [snippet]), None)

    before = sys.stdout
    sys.stdout = None  # pythonw, or a closed stdout
    try:
        worker = threading.Thread(target=slow)
        worker.start()
        assert entered.wait(10)
        print("lost")  # no AttributeError: print writes nothing, as usual
        gate.set()
        worker.join(10)
        assert sys.stdout is None
    finally:
        sys.stdout = before
    assert results["slow"]["output"] == "mine\n"

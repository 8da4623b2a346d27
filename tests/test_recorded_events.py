"""Recording real events (make_handler(record_events=True)), importing the log lines as
fixture files, and replaying them against the app: the round trip the README shows, with
real Flask, FastAPI and Django apps."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from flask import Flask, jsonify, request

from faas_bridge import make_handler
from faas_bridge.record import BODY_LIMIT, PREFIX
from faas_bridge.testing import (
    TestResponse,
    build_event,
    build_timer_event,
    import_events,
    load_event,
    recorded_events,
    replay,
)

from . import probe

SECRETS = {
    "Authorization": "Bearer user-token-123",
    "Cookie": "sid=session-456",
    "X-Scf-Session-Token": "cloud-token-789",
    "x-fc-access-key-secret": "fc-secret-000",
}


def flask_app() -> Flask:
    app = Flask(__name__)

    @app.route("/<path:rest>", methods=["GET", "POST"])
    def echo(rest: str) -> Any:
        return jsonify(path=request.path, size=len(request.get_data()))

    @app.post("/_events")
    def events() -> Any:
        return jsonify(ok=True)

    return app


def records(out: str) -> list[dict[str, Any]]:
    lines = [line for line in out.splitlines() if line.startswith(PREFIX)]
    return [json.loads(line[len(PREFIX) :]) for line in lines]


def test_each_event_is_one_redacted_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    handler = make_handler(
        flask_app(), record_events=True, redact_headers=["Authorization", "Cookie", "X-Api-Key"]
    )
    event = build_event(
        "tencent_apigw", "POST", "/a", headers={**SECRETS, "X-Api-Key": "k-1"}, body="x\ny"
    )
    assert handler(event, None)["statusCode"] == 200
    out = capsys.readouterr().out
    (record,) = records(out)
    assert len(out.splitlines()) == 1  # the body's line break stays escaped
    assert record["format"] == "tencent_apigw"
    headers = record["event"]["headers"]
    assert headers["authorization"] == headers["cookie"] == headers["x-api-key"] == "<redacted>"
    assert not [secret for secret in [*SECRETS.values(), "k-1"] if secret in out]


def test_long_bodies_are_cut_with_a_note(capsys: pytest.CaptureFixture[str]) -> None:
    handler = make_handler(flask_app(), record_events=True)
    handler(build_event("alibaba_fc", "POST", "/big", body="a" * (BODY_LIMIT + 10)), None)
    (record,) = records(capsys.readouterr().out)
    assert len(record["event"]["body"]) == BODY_LIMIT
    assert record["notes"] == [f"body cut at {BODY_LIMIT} of {BODY_LIMIT + 10} characters"]


def test_recording_is_off_by_default_and_on_by_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_handler(flask_app())(build_event("tencent_url", "GET", "/a"), None)
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("FAAS_BRIDGE_RECORD_EVENTS", "1")
    make_handler(flask_app())(build_event("tencent_url", "GET", "/a"), None)
    assert records(capsys.readouterr().out)[0]["format"] == "tencent_url"


def record_a_day(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    """Events through a recording handler, their lines as a log service shows them."""
    handler = make_handler(flask_app(), record_events=True, events_path="/_events")
    handler(build_event("tencent_apigw", "GET", "/商品/列表", headers=SECRETS), None)
    handler(build_event("alibaba_apigw", "POST", "/orders", json={"id": 1}), None)
    handler(load_event("alibaba_fc/binary_upload"), None)
    handler(build_timer_event("alibaba"), None)
    log = tmp_path / "scf.log"
    lines = [
        f"2026-01-01 08:00:0{i} INFO {line}"
        for i, line in enumerate(capsys.readouterr().out.splitlines())
    ]
    log.write_text("START RequestId: 1\n" + "\n".join(lines) + "\nEND\n", encoding="utf-8")
    return log


def test_round_trip_record_import_replay(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = record_a_day(capsys, tmp_path)
    folder = tmp_path / "tests" / "events"
    written = import_events([log], folder)
    assert [path.name for path in written] == [
        "tencent_apigw__GET_release_商品_列表.json",
        "alibaba_apigw__POST_orders.json",
        "alibaba_fc__PUT_upload_pixel.png.json",
        "event__alibaba.timer.json",
    ]
    for make_app in (flask_app, probe.make_django_wsgi_app):
        handler = make_handler(make_app(), events_path="/_events")
        for path in recorded_events(folder):
            answer = replay(handler, path)
            if isinstance(answer, TestResponse):
                assert answer.status_code < 500, path.name
    assert replay(make_handler(flask_app(), events_path="/_events"), written[-1]) == {"ok": True}
    again = import_events([log], folder)  # never replaces a file
    assert again[0].name == "tencent_apigw__GET_release_商品_列表-2.json"
    assert written[0].read_text(encoding="utf-8") == again[0].read_text(encoding="utf-8")


def test_a_console_test_event_is_imported_and_replayed_by_fastapi(tmp_path: Path) -> None:
    console = tmp_path / "console.json"
    console.write_text(json.dumps(json.loads(load_event("alibaba_fc/get_query")), indent=4))
    (path,) = import_events([console], tmp_path / "events")
    assert path.name.startswith("alibaba_fc__GET_")
    app = FastAPI()

    @app.get("/{rest:path}")
    async def echo(rest: str) -> dict[str, str]:
        return {"rest": rest}

    answer = replay(app, path)  # an app is wrapped with make_handler
    assert answer.json() == {"rest": "商品/列表"}


def test_the_cli_imports_a_log_and_invokes_a_fixture(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = record_a_day(capsys, tmp_path)
    (tmp_path / "app.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\n\n"
        "@app.route('/<path:p>', methods=['GET', 'POST', 'PUT'])\ndef any_path(p):\n"
        "    return {'seen': p}\n"
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "faas_bridge", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=60,
            check=False,
        )

    imported = cli("import-events", str(log), "-o", "fixtures")
    assert imported.returncode == 0, imported.stderr
    assert "fixtures/alibaba_apigw__POST_orders.json" in imported.stdout
    invoked = cli("invoke", "app:app", "--event", "fixtures/alibaba_apigw__POST_orders.json")
    assert invoked.returncode == 0, invoked.stderr
    assert invoked.stdout.startswith("HTTP/1.1 200")
    assert '"seen":"orders"' in invoked.stdout.replace(" ", "")
    empty = tmp_path / "empty.log"
    empty.write_text("nothing here\n")
    nothing = cli("import-events", str(empty))
    assert nothing.returncode == 4
    assert "no FAAS_BRIDGE_EVENT record" in nothing.stderr


def test_an_fc2_wsgi_call_is_recorded_without_its_credentials(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """FC 2.0 calls handler(environ, start_response): headers are HTTP_* keys and the
    context (credentials included) is an object in the environ."""
    from types import SimpleNamespace

    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(
        path="/a",
        headers=[
            ("Authorization", "Bearer user-token-123"),
            ("Cookie", "sid=session-456"),
            ("X-Fc-Security-Token", "fc-token-999"),
        ],
    ).get_environ()
    credentials = SimpleNamespace(access_key_secret="fc-secret-000", security_token="tok-111")
    environ["fc.context"] = SimpleNamespace(request_id="r-1", credentials=credentials)
    handler = make_handler(flask_app(), record_events=True)
    body = b"".join(handler(environ, lambda status, headers, *exc: None))
    assert json.loads(body)["path"] == "/a"
    out = capsys.readouterr().out
    (record,) = records(out)
    assert record["event"]["HTTP_AUTHORIZATION"] == "<redacted>"
    leaked = ["user-token-123", "session-456", "fc-token-999", "fc-secret-000", "tok-111"]
    assert [secret for secret in leaked if secret in out] == []


def test_a_command_events_arguments_are_not_recorded(capsys: pytest.CaptureFixture[str]) -> None:
    handler = make_handler(flask_app(), record_events=True, commands=True)
    snippet = "print(len('pw-secret-42'))"
    assert handler({"faas_bridge.command": {"python": snippet}}, None)["output"] == "12\n"
    handler({"faas_bridge.command": {"django": ["changepassword", "pw-secret-43"]}}, None)
    out = capsys.readouterr().out
    first, second = records(out)
    assert first["event"] == {"faas_bridge.command": {"python": "<redacted>"}}
    assert second["event"] == {"faas_bridge.command": {"django": "<redacted>"}}
    assert "pw-secret-4" not in out


def test_line_separators_in_an_event_keep_it_on_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    handler = make_handler(flask_app(), record_events=True)
    text = "a\u2028b\u2029c\x85d"  # str.splitlines() breaks a line at each of these
    handler(build_event("tencent_apigw", "POST", "/notes", body=text), None)
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 1
    log = tmp_path / "cls.log"
    log.write_text(out, encoding="utf-8")
    (path,) = import_events([log], tmp_path / "events")
    assert json.loads(path.read_text(encoding="utf-8"))["body"] == text


def test_an_odd_method_cannot_steer_the_fixture_file(tmp_path: Path) -> None:
    log = tmp_path / "odd.log"
    odd = {"httpMethod": "../../X", "path": "/a", "headers": {}, "queryParameters": {}}
    log.write_text(PREFIX + json.dumps({"format": None, "event": odd}) + "\n", encoding="utf-8")
    (written,) = import_events([log], tmp_path / "events")
    assert written.parent == tmp_path / "events"
    assert "/" not in written.name[: -len(".json")]


def test_import_never_writes_through_a_link(tmp_path: Path) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    users_file = tmp_path / "notes.txt"  # not there yet: the link dangles
    (folder / "event__tencent.timer.json").symlink_to(users_file)
    log = tmp_path / "scf.log"
    record = {"format": None, "event": build_timer_event("tencent")}
    log.write_text(PREFIX + json.dumps(record) + "\n", encoding="utf-8")
    (written,) = import_events([log], folder)
    assert written.name == "event__tencent.timer-2.json"
    assert not users_file.exists()

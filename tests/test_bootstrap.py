"""`faas-bridge bootstrap`: the start files the platforms run to start web mode."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from faas_bridge.bootstrap import (
    PYTHON_VERSIONS,
    bootstrap_script,
    runtime_for,
    write_bootstrap,
)
from faas_bridge.cli import EXIT_MISSING_EXTRA, EXIT_USAGE, main

BASH = shutil.which("bash")


# every web runtime the clouds offer (CloudBase has no 3.12, FC's custom images no 3.9)
WEB = [
    (platform, python)
    for platform in ("tencent", "cloudbase", "alibaba")
    for python in PYTHON_VERSIONS
    if (platform, python) not in {("cloudbase", "3.12"), ("alibaba", "3.9")}
]


@pytest.mark.parametrize(("platform", "python"), WEB)
def test_the_start_file_is_executable_lf_and_starts_serve(
    platform: str, python: str, tmp_path: Path
) -> None:
    (path,) = write_bootstrap("index:app", platform, python, tmp_path / "out")
    assert path.name == ("bootstrap" if platform == "alibaba" else "scf_bootstrap")
    assert path.stat().st_mode & 0o777 == 0o755
    raw = path.read_bytes()
    assert b"\r" not in raw
    assert raw.startswith(b"#!/bin/bash\n")
    text = raw.decode()
    interpreter = runtime_for(platform, python).interpreter
    assert interpreter.startswith(("/var/", "/usr/bin/"))
    assert f"PYTHON={interpreter}\n" in text
    (command,) = [line for line in text.splitlines() if line.startswith("exec ")]
    assert command.startswith(
        f'exec "$PYTHON" -m faas_bridge serve index:app --platform {platform} --host 0.0.0.0'
    )
    if platform == "alibaba":
        assert "--port" not in command  # FC_SERVER_PORT / FC_CUSTOM_LISTEN_PORT, else 9000
    else:
        assert command.endswith("--port 9000")


def test_known_interpreter_paths() -> None:
    assert runtime_for("tencent", "3.10").interpreter == "/var/lang/python310/bin/python3.10"
    assert runtime_for("cloudbase", "3.9").interpreter == "/var/lang/python39/bin/python3.9"
    assert runtime_for("alibaba", "3.10").interpreter == "/var/fc/lang/python3.10/bin/python3"
    assert runtime_for("alibaba", "3.10").runtime_name == "custom.debian10"
    assert not runtime_for("tencent", "3.12").verified
    # FC's custom runtimes per OS image: 3.11 is Debian 12's system Python
    assert runtime_for("alibaba", "3.11").interpreter == "/usr/bin/python3"
    assert runtime_for("alibaba", "3.11").runtime_name == "custom.debian12"
    assert runtime_for("alibaba", "3.12").runtime_name == "custom.debian11"


@pytest.mark.parametrize(("platform", "python"), [("cloudbase", "3.12"), ("alibaba", "3.9")])
def test_a_web_runtime_the_cloud_does_not_offer_is_refused(platform: str, python: str) -> None:
    with pytest.raises(ValueError, match=f"no web runtime for Python {python}"):
        runtime_for(platform, python)


def test_targets_are_quoted_for_the_shell() -> None:
    script = bootstrap_script("my app.py:app", "tencent")
    assert "serve 'my app.py:app' --platform tencent --host" in script
    with pytest.raises(ValueError, match="target"):
        bootstrap_script("index:app\nrm -rf /", "tencent")


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_the_start_file_is_valid_bash_and_names_a_missing_runtime(tmp_path: Path) -> None:
    (path,) = write_bootstrap("index:app", "tencent", "3.10", tmp_path)
    assert subprocess.run([str(BASH), "-n", str(path)], check=False).returncode == 0
    if Path("/var/lang/python310/bin/python3.10").exists():
        pytest.skip("running on the platform's image")
    result = subprocess.run([str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "/var/lang/python310/bin/python3.10" in result.stderr
    assert "Python 3.10" in result.stderr


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_the_start_file_runs_serve_with_the_runtime_python(tmp_path: Path) -> None:
    """The script as the platform runs it, its interpreter pointed at this Python."""
    (path,) = write_bootstrap("index:app", "alibaba", "3.10", tmp_path)
    text = path.read_text().replace(
        "PYTHON=/var/fc/lang/python3.10/bin/python3", f"PYTHON={sys.executable}"
    )
    text = text.replace("--host 0.0.0.0", "--host 127.0.0.1 --help")  # parse, do not serve
    path.write_text(text)
    result = subprocess.run(
        [str(path)], capture_output=True, text=True, check=False, env={**os.environ}
    )
    assert result.returncode == 0, result.stderr
    assert "--platform CLOUD" in result.stdout
    assert "port 9000" in result.stdout


def test_cli_writes_and_explains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "pkg"
    code = main(["bootstrap", "index:app", "--platform", "cloudbase", "-o", str(out)])
    assert code == 0
    written = out / "scf_bootstrap"
    assert written.stat().st_mode & stat.S_IXUSR
    printed = capsys.readouterr().out
    assert str(written) in printed
    assert "/var/lang/python310/bin/python3.10" in printed
    assert "HTTP 云函数" in printed
    assert "enableChunked" in printed


def test_cli_fc_instructions_give_the_start_command_and_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bootstrap", "index:app", "--platform", "alibaba", "-o", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "command: [/code/bootstrap]" in printed
    assert "port: 9000" in printed
    assert "custom.debian10" in printed


def test_cli_says_when_a_path_is_unverified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["bootstrap", "index:app", "--platform", "tencent", "--python", "3.12"]
    assert main([*args, "-o", str(tmp_path)]) == 0
    assert "not confirmed" in capsys.readouterr().out


def test_cli_rejects_an_unknown_platform(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bootstrap", "index:app", "--platform", "aws"])
    assert exit_info.value.code == EXIT_USAGE


def test_serve_without_the_extra_prints_an_install_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a2wsgi",):
        monkeypatch.setitem(sys.modules, name, None)
    code = main(["serve", "examples/flask_app/app.py:app", "--port", "9"])
    assert code == EXIT_MISSING_EXTRA
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert 'pip install "faas-bridge[serve]"' in line

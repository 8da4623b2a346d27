"""`faas-bridge package` for a Python other than this one: the Flask and FastAPI examples,
packaged for the target, answer events and serve HTTP under an interpreter of that version,
with nothing but the zip and the standard library.

Each zip is built once per module (uv downloads into its cache the first time). Skipped
where no other CPython of a version the clouds run (pyenv, python3.X on PATH) is found.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest

from faas_bridge.package import PackageResult, build_package
from faas_bridge.package.deps import find_interpreter
from faas_bridge.testing import build_event, parse_response

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HOST = f"{sys.version_info.major}.{sys.version_info.minor}"


def _target() -> tuple[str, str] | tuple[None, None]:
    for version in ("3.10", "3.9", "3.12"):
        if version != HOST:
            interpreter = find_interpreter(version)
            if interpreter is not None:
                return version, interpreter
    return None, None


TARGET, INTERPRETER = _target()
pytestmark = pytest.mark.skipif(
    TARGET is None or sys.platform != "linux", reason="no other CPython 3.9/3.10/3.12 here"
)
EXAMPLE_APPS = ["flask_app", "fastapi_app"]
HANDLER_NAMES = {
    "tencent_apigw": "main_handler",
    "tencent_url": "main_handler",
    "cloudbase": "main",
    "alibaba_fc": "handler",
}
WEB_CLOUDS = ["tencent", "cloudbase", "alibaba"]

# Runs in `python -I -S`: only the unzipped package (argv[1]) and the stdlib can be imported.
RUNNER = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
import index
from faas_bridge.testing import build_context
calls = json.load(sys.stdin)
responses = []
for call in calls:
    event = call["event"]
    if call["platform"] == "alibaba_fc":
        event = event.encode()  # FC's runtime hands the handler bytes
    context = build_context(call["platform"], request_id="req-1")
    responses.append(getattr(index, call["handler"])(event, context))
files = {name: getattr(m, "__file__", None) or "" for name, m in list(sys.modules.items())}
cached = {name: getattr(m, "__cached__", None) or "" for name, m in list(sys.modules.items())}
print(json.dumps({"responses": responses, "files": files, "cached": cached}), flush=True)
os._exit(0)
"""


def _unzip(archive: Path, folder: Path) -> Path:
    with zipfile.ZipFile(archive) as source:
        for info in source.infolist():
            path = source.extract(info, folder)
            os.chmod(path, (info.external_attr >> 16) & 0o777)
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    """(example, cloud or "event") -> (result, unzipped folder); built lazily, once each."""

    class Built(dict):  # type: ignore[type-arg]
        def __missing__(self, key: tuple[str, str]) -> tuple[PackageResult, Path]:
            example, cloud = key
            out = tmp_path_factory.mktemp(f"{example}-{cloud}")
            result = build_package(
                EXAMPLES / example,
                platform="tencent" if cloud == "event" else cloud,
                python=str(TARGET),
                mode="event" if cloud == "event" else "web",
                output_path=out / f"{example}.zip",
            )
            value = (result, _unzip(result.path, out / "unzipped"))
            self[key] = value
            return value

    return Built()


def _call(platform: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    event = build_event(platform, method, path, **kwargs)
    if isinstance(event, bytes):
        event = event.decode()
    return {"platform": platform, "handler": HANDLER_NAMES[platform], "event": event}


@pytest.mark.parametrize("example", EXAMPLE_APPS)
def test_the_example_answers_every_event_format_under_the_target_python(
    example: str, built: dict[tuple[str, str], tuple[PackageResult, Path]]
) -> None:
    result, folder = built[example, "event"]
    calls = []
    for platform in HANDLER_NAMES:
        calls.append(_call(platform, "GET", "/api/items"))
        calls.append(_call(platform, "POST", "/api/items", json={"name": "普洱", "price": 88}))
    completed = subprocess.run(
        [str(INTERPRETER), "-I", "-S", "-c", RUNNER, str(folder)],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    output = json.loads(completed.stdout.splitlines()[-1])

    for index, platform in enumerate(HANDLER_NAMES):
        listed = parse_response(platform, output["responses"][2 * index])
        created = parse_response(platform, output["responses"][2 * index + 1])
        assert listed.status_code == 200, (platform, listed.text)
        assert isinstance(listed.json(), list)
        assert created.status_code == 201, (platform, created.text)
        assert created.json()["name"] == "普洱"
    framework = "flask" if example == "flask_app" else "fastapi"
    for module in (framework, "faas_bridge", "index"):
        assert Path(output["files"][module]).resolve().is_relative_to(folder.resolve())
        # the byte-code of the target version shipped in the zip is what the import found
        assert Path(output["cached"][module]).is_file()
    assert not [f for f in output["files"].values() if "site-packages" in f]
    assert result.bytecode
    assert result.interpreter == INTERPRETER
    assert "answered GET / with" in result.check


def test_requirements_are_resolved_for_the_target_not_for_this_python(
    built: dict[tuple[str, str], tuple[PackageResult, Path]],
) -> None:
    # anyio needs exceptiongroup below Python 3.11 (a python_version marker): pip on 3.11
    # left it out of a 3.10 zip, and FastAPI failed at import on the cloud
    result, _ = built["fastapi_app", "event"]
    has_backport = any(name.startswith("exceptiongroup/") for name in result.names)
    assert has_backport == (str(TARGET) < "3.11")
    # compiled wheels are CPython X.Y's, for Linux x86_64
    tag = "cpython-" + str(TARGET).replace(".", "")
    (core,) = [n for n in result.names if n.startswith("pydantic_core/_pydantic_core.")]
    assert tag in core
    assert core.endswith("x86_64-linux-gnu.so")


@pytest.mark.parametrize("example", EXAMPLE_APPS)
def test_the_zip_ships_unchecked_hash_byte_code_of_the_target_version(
    example: str, built: dict[tuple[str, str], tuple[PackageResult, Path]]
) -> None:
    result, _ = built[example, "event"]
    tag = "cpython-" + str(TARGET).replace(".", "")
    with zipfile.ZipFile(result.path) as archive:
        pycs = [n for n in archive.namelist() if n.endswith(".pyc")]
        assert pycs
        assert all(f".{tag}.pyc" in n for n in pycs)
        for name in (f"faas_bridge/__pycache__/handler.{tag}.pyc", f"__pycache__/index.{tag}.pyc"):
            header = archive.read(name)[:16]
            assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, not checked
        modes = {(i.external_attr >> 16) & 0o777 for i in archive.infolist()}
        assert {(i.date_time) for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert modes <= {0o644, 0o755}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(port: int, path: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.status, response.read()


@pytest.mark.parametrize("cloud", WEB_CLOUDS)
@pytest.mark.parametrize("example", EXAMPLE_APPS)
def test_the_start_file_serves_the_example_under_the_target_python(
    example: str,
    cloud: str,
    built: dict[tuple[str, str], tuple[PackageResult, Path]],
    tmp_path: Path,
) -> None:
    result, folder = built[example, cloud]
    start_name = "bootstrap" if cloud == "alibaba" else "scf_bootstrap"
    start = folder / start_name
    assert os.access(start, os.X_OK)
    text = start.read_text()
    # the cloud's interpreter path is not here: point the start file at the target Python,
    # without site-packages, so only the package and the standard library are importable
    lines = text.splitlines()
    (python_line,) = [line for line in lines if line.startswith("PYTHON=")]
    port = _free_port()
    text = text.replace(python_line, f"PYTHON={INTERPRETER}")
    text = text.replace('exec "$PYTHON" -m', 'exec "$PYTHON" -S -m')
    text = text.replace("--port 9000", f"--port {port}").replace("0.0.0.0", "127.0.0.1")
    assert text.count("-S -m faas_bridge serve") == 1
    (folder / "local_start").write_text(text)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "FC_SERVER_PORT": str(port)}
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        ["bash", str(folder / "local_start")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = _get(port, "/api/items")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail((tmp_path / "server.log").read_text()[-3000:])
                time.sleep(0.2)
        assert status == 200
        assert isinstance(json.loads(body), list)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
    assert result.mode == "web"
    assert any(n.startswith("uvicorn/") for n in result.names)
    assert any(n.startswith("a2wsgi/") for n in result.names)

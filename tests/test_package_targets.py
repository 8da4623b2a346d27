"""`faas-bridge package` for a Python other than this one: the Flask and FastAPI examples,
packaged for each cloud in event and web mode, answer that cloud's events and serve HTTP
under an interpreter of the target version, with nothing but the zip and the standard library.

Each zip is built once per module (uv downloads into its cache the first time), for a
version the cloud offers in that mode (3.10 first). A build is skipped where no other
CPython of such a version (pyenv, python3.X on PATH) is found.
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

from faas_bridge.clouds import CLOUDS, event_runtime, get_cloud, web_runtime
from faas_bridge.package import PackageResult, build_package
from faas_bridge.package.deps import find_interpreter
from faas_bridge.platforms import PLATFORMS
from faas_bridge.testing import build_event, parse_response

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
HOST = f"{sys.version_info.major}.{sys.version_info.minor}"


def _target(cloud: str, mode: str) -> tuple[str, str] | tuple[None, None]:
    """A Python version other than this one that ``cloud`` offers in ``mode``, with an
    interpreter here (3.10 first: every cloud offers it in both modes)."""
    runtime = web_runtime if mode == "web" else event_runtime
    for version in ("3.10", "3.9", "3.12", "3.11"):
        if version == HOST:
            continue
        try:
            runtime(cloud, version)
        except ValueError:
            continue  # not offered (FC has no 3.9 web runtime, CloudBase no 3.12)
        interpreter = find_interpreter(version)
        if interpreter is not None:
            return version, interpreter
    return None, None


pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the clouds run Linux x86_64")
EXAMPLE_APPS = ["flask_app", "fastapi_app"]
CLOUD_NAMES = list(CLOUDS)
FORMATS = {c: [name for name, fmt in PLATFORMS.items() if c == fmt.CLOUD] for c in CLOUDS}

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
    if call["as_bytes"]:
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
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], Any]:
    """(example, cloud, mode) -> (result, unzipped folder); built lazily, once each, for a
    Python the cloud offers in that mode other than this one (skipped where none is here)."""

    class Built(dict):  # type: ignore[type-arg]
        def __missing__(self, key: tuple[str, str, str]) -> tuple[PackageResult, Path]:
            example, cloud, mode = key
            target, _ = _target(cloud, mode)
            if target is None:
                pytest.skip(f"no CPython here, other than {HOST}, that {cloud} runs in {mode} mode")
            out = tmp_path_factory.mktemp(f"{example}-{cloud}-{mode}")
            result = build_package(
                EXAMPLES / example,
                platform=cloud,
                python=str(target),
                mode=mode,
                output_path=out / f"{example}.zip",
            )
            value = (result, _unzip(result.path, out / "unzipped"))
            self[key] = value
            return value

    return Built()


def _call(platform: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    event = build_event(platform, method, path, **kwargs)
    as_bytes = isinstance(event, bytes)
    if as_bytes:
        event = event.decode()
    handler = get_cloud(PLATFORMS[platform].CLOUD).HANDLER_NAME
    return {"platform": platform, "handler": handler, "event": event, "as_bytes": as_bytes}


@pytest.mark.parametrize("cloud", CLOUD_NAMES)
@pytest.mark.parametrize("example", EXAMPLE_APPS)
def test_the_example_answers_the_clouds_events_under_the_target_python(
    example: str, cloud: str, built: dict[tuple[str, str, str], tuple[PackageResult, Path]]
) -> None:
    result, folder = built[example, cloud, "event"]
    assert result.python != HOST
    assert result.platform == cloud
    calls = []
    for platform in FORMATS[cloud]:
        calls.append(_call(platform, "GET", "/api/items"))
        calls.append(_call(platform, "POST", "/api/items", json={"name": "普洱", "price": 88}))
    completed = subprocess.run(
        [str(result.interpreter), "-I", "-S", "-c", RUNNER, str(folder)],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    output = json.loads(completed.stdout.splitlines()[-1])

    for index, platform in enumerate(FORMATS[cloud]):
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
    handler = get_cloud(cloud).HANDLER_NAME
    assert f"index.{handler} answered GET / with 200" in result.check


def test_requirements_are_resolved_for_the_target_not_for_this_python(
    built: dict[tuple[str, str, str], tuple[PackageResult, Path]],
) -> None:
    # anyio needs exceptiongroup below Python 3.11 (a python_version marker): pip on 3.11
    # left it out of a 3.10 zip, and FastAPI failed at import on the cloud
    result, _ = built["fastapi_app", "tencent", "event"]
    has_backport = any(name.startswith("exceptiongroup/") for name in result.names)
    assert has_backport == (tuple(map(int, result.python.split("."))) < (3, 11))
    # compiled wheels are CPython X.Y's, for Linux x86_64
    tag = "cpython-" + result.python.replace(".", "")
    (core,) = [n for n in result.names if n.startswith("pydantic_core/_pydantic_core.")]
    assert tag in core
    assert core.endswith("x86_64-linux-gnu.so")


@pytest.mark.parametrize("example", EXAMPLE_APPS)
def test_the_zip_ships_unchecked_hash_byte_code_of_the_target_version(
    example: str, built: dict[tuple[str, str, str], tuple[PackageResult, Path]]
) -> None:
    result, _ = built[example, "tencent", "event"]
    tag = "cpython-" + result.python.replace(".", "")
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


@pytest.mark.parametrize("cloud", CLOUD_NAMES)
@pytest.mark.parametrize("example", EXAMPLE_APPS)
def test_the_start_file_serves_the_example_under_the_target_python(
    example: str,
    cloud: str,
    built: dict[tuple[str, str, str], tuple[PackageResult, Path]],
    tmp_path: Path,
) -> None:
    result, folder = built[example, cloud, "web"]
    assert result.python != HOST
    assert result.platform == cloud
    start_name = "bootstrap" if cloud == "alibaba" else "scf_bootstrap"
    start = folder / start_name
    assert os.access(start, os.X_OK)
    text = start.read_text()
    # the cloud's interpreter path is not here: point the start file at the target Python,
    # without site-packages, so only the package and the standard library are importable
    lines = text.splitlines()
    (python_line,) = [line for line in lines if line.startswith("PYTHON=")]
    port = _free_port()
    text = text.replace(python_line, f"PYTHON={result.interpreter}")
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
    assert "answered GET / with 200" in result.check
    assert any(n.startswith("uvicorn/") for n in result.names)
    assert any(n.startswith("a2wsgi/") for n in result.names)

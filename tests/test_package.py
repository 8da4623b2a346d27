"""`faas-bridge package`: the zip runs on its own, with nothing but itself and the stdlib."""

from __future__ import annotations

import hashlib
import json
import platform as host
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from faas_bridge.cli import EXIT_BAD_EVENT, EXIT_BAD_TARGET, EXIT_USAGE, main
from faas_bridge.package import PackageResult, build_package, read_requirements
from faas_bridge.testing import build_context, build_event, parse_response

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
LOCAL_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
ON_LINUX_X86_64 = sys.platform == "linux" and host.machine() in ("x86_64", "AMD64")
EXAMPLE_APPS = [
    "flask_app",
    pytest.param(
        "fastapi_app",
        marks=pytest.mark.skipif(
            not (EXAMPLES / "fastapi_app" / "index.py").exists(),
            reason="examples/fastapi_app is not there yet",
        ),
    ),
]
HANDLER_NAMES = {
    "tencent_apigw": "main_handler",
    "tencent_url": "main_handler",
    "cloudbase": "main",
    "alibaba_fc": "handler",
}

# Runs in `python -I -S`: no site-packages, no PYTHONPATH, no current directory; only the
# unzipped package (argv[1]) and the standard library can be imported.
RUNNER = r"""
import json, os, sys, types
sys.path.insert(0, sys.argv[1])
import index

calls = json.load(sys.stdin)
responses = []
for call in calls:
    event, context = call["event"], call["context"]
    if call["platform"] == "alibaba_fc":
        event = event.encode()  # FC's runtime hands the handler bytes
        context = types.SimpleNamespace(
            request_id=context["request_id"],
            function=types.SimpleNamespace(**context["function"]),
            credentials=types.SimpleNamespace(**context["credentials"]),
            region=context["region"],
            account_id=context["account_id"],
        )
    responses.append(getattr(index, call["handler"])(event, context))
files = sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())})
print(json.dumps({"responses": responses, "files": files}), flush=True)
# anyio's worker threads (FastAPI's sync endpoints) are not daemons and the shared loop is
# still open, so a normal exit would wait for them: the platforms freeze or kill instances
# rather than exit, and this test is about the package, so leave at once.
os._exit(0)
"""


def _context(platform: str) -> Any:
    context = build_context(platform, request_id="req-1")
    if platform != "alibaba_fc":
        return context
    return {
        "request_id": context.request_id,
        "function": vars(context.function),
        "credentials": vars(context.credentials),
        "region": context.region,
        "account_id": context.account_id,
    }


def _call(platform: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    event = build_event(platform, method, path, **kwargs)
    if isinstance(event, bytes):
        event = event.decode()
    return {
        "platform": platform,
        "handler": HANDLER_NAMES[platform],
        "event": event,
        "context": _context(platform),
    }


def _run_isolated(folder: Path, calls: list[dict[str, Any]]) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RUNNER, str(folder)],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return result


def _unzip(archive: Path, folder: Path) -> Path:
    with zipfile.ZipFile(archive) as source:
        source.extractall(folder)
    return folder


@pytest.fixture(scope="session")
def packaged(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], tuple[PackageResult, Path]]:
    """Each example packaged once per session for the local Python, and unzipped."""
    built: dict[str, tuple[PackageResult, Path]] = {}

    def get(example: str) -> tuple[PackageResult, Path]:
        if example not in built:
            out = tmp_path_factory.mktemp(f"package-{example}")
            result = build_package(
                EXAMPLES / example,
                platform="tencent",
                python=LOCAL_PYTHON,
                output=out / f"{example}.zip",
            )
            built[example] = (result, _unzip(result.path, out / "unzipped"))
        return built[example]

    return get


def _tiny_project(folder: Path, requirements: str | None = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(
        "def app(environ, start_response):\n"
        "    body = b'hello from ' + environ['PATH_INFO'].encode('latin-1')\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain; charset=utf-8'),\n"
        "                              ('Set-Cookie', 'a=1'), ('Set-Cookie', 'b=2')])\n"
        "    return [body]\n",
        encoding="utf-8",
    )
    if requirements is not None:
        (folder / "requirements.txt").write_text(requirements, encoding="utf-8")
    return folder


# --- the examples, packaged and run in a bare interpreter ------------------------------------


@pytest.mark.skipif(not ON_LINUX_X86_64, reason="the wheels are for Linux x86_64")
@pytest.mark.parametrize("example", EXAMPLE_APPS)
def test_the_packaged_example_answers_every_platform_with_only_the_zip_and_the_stdlib(
    example: str, packaged: Callable[[str], tuple[PackageResult, Path]]
) -> None:
    result, folder = packaged(example)
    platforms = list(HANDLER_NAMES)
    calls = []
    for platform in platforms:
        calls.append(_call(platform, "GET", "/api/items"))
        calls.append(_call(platform, "POST", "/api/items", json={"name": "普洱", "price": 88}))
    output = _run_isolated(folder, calls)

    for index, platform in enumerate(platforms):
        listed = parse_response(platform, output["responses"][2 * index])
        created = parse_response(platform, output["responses"][2 * index + 1])
        assert listed.status_code == 200, (platform, listed.text)
        assert isinstance(listed.json(), list)
        assert created.status_code == 201, (platform, created.text)
        assert created.json()["name"] == "普洱"

    framework = "flask" if example == "flask_app" else "fastapi"
    imported = [f for f in output["files"] if f]
    for name in (f"{framework}/__init__.py", "faas_bridge/__init__.py", "index.py"):
        (path,) = [f for f in imported if f.endswith(name) and "/" + name in "/" + f]
        assert Path(path).resolve().is_relative_to(folder.resolve()), f"{name} from {path}"
    assert not [f for f in imported if "site-packages" in f]
    assert not result.generated_index


@pytest.mark.parametrize("example", EXAMPLE_APPS)
def test_the_zip_is_reproducible_and_leaves_out_caches_and_tests(
    example: str, packaged: Callable[[str], tuple[PackageResult, Path]]
) -> None:
    result, _ = packaged(example)
    with zipfile.ZipFile(result.path) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert {"index.py", "faas_bridge/__init__.py", "faas_bridge/handler.py"} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("bin/", "tests/", ".git/", "dist/"))]
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in infos}
    assert set(modes.values()) <= {0o644, 0o755}
    assert [n for n, mode in modes.items() if mode == 0o755 and not n.endswith(".so")] == []
    assert result.files == len(names)
    assert result.zipped_size == result.path.stat().st_size
    assert result.unzipped_size == sum(info.file_size for info in infos)


# --- generated index.py, web mode, determinism: no downloads needed except web mode ---------


def test_a_generated_index_exposes_the_three_handler_names(tmp_path: Path) -> None:
    project = _tiny_project(tmp_path / "tiny")
    (project / "tests").mkdir()
    (project / "tests" / "test_app.py").write_text("assert True\n")
    (project / "test_app.py").write_text("assert True\n")
    (project / "__pycache__").mkdir()
    (project / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    venv = project / ".env-local"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "junk.py").write_text("")

    result = build_package(
        project, platform="alibaba", python="3.10", entry="app:app", output=tmp_path / "t.zip"
    )

    assert result.generated_index
    assert result.requirements == []
    with zipfile.ZipFile(result.path) as archive:
        names = set(archive.namelist())
    assert {"app.py", "index.py", "requirements.txt"} <= names
    assert not [n for n in names if n.startswith(("tests/", ".env-local/", "__pycache__/"))]
    assert "test_app.py" not in names
    folder = _unzip(result.path, tmp_path / "unzipped")
    output = _run_isolated(folder, [_call(p, "GET", "/你好") for p in HANDLER_NAMES])
    for platform, returned in zip(HANDLER_NAMES, output["responses"]):
        response = parse_response(platform, returned)
        assert response.status_code == 200
        assert response.text == "hello from /你好"
        if platform != "alibaba_fc":
            assert response.headers.get_all("Set-Cookie") == ["a=1", "b=2"]


def test_the_same_project_gives_the_same_bytes(tmp_path: Path) -> None:
    project = _tiny_project(tmp_path / "tiny")
    first = build_package(project, platform="tencent", entry="app:app", output=tmp_path / "1.zip")
    (project / "app.py").touch()  # a new mtime must not change the zip
    second = build_package(project, platform="tencent", entry="app:app", output=tmp_path / "2.zip")
    digest = [hashlib.sha256(r.path.read_bytes()).hexdigest() for r in (first, second)]
    assert digest[0] == digest[1]


@pytest.mark.skipif(not ON_LINUX_X86_64, reason="the wheels are for Linux x86_64")
def test_web_mode_ships_the_start_file_executable_and_the_servers(tmp_path: Path) -> None:
    project = _tiny_project(tmp_path / "tiny")
    result = build_package(
        project,
        platform="tencent",
        python=LOCAL_PYTHON,
        mode="web",
        entry="app:app",
        output=tmp_path / "web.zip",
    )
    with zipfile.ZipFile(result.path) as archive:
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
        start = archive.read("scf_bootstrap").decode()
    assert modes["scf_bootstrap"] == 0o755
    assert "-m faas_bridge serve app:app --platform tencent --host 0.0.0.0 --port 9000" in start
    assert "a2wsgi/__init__.py" in modes
    assert "uvicorn/__init__.py" in modes
    assert not [name for name in modes if name.startswith("bin/")]


@pytest.mark.skipif(not ON_LINUX_X86_64, reason="the wheels are for Linux x86_64")
def test_a_requirement_without_wheels_is_built_from_its_pure_python_sdist(tmp_path: Path) -> None:
    project = _tiny_project(tmp_path / "tiny", "docopt==0.6.2  # published as an sdist only\n")
    result = build_package(project, platform="tencent", entry="app:app", output=tmp_path / "d.zip")
    with zipfile.ZipFile(result.path) as archive:
        assert "docopt.py" in archive.namelist()


# --- requirements ---------------------------------------------------------------------------


def test_requirements_come_from_requirements_txt_without_faas_bridge(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("Flask>=2.2  # the framework\n")
    (tmp_path / "requirements.txt").write_text(
        "-r base.txt\n"
        "faas-bridge[serve]>=0.1\n"
        "Faas_Bridge\n"
        "--extra-index-url https://example.invalid/simple\n"
        "python-multipart>=0.0.9 \\\n    ; python_version >= '3.9'\n"
    )
    assert read_requirements(tmp_path) == [
        "Flask>=2.2",
        "--extra-index-url=https://example.invalid/simple",
        "python-multipart>=0.0.9      ; python_version >= '3.9'",
    ]


def test_requirements_come_from_pyproject_dependencies(tmp_path: Path) -> None:
    pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "shop"\ndependencies = ["fastapi>=0.100", "faas-bridge"]\n'
    )
    assert read_requirements(tmp_path) == ["fastapi>=0.100"]


def test_option_lines_alone_install_nothing(tmp_path: Path) -> None:
    project = _tiny_project(tmp_path / "tiny", "-i https://example.invalid/simple\nfaas-bridge\n")
    result = build_package(project, platform="tencent", entry="app:app", output=tmp_path / "o.zip")
    assert result.requirements == ["-ihttps://example.invalid/simple"]
    with zipfile.ZipFile(result.path) as archive:
        assert not [n for n in archive.namelist() if ".dist-info/" in n]


# --- errors: one line, documented exit codes ------------------------------------------------


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["package", *args])
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "no such project folder"),
        (lambda p: (p / "file.py", (p / "file.py").write_text(""))[0], "not a folder"),
        (lambda p: p, "holds no Python module"),
    ],
)
def test_a_bad_project_folder_is_one_line_and_exit_3(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Path],
    message: str,
) -> None:
    project = make(tmp_path)
    code, err = _cli([str(project), "--platform", "tencent"], capsys)
    assert code == EXIT_BAD_TARGET
    assert message in err
    assert err.count("\n") == 1
    assert err.startswith("faas-bridge: error: ")


def test_no_index_and_no_entry_is_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "tiny")
    code, err = _cli([str(project), "--platform", "cloudbase"], capsys)
    assert code == EXIT_BAD_TARGET
    assert "no index.py: pass --entry module:app" in err
    code, err = _cli([str(project), "--platform", "cloudbase", "--entry", "nope:app"], capsys)
    assert code == EXIT_BAD_TARGET
    assert "has no module 'nope'" in err


def test_missing_requirements_is_one_line_and_exit_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "tiny", requirements=None)
    code, err = _cli([str(project), "--platform", "tencent", "--entry", "app:app"], capsys)
    assert code == EXIT_BAD_EVENT
    assert "has no requirements.txt or pyproject.toml" in err
    assert err.count("\n") == 1


def test_a_requirement_pip_cannot_install_is_one_line_and_exit_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "tiny", "flask==0.0.0\n")
    output = tmp_path / "never.zip"
    args = [str(project), "--platform", "tencent", "--entry", "app:app", "-o", str(output)]
    code, err = _cli(args, capsys)
    assert code == EXIT_BAD_EVENT
    assert "pip cannot install the requirements" in err
    assert "flask==0.0.0" in err
    assert err.count("\n") == 1
    assert not output.exists()


def test_alibaba_has_no_python_3_11_event_runtime(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "tiny")
    args = [str(project), "--platform", "alibaba", "--python", "3.11", "--entry", "app:app"]
    code, err = _cli(args, capsys)
    assert code == EXIT_USAGE
    assert "no built-in Python 3.11 runtime" in err


def test_the_cli_prints_the_size_and_where_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "tiny")
    output = tmp_path / "out" / "tiny.zip"
    args = [str(project), "--platform", "tencent", "--entry", "app:app", "-o", str(output)]
    code = main(["package", *args])
    out = capsys.readouterr().out
    assert code == 0
    assert f"wrote {output}" in out
    assert "MiB zipped" in out
    assert "MiB unzipped" in out
    assert output.stat().st_mode & stat.S_IRUSR

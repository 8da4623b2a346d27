"""`faas-bridge package`: what goes in, what stays out, and never losing a user's file.

Real builds of the examples for another Python live in test_package_targets.py; these use
small projects whose requirements need no download unless a test says so.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from faas_bridge.cli import EXIT_BAD_EVENT, EXIT_BAD_TARGET, EXIT_MISSING_EXTRA, EXIT_USAGE, main
from faas_bridge.package import ResolverMissingError, build_package, deps, select_files

ROOT = Path(__file__).resolve().parent.parent


def _tiny_project(folder: Path, requirements: str | None = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(
        "def app(environ, start_response):\n"
        "    body = b'hello from ' + environ['PATH_INFO'].encode('latin-1')\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain; charset=utf-8')])\n"
        "    return [body]\n",
        encoding="utf-8",
    )
    if requirements is not None:
        (folder / "requirements.txt").write_text(requirements, encoding="utf-8")
    return folder


def _write(root: Path, *names: str, text: str = "x") -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _names(archive: Path) -> set[str]:
    with zipfile.ZipFile(archive) as source:
        return set(source.namelist())


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["package", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_error_line(err: str) -> str:
    errors = [line for line in err.splitlines() if line.startswith("faas-bridge: error: ")]
    assert len(errors) == 1, err
    assert "Traceback" not in err
    return errors[0]


# --- never lose or overwrite what package did not make --------------------------------------


def test_a_project_holding_faas_bridge_survives_output_beside_it_with_configs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `pip install faas-bridge -t .` leaves a faas_bridge/ folder in the project; packaging
    # with -o ../x.zip --configs used to unpack into ../<project>/, deleting the project
    project = _tiny_project(tmp_path / "shop")
    _write(project, ".git/HEAD", "tests/test_app.py", "faas_bridge/__init__.py")
    monkeypatch.chdir(project)
    args = [".", "--platform", "tencent", "--entry", "app:app", "--configs", "--name", "shop"]
    code, _, err = _cli([*args, "-o", "../x.zip"], capsys)
    assert code == 0, err
    assert (tmp_path / "x" / ".faas-bridge-package").is_file()
    assert (tmp_path / "x" / "serverless.yml").is_file()
    assert (tmp_path / "x" / "shop" / "index.py").is_file()
    # the installed faas_bridge ships, not the project's copy
    with zipfile.ZipFile(tmp_path / "x.zip") as archive:
        assert archive.read("faas_bridge/__init__.py") != b"x"
    # a zip named like the project would put its deploy folder on the project: refused
    code, _, err = _cli([*args, "-o", "../shop.zip"], capsys)
    assert code == EXIT_USAGE
    assert "would be or hold the project folder" in _one_error_line(err)
    assert not (tmp_path / "shop.zip").exists()
    assert (project / ".git" / "HEAD").is_file()
    assert (project / "tests" / "test_app.py").is_file()
    assert (project / "faas_bridge" / "__init__.py").read_text() == "x"


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (".", "would be or hold the project folder"),
        ("..", "would be or hold the project folder"),
        ("pkg.zip", "lies inside the project"),
        ("static/pkg.zip", "lies inside the project"),
    ],
)
def test_an_output_that_is_holds_or_lies_in_the_project_is_refused(
    output: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = _tiny_project(tmp_path / "shop")
    monkeypatch.chdir(project)
    before = sorted(p.name for p in project.rglob("*"))
    code, _, err = _cli([".", "--platform", "tencent", "--entry", "app:app", "-o", output], capsys)
    assert code == EXIT_USAGE
    assert message in _one_error_line(err)
    assert sorted(p.name for p in project.rglob("*")) == before


def test_builds_for_each_cloud_and_mode_get_their_own_outputs_and_replace_only_their_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _tiny_project(tmp_path / "shop")
    monkeypatch.chdir(tmp_path)
    for cloud in ("tencent", "cloudbase", "tencent"):
        code, _, err = _cli(
            ["shop", "--platform", cloud, "--entry", "app:app", "--configs", "--env-id", "e"],
            capsys,
        )
        assert code == 0, err
    dist = tmp_path / "dist"
    assert sorted(p.name for p in dist.iterdir()) == [
        "shop-cloudbase-event",
        "shop-cloudbase-event.zip",
        "shop-tencent-event",
        "shop-tencent-event.zip",
    ]
    assert (dist / "shop-cloudbase-event" / "cloudbaserc.json").is_file()
    assert (dist / "shop-tencent-event" / "serverless.yml").is_file()
    # a folder or zip of the same name that package did not write stays as it is
    (dist / "shop-alibaba-event").mkdir()
    (dist / "shop-alibaba-event" / "notes.txt").write_text("mine")
    code, _, err = _cli(
        ["shop", "--platform", "alibaba", "--entry", "app:app", "--configs"], capsys
    )
    assert code == EXIT_USAGE
    assert "was not written by faas-bridge package" in _one_error_line(err)
    assert (dist / "shop-alibaba-event" / "notes.txt").read_text() == "mine"
    assert not (dist / "shop-alibaba-event.zip").exists()
    (dist / "mine.zip").write_bytes(b"not a zip")
    code, _, err = _cli(
        ["shop", "--platform", "alibaba", "--entry", "app:app", "-o", "dist/mine.zip"], capsys
    )
    assert code == EXIT_USAGE
    assert (dist / "mine.zip").read_bytes() == b"not a zip"
    assert project.is_dir()


@pytest.mark.parametrize("output", ["out/pkg", "out/pkg.tar.gz", "out/pkg.ZIP.bak"])
def test_an_output_not_named_zip_is_refused_before_anything_is_written(
    output: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # -o out/pkg --configs wrote the zip, then stopped (exit 2) because the deploy folder,
    # named like the zip without .zip, was the zip itself; and Serverless Devs zips a code
    # path that does not end in .zip again instead of uploading it
    _tiny_project(tmp_path / "shop")
    monkeypatch.chdir(tmp_path)
    args = ["shop", "--platform", "alibaba", "--entry", "app:app", "--configs", "-o", output]
    code, _, err = _cli(args, capsys)
    assert code == EXIT_USAGE
    assert ".zip" in _one_error_line(err)
    assert not (tmp_path / "out").exists()


def test_the_projects_own_dist_folder_is_where_it_writes_and_is_not_packaged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _tiny_project(tmp_path / "shop")
    monkeypatch.chdir(project)
    for mode_cloud in ("tencent", "alibaba"):
        code, _, err = _cli([".", "--platform", mode_cloud, "--entry", "app:app"], capsys)
        assert code == 0, err
    names = _names(project / "dist" / "shop-alibaba-event.zip")
    assert not [n for n in names if n.startswith("dist/")]


# --- what goes in ---------------------------------------------------------------------------

# each secret, and the name the warning gives (a folder where a whole folder stays out)
SECRETS = {
    ".env": ".env",
    ".env.production": ".env.production",
    "secrets.json": "secrets.json",
    "server.pem": "server.pem",
    "tls/private.key": "tls/private.key",
    ".aws/credentials": ".aws/",
    ".ssh/id_rsa": ".ssh/",
    ".npmrc": ".npmrc",
    ".netrc": ".netrc",
    ".pypirc": ".pypirc",
    ".docker/config.json": ".docker/config.json",
}


def test_secrets_stay_out_each_named_in_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "shop")
    _write(project, *SECRETS, text="SECRET=1")
    (project / ".env").chmod(0o600)
    output = tmp_path / "shop.zip"
    code, _out, err = _cli(
        [str(project), "--platform", "tencent", "--entry", "app:app", "-o", str(output)], capsys
    )
    assert code == 0, err
    names = _names(output)
    assert "app.py" in names
    for secret, shown in SECRETS.items():
        assert secret not in names
        assert f"left out {shown} (secret" in err, shown
    with zipfile.ZipFile(output) as archive:
        assert not [i for i in archive.infolist() if b"SECRET=1" in archive.read(i)]


def test_a_pem_file_of_certificates_only_goes_in_and_one_with_a_key_stays_out(
    tmp_path: Path,
) -> None:
    # a vendored certifi/cacert.pem (pip install -t . leaves one) was left out as a
    # "secret", and requests then found no CA bundle on the cloud
    project = _tiny_project(tmp_path / "shop")
    cert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ==\n-----END CERTIFICATE-----\n"
    key = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n"
    bundle = '\n# Issuer: CN=Example Root CA\n# Label: "Example Root CA"\n' + cert
    _write(project, "certifi/__init__.py", "certifi/cacert.pem", text=bundle * 3)
    _write(project, "tls/server.pem", text=cert + key)
    _write(project, "tls/notes.pem", text="SECRET=1")
    selection = select_files(project)
    names = {f.arcname for f in selection.files}
    assert "certifi/cacert.pem" in names
    reasons = {item.name: item.reason for item in selection.excluded}
    assert reasons["tls/server.pem"] == reasons["tls/notes.pem"] == "secret"


def test_env_files_by_any_name_and_links_to_secrets_stay_out(tmp_path: Path) -> None:
    # config/app.env (docker compose's env_file) went in, and so did a secret under
    # another name: a symlink settings/local.cfg -> ../.env shipped .env's content
    project = _tiny_project(tmp_path / "shop")
    _write(project, ".env", "config/app.env", "keys/deploy.key", text="SECRET=1")
    _write(project, "settings/base.cfg", text="DEBUG=0")
    (project / "settings" / "local.cfg").symlink_to("../.env")
    (project / "settings" / "deploy").symlink_to("../keys")
    selection = select_files(project)
    names = {f.arcname for f in selection.files}
    assert names == {"app.py", "requirements.txt", "settings/base.cfg"}
    reasons = {item.name: item.reason for item in selection.excluded}
    assert reasons["config/app.env"] == reasons["settings/local.cfg"] == "secret"


def test_include_brings_back_what_a_default_rule_leaves_out(tmp_path: Path) -> None:
    project = _tiny_project(tmp_path / "shop")
    _write(project, ".env.example", ".env", "settings/prod.key")
    selection = select_files(project, includes=[".env.example", "*.key"])
    names = {f.arcname for f in selection.files}
    assert {".env.example", "settings/prod.key"} <= names
    assert ".env" not in names


def test_gitignore_files_at_every_level_with_negations_decide_what_goes_in(
    tmp_path: Path,
) -> None:
    project = _tiny_project(tmp_path / "shop")
    (project / ".gitignore").write_text("*.log\n!keep.log\nlocal/\n/media/\n")
    _write(project, "a.log", "keep.log", "local/x.py", "media/big.bin", "pkg/media/icon.png")
    (project / "pkg").mkdir(exist_ok=True)
    (project / "pkg" / ".gitignore").write_text("*.tmp\n!important.tmp\n")
    _write(project, "pkg/a.tmp", "pkg/important.tmp", "pkg/b.log")
    selection = select_files(project)
    names = {f.arcname for f in selection.files}
    assert {"keep.log", "pkg/important.tmp", "pkg/media/icon.png", ".gitignore"} <= names
    assert not names & {"a.log", "local/x.py", "media/big.bin", "pkg/a.tmp", "pkg/b.log"}
    reasons = {item.name: item.reason for item in selection.excluded}
    assert reasons["a.log"] == ".gitignore"
    assert reasons["local/"] == ".gitignore"
    assert not [item for item in selection.excluded if item.warned]


def test_only_top_level_tests_are_left_out_and_nested_dist_and_test_files_are_kept(
    tmp_path: Path,
) -> None:
    project = _tiny_project(tmp_path / "shop")
    kept = [
        "static/dist/bundle.js",
        "services/test_data_loader.py",
        "services/tests/fixtures.py",
        "build/generated.py",
        "dist/readme.txt",
        "lib/conftest.py",
        "checks_test.py",
    ]
    _write(project, *kept, "tests/test_app.py", "test/test_more.py", "conftest.py")
    selection = select_files(project)
    names = {f.arcname for f in selection.files}
    assert set(kept) <= names
    assert not names & {"tests/test_app.py", "test/test_more.py", "conftest.py"}
    assert {i.name for i in selection.excluded if i.warned} == {"tests/", "test/", "conftest.py"}


def test_version_control_virtualenvs_and_caches_stay_out(tmp_path: Path) -> None:
    project = _tiny_project(tmp_path / "shop")
    _write(project, ".git/HEAD", ".venv/lib/x.py", "env2/pyvenv.cfg", "env2/lib/y.py")
    _write(project, "__pycache__/app.cpython-311.pyc", "pkg/__pycache__/m.pyc", "pkg/m.py")
    _write(project, ".pytest_cache/v", ".mypy_cache/x", "shop.egg-info/PKG-INFO")
    selection = select_files(project)
    assert {f.arcname for f in selection.files} == {"app.py", "requirements.txt", "pkg/m.py"}
    reasons = {item.name: item.reason for item in selection.excluded}
    assert reasons[".git/"] == "version control"
    assert reasons[".venv/"] == reasons["env2/"] == "virtualenv"
    assert reasons["__pycache__/"] == "cache"


def test_a_git_file_of_a_worktree_or_submodule_stays_out(tmp_path: Path) -> None:
    # a worktree's or submodule's .git is a file naming the user's own folders; only .git/
    # folders were left out, so the file shipped
    project = _tiny_project(tmp_path / "shop")
    _write(project, ".git", "vendor/lib/.git", text="gitdir: /home/me/work/.git/worktrees/shop")
    _write(project, "vendor/lib/__init__.py", ".gitmodules")
    selection = select_files(project)
    names = {f.arcname for f in selection.files}
    assert names == {"app.py", "requirements.txt", "vendor/lib/__init__.py"}
    reasons = {item.name: item.reason for item in selection.excluded}
    assert reasons[".git"] == reasons["vendor/lib/.git"] == "version control"


def test_exclude_globs_from_the_command_line_and_pyproject(tmp_path: Path) -> None:
    project = _tiny_project(tmp_path / "shop")
    _write(project, "docs/a.md", "data/big.csv", "data/small.csv", "notes.txt")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "shop"\ndependencies = []\n'
        '[tool.faas-bridge.package]\nexclude = ["data/"]\ninclude = ["data/small.csv"]\n'
    )
    code = main(
        [
            "package",
            str(project),
            "--platform",
            "tencent",
            "--entry",
            "app:app",
            "--exclude",
            "docs/",
            "--exclude",
            "*.txt",
            "--dry-run",
        ]
    )
    assert code == 0
    selection = select_files(
        project, includes=["data/small.csv"], excludes=["data/", "docs/", "*.txt"]
    )
    names = {f.arcname for f in selection.files}
    assert names == {"app.py", "data/small.csv", "pyproject.toml"}


def test_symlinks_inside_are_followed_and_outside_ones_are_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "shop")
    _write(project, "real/data.txt", text="inside")
    (project / "linked.txt").symlink_to(project / "real" / "data.txt")
    (project / "linked_dir").symlink_to(project / "real")
    (project / "loop").symlink_to(project)
    selection = select_files(project)
    names = {f.arcname for f in selection.files}
    assert {"linked.txt", "linked_dir/data.txt", "real/data.txt"} <= names

    outside = tmp_path / "passwords"
    outside.write_text("root:x:0:0")
    (project / "passwd").symlink_to(outside)
    output = tmp_path / "out.zip"
    args = [str(project), "--platform", "tencent", "--entry", "app:app", "-o", str(output)]
    code, _, err = _cli(args, capsys)
    assert code == EXIT_BAD_TARGET
    line = _one_error_line(err)
    assert "passwd is a symlink to" in line
    assert "outside the project" in line
    assert not output.exists()
    code, _, err = _cli([*args, "--follow-symlinks"], capsys)
    assert code == 0, err
    with zipfile.ZipFile(output) as archive:
        assert archive.read("passwd") == b"root:x:0:0"


def test_a_link_to_a_device_and_a_fifo_are_errors_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "shop")
    (project / "zero").symlink_to("/dev/zero")
    args = [str(project), "--platform", "tencent", "--entry", "app:app"]
    args += ["-o", str(tmp_path / "o.zip"), "--follow-symlinks"]
    code, _, err = _cli(args, capsys)
    assert code == EXIT_BAD_TARGET
    assert "zero is a device" in _one_error_line(err)
    (project / "zero").unlink()
    os.mkfifo(project / "pipe")
    code, _, err = _cli(args, capsys)
    assert code == EXIT_BAD_TARGET
    assert "pipe is a FIFO" in _one_error_line(err)
    code, _, err = _cli([*args, "--exclude", "pipe"], capsys)
    assert code == 0, err


def test_a_file_name_that_is_not_utf8_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "shop")
    with open(os.fsencode(project) + b"/caf\xe9.txt", "wb") as file:
        file.write(b"x")
    code, _, err = _cli(
        [
            str(project),
            "--platform",
            "tencent",
            "--entry",
            "app:app",
            "-o",
            str(tmp_path / "o.zip"),
        ],
        capsys,
    )
    assert code == EXIT_BAD_TARGET
    assert "caf\\xe9.txt: the file name is not UTF-8" in _one_error_line(err)


def test_modes_are_normalised_and_the_zip_is_reproducible(tmp_path: Path) -> None:
    project = _tiny_project(tmp_path / "shop")
    (project / "app.py").chmod(0o600)
    _write(project, "run.sh", "private.txt")
    (project / "run.sh").chmod(0o700)
    (project / "private.txt").chmod(0o640)
    first = build_package(project, platform="tencent", entry="app:app", output=tmp_path / "1.zip")
    (project / "app.py").touch()  # a new mtime must not change the zip
    second = build_package(project, platform="tencent", entry="app:app", output=tmp_path / "2.zip")
    digest = [hashlib.sha256(r.path.read_bytes()).hexdigest() for r in (first, second)]
    assert digest[0] == digest[1]
    with zipfile.ZipFile(first.path) as archive:
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in archive.infolist()}
    assert modes["app.py"] == modes["private.txt"] == modes["index.py"] == 0o644
    assert modes["run.sh"] == 0o755
    assert set(modes.values()) == {0o644, 0o755}


# --- requirements ----------------------------------------------------------------------------


def test_hash_pinned_requirements_with_includes_and_options_install(tmp_path: Path) -> None:
    # pip-compile / uv export output: hashes, a -r include, an option line, a marker
    project = _tiny_project(tmp_path / "shop", "-r base.txt\n--only-binary :all:\n")
    (project / "base.txt").write_text(
        "six==1.16.0 \\\n"
        "    --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n"
        "    # via shop\n"
    )
    result = build_package(project, platform="tencent", entry="app:app", output=tmp_path / "h.zip")
    assert "six.py" in _names(result.path)
    assert result.resolver == "uv"


def test_web_mode_keeps_the_requirements_hash_checking_their_own(tmp_path: Path) -> None:
    # --require-hashes covers the project's file; the servers web mode adds carry no
    # hashes of theirs, and must not be pulled into that check
    project = _tiny_project(tmp_path / "shop", "--require-hashes\n")
    (project / "requirements.txt").write_text(
        "--require-hashes\n"
        "six==1.16.0 \\\n"
        "    --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n"
    )
    result = build_package(
        project, platform="tencent", mode="web", entry="app:app", output=tmp_path / "w.zip"
    )
    names = _names(result.path)
    assert "six-1.16.0.dist-info/METADATA" in names
    assert "uvicorn/__init__.py" in names


def test_pyproject_dependencies_are_installed_without_faas_bridge(tmp_path: Path) -> None:
    project = _tiny_project(tmp_path / "shop", requirements=None)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "shop"\ndependencies = ["six==1.16.0", "faas-bridge"]\n'
    )
    result = build_package(
        project, platform="cloudbase", entry="app:app", output=tmp_path / "p.zip"
    )
    names = _names(result.path)
    assert "six.py" in names
    assert result.requirements == "pyproject.toml [project] dependencies"
    assert not [n for n in names if n.startswith("faas_bridge-")]


def test_a_uv_project_ships_the_versions_its_lock_pins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a uv project's pyproject.toml says "six", its uv.lock says 1.16.0: the zip got the
    # newest six, not what the project was tested with
    project = _tiny_project(tmp_path / "shop", requirements=None)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "shop"\nversion = "1"\nrequires-python = ">=3.9"\n'
        'dependencies = ["six==1.16.0", "faas-bridge"]\n'
        f'[tool.uv.sources]\nfaas-bridge = {{ path = "{ROOT}" }}\n'
    )
    uv = deps._uv()
    assert uv is not None
    subprocess.run([uv, "lock", "--quiet"], cwd=project, check=True)
    pyproject.write_text(pyproject.read_text().replace("six==1.16.0", "six"))
    result = build_package(project, platform="tencent", entry="app:app", output=tmp_path / "l.zip")
    assert result.requirements == "uv.lock (uv export --frozen)"
    names = _names(result.path)
    assert "six-1.16.0.dist-info/METADATA" in names
    assert not [n for n in names if n.startswith("faas_bridge-")]
    # without uv, no guess from the ranges: exit 5
    monkeypatch.setattr(deps, "_uv", lambda: None)
    with pytest.raises(ResolverMissingError, match=r"has a uv\.lock: install uv"):
        build_package(project, platform="tencent", entry="app:app", output=tmp_path / "m.zip")


def test_a_target_python_the_project_excludes_is_one_line_and_exit_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # uv init on 3.11 writes requires-python = ">=3.11", and uv.lock then holds no 3.10
    # wheels: packaging for 3.10 ended in "Hash mismatch for markupsafe", or in a zip
    # of code its own project says needs a newer Python
    project = _tiny_project(tmp_path / "shop", requirements=None)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "shop"\nversion = "1"\nrequires-python = ">=3.11"\ndependencies = []\n'
    )
    output = tmp_path / "never.zip"
    args = [str(project), "--platform", "tencent", "--python", "3.10", "--entry", "app:app"]
    code, _, err = _cli([*args, "-o", str(output)], capsys)
    assert code == EXIT_BAD_EVENT
    line = _one_error_line(err)
    assert 'requires-python = ">=3.11"' in line
    assert "Python 3.10" in line
    assert not output.exists()
    code, _, err = _cli([*args[:-3], "3.11", *args[-2:], "-o", str(output)], capsys)
    assert code == 0, err


@pytest.mark.parametrize("where", ["variable", "pip.conf"])
def test_a_pip_index_that_uv_would_ignore_is_named_in_a_warning_without_its_url(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uv reads neither pip.conf nor PIP_INDEX_URL: a user with a mirror (or a private index
    # with a token in its URL) got PyPI, or "not found", with no hint why
    project = _tiny_project(tmp_path / "shop")
    url = "https://alice:t0ken@mirror.example/simple"
    for name in [n for n in os.environ if n.startswith(("UV_", "PIP_"))]:
        monkeypatch.delenv(name)
    if where == "variable":
        monkeypatch.setenv("PIP_INDEX_URL", url)
    else:
        config = tmp_path / "home" / ".config" / "pip" / "pip.conf"
        config.parent.mkdir(parents=True)
        config.write_text(f"[global]\nindex-url = {url}\n")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    result = build_package(project, platform="tencent", entry="app:app", output=tmp_path / "i.zip")
    (warning,) = [w for w in result.warnings if "uv does not read" in w]
    assert ("PIP_INDEX_URL" if where == "variable" else str(config)) in warning
    assert "UV_DEFAULT_INDEX" in warning
    assert "t0ken" not in " ".join(result.warnings)
    # set for uv too: no warning
    monkeypatch.setenv("UV_DEFAULT_INDEX", "https://pypi.org/simple")
    result = build_package(project, platform="tencent", entry="app:app", output=tmp_path / "i.zip")
    assert not [w for w in result.warnings if "uv does not read" in w]


def test_web_mode_ships_the_start_file_executable_and_the_servers(tmp_path: Path) -> None:
    project = _tiny_project(tmp_path / "tiny")
    result = build_package(
        project, platform="tencent", mode="web", entry="app:app", output=tmp_path / "web.zip"
    )
    with zipfile.ZipFile(result.path) as archive:
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
        start = archive.read("scf_bootstrap").decode()
    assert modes["scf_bootstrap"] == 0o755
    assert "-m faas_bridge serve app:app --platform tencent --host 0.0.0.0 --port 9000" in start
    assert "a2wsgi/__init__.py" in modes
    assert "uvicorn/__init__.py" in modes
    assert not [name for name in modes if name.startswith("bin/")]


def test_web_mode_holds_the_servers_to_the_projects_pins_not_over_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the servers were a second install into the same folder, free: the project's own
    # uvicorn==0.28.0 was silently replaced by the newest uvicorn
    project = _tiny_project(tmp_path / "shop", "uvicorn==0.28.0\n")
    output = tmp_path / "web.zip"
    args = [str(project), "--platform", "tencent", "--mode", "web", "--entry", "app:app"]
    code, _, err = _cli([*args, "-o", str(output)], capsys)
    assert code == EXIT_BAD_EVENT
    line = _one_error_line(err)
    assert "uvicorn==0.28.0" in line
    assert "uvicorn>=0.29" in line
    assert not output.exists()


def test_a_requirement_that_cannot_be_installed_is_one_line_and_exit_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "shop", "six==0.0.0\n")
    output = tmp_path / "never.zip"
    args = [str(project), "--platform", "tencent", "--entry", "app:app", "-o", str(output)]
    code, _, err = _cli(args, capsys)
    assert code == EXIT_BAD_EVENT
    line = _one_error_line(err)
    assert "cannot install the requirements for CPython 3.10" in line
    assert "six==0.0.0" in line
    assert not output.exists()


def test_missing_requirements_is_one_line_and_exit_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "shop", requirements=None)
    code, _, err = _cli([str(project), "--platform", "tencent", "--entry", "app:app"], capsys)
    assert code == EXIT_BAD_EVENT
    assert "has no requirements.txt or pyproject.toml" in _one_error_line(err)


def test_without_uv_pip_runs_only_under_the_target_python(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _tiny_project(tmp_path / "shop")
    monkeypatch.setattr(deps, "_uv", lambda: None)
    interpreter = deps.find_interpreter("3.10")
    if interpreter is not None:
        result = build_package(
            project, platform="tencent", entry="app:app", output=tmp_path / "pip.zip"
        )
        assert result.resolver == "pip"
    monkeypatch.setattr(deps, "find_interpreter", lambda python, explicit=None: None)
    args = [str(project), "--platform", "tencent", "--entry", "app:app"]
    code, _, err = _cli([*args, "-o", str(tmp_path / "x.zip")], capsys)
    assert code == EXIT_MISSING_EXTRA
    line = _one_error_line(err)
    assert "uv is not installed" in line
    assert "no Python 3.10 interpreter" in line


# --- the check -------------------------------------------------------------------------------


def test_an_entry_naming_nothing_is_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "shop")
    for entry, message in [("app:nope", "defines no 'nope'"), ("nope:app", "no module 'nope'")]:
        code, _, err = _cli([str(project), "--platform", "alibaba", "--entry", entry], capsys)
        assert code == EXIT_BAD_TARGET
        assert message in _one_error_line(err)
    code, _, err = _cli([str(project), "--platform", "cloudbase"], capsys)
    assert code == EXIT_BAD_TARGET
    assert "no index.py: pass --entry module:app" in _one_error_line(err)


def test_an_entry_that_fails_to_import_under_the_target_python_is_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if deps.find_interpreter("3.10") is None:
        pytest.skip("no Python 3.10 here")
    project = _tiny_project(tmp_path / "shop")
    (project / "index.py").write_text("import not_installed_anywhere\nmain_handler = None\n")
    output = tmp_path / "o.zip"
    code, _, err = _cli([str(project), "--platform", "tencent", "-o", str(output)], capsys)
    assert code == EXIT_BAD_TARGET
    line = _one_error_line(err)
    assert "index.main_handler does not import" in line
    assert "No module named 'not_installed_anywhere'" in line
    assert not output.exists()
    # an app that needs the cloud's environment at import can skip the run
    code, out, err = _cli(
        [str(project), "--platform", "tencent", "-o", str(output), "--no-check"], capsys
    )
    assert code == 0, err
    assert "found in the source (not run)" in out
    assert [n for n in _names(output) if n.endswith(".cpython-310.pyc")]


def test_without_a_target_interpreter_it_ships_sources_and_checks_statically(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deps, "find_interpreter", lambda python, explicit=None: None)
    project = _tiny_project(tmp_path / "shop")
    output = tmp_path / "o.zip"
    args = [str(project), "--platform", "tencent", "--python", "3.12", "-o", str(output)]
    code, out, err = _cli([*args, "--entry", "app:app"], capsys)
    assert code == 0, err
    assert "no Python 3.12 interpreter found" in err
    assert "not run" in out
    assert not [n for n in _names(output) if n.endswith(".pyc")]
    (project / "index.py").write_text("from app import app\n")  # no main_handler
    code, _, err = _cli(args, capsys)
    assert code == EXIT_BAD_TARGET
    assert "index:main_handler" in _one_error_line(err)


# --- runtimes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cloud", "python", "mode", "message"),
    [
        ("alibaba", "3.11", "event", "no built-in Python 3.11 runtime"),
        ("alibaba", "3.9", "web", "no web runtime for Python 3.9"),
        ("cloudbase", "3.12", "event", "no built-in Python 3.12 runtime"),
        ("cloudbase", "3.12", "web", "no web runtime for Python 3.12"),
    ],
)
def test_a_runtime_the_cloud_does_not_offer_is_refused(
    cloud: str,
    python: str,
    mode: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = _tiny_project(tmp_path / "shop")
    args = [str(project), "--platform", cloud, "--python", python, "--mode", mode]
    code, _, err = _cli([*args, "--entry", "app:app", "-o", str(tmp_path / "o.zip")], capsys)
    assert code == EXIT_USAGE
    assert message in _one_error_line(err)
    assert not (tmp_path / "o.zip").exists()


def test_an_unverified_runtime_is_a_warning_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deps, "find_interpreter", lambda python, explicit=None: None)
    project = _tiny_project(tmp_path / "shop")
    args = [str(project), "--platform", "tencent", "--python", "3.12", "--entry", "app:app"]
    code, _, err = _cli([*args, "-o", str(tmp_path / "o.zip")], capsys)
    assert code == 0, err
    assert "runtime name 'Python3.12' for Python 3.12 is unverified" in err


# --- what it says ----------------------------------------------------------------------------


def test_progress_then_a_summary_and_quiet_keeps_only_the_result_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "shop")
    _write(project, ".env", "tests/test_a.py")
    output = tmp_path / "out" / "shop.zip"
    args = [str(project), "--platform", "tencent", "--entry", "app:app", "-o", str(output)]
    code, out, err = _cli(args, capsys)
    assert code == 0, err
    assert "installing requirements.txt for CPython 3.10, manylinux_2_28 x86_64, with uv" in err
    assert f"wrote {output}" in out
    assert "MiB zipped" in out
    assert "MiB unzipped" in out
    assert "largest: faas_bridge/" in out
    assert "left out: .env (secret), tests/ (tests (top level))" in out
    assert output.stat().st_mode & stat.S_IRUSR
    code, out, err = _cli([*args, "-q"], capsys)
    assert code == 0
    assert out.count("\n") == 1
    assert "installing" not in err


def test_dry_run_lists_what_would_go_in_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "shop", "package-that-does-not-exist-anywhere\n")
    _write(project, "static/dist/app.js", ".env")
    output = tmp_path / "o.zip"
    args = [str(project), "--platform", "tencent", "--entry", "app:app", "-o", str(output)]
    code, out, err = _cli([*args, "--dry-run", "--mode", "web"], capsys)
    assert code == 0, err
    assert "  static/dist/app.js\n" in out
    assert "  index.py\n" in out
    assert "  scf_bootstrap\n" in out
    assert "left out .env (secret)" in out
    assert not output.exists()


def test_the_command_runs_as_a_module_without_a_traceback_on_errors(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "faas_bridge",
            "package",
            str(tmp_path / "missing"),
            "--platform",
            "tencent",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == EXIT_BAD_TARGET
    assert completed.stderr.count("\n") == 1
    assert "no such project folder" in completed.stderr


def test_without_the_package_extra_it_is_one_line_and_exit_5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # plain `pip install faas-bridge` has no pathspec: package died with a traceback
    project = _tiny_project(tmp_path / "shop")
    monkeypatch.setitem(sys.modules, "pathspec", None)  # import pathspec -> ImportError
    output = tmp_path / "never.zip"
    args = [str(project), "--platform", "tencent", "--entry", "app:app", "-o", str(output)]
    code, _, err = _cli(args, capsys)
    assert code == EXIT_MISSING_EXTRA
    assert "pip install 'faas-bridge[package]'" in _one_error_line(err)
    assert not output.exists()


def test_package_settings_are_never_ignored_for_want_of_a_toml_reader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # on Python < 3.11 without tomli, [tool.faas-bridge.package] was skipped without a
    # word: a file its exclude list kept out went into the zip
    project = _tiny_project(tmp_path / "shop")
    _write(project, "private_notes.txt")
    (project / "pyproject.toml").write_text(
        '[tool.faas-bridge.package]\nexclude = ["private_notes.txt"]\n'
    )
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    output = tmp_path / "never.zip"
    args = [str(project), "--platform", "tencent", "--entry", "app:app", "-o", str(output)]
    code, _, err = _cli(args, capsys)
    assert code == EXIT_MISSING_EXTRA
    assert "tomli" in _one_error_line(err)
    assert not output.exists()


Make = Callable[[Path], Path]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "no such project folder"),
        (lambda p: (p / "file.py", (p / "file.py").write_text(""))[0], "not a folder"),
        (lambda p: p, "holds no Python module"),
    ],
)
def test_a_bad_project_folder_is_one_line_and_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: Make, message: str
) -> None:
    code, _, err = _cli([str(make(tmp_path)), "--platform", "tencent"], capsys)
    assert code == EXIT_BAD_TARGET
    assert message in _one_error_line(err)
    assert err.count("\n") == 1

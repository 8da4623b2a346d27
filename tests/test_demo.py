"""``python3 dev.py demo`` as a new user runs it: a checkout and nothing beside it."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from unicodedata import east_asian_width

import pytest

from faas_bridge.testing import list_events

ROOT = Path(__file__).resolve().parents[1]
# The modules of the dev extra the demo must not need (dev.py demo does not install them).
DEV_ONLY = {"hypothesis", "mypy", "ruff", "django", "httpx", "uvicorn", "gunicorn", "yaml"}

RUN_DEMO = """
import runpy, sys
runpy.run_module("examples.demo", run_name="__main__")
print("MODULES", " ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def columns(text: str) -> int:
    return sum(2 if east_asian_width(char) in "WF" else 1 for char in text)


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    nowhere = tmp_path_factory.mktemp("no-shared") / "reference-events"  # does not exist
    env = {**os.environ, "FAAS_BRIDGE_REFERENCE_EVENTS": str(nowhere), "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-c", RUN_DEMO],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_demo_needs_nothing_outside_the_checkout(demo_output: str) -> None:
    # Issue 18: part 1 read ../shared/reference-events, which a clone never has.
    part1 = demo_output.split("Part 2")[0]
    assert "shared" not in demo_output
    assert "Part 1b" not in demo_output
    answered = [line for line in part1.splitlines() if "→" in line]
    http_samples = [name for name in list_events() if not name.endswith("/timer")]
    assert [line.split()[0] for line in answered] == http_samples
    statuses = [int(line.split("→")[1].split()[0]) for line in answered]
    assert all(200 <= status < 300 for status in statuses), part1


def test_the_demo_columns_line_up_with_chinese_paths(demo_output: str) -> None:
    # Issue 18: the /你好 row was two columns wider than the others.
    rows = [line for line in demo_output.splitlines() if "→" in line and "Part" not in line]
    assert any("/你好" in row for row in rows)
    arrows = {columns(row[: row.index("→")]) for row in rows if row.startswith("    ")}
    assert len(arrows) == 1, arrows


def test_the_demo_imports_only_what_dev_py_demo_installs(demo_output: str) -> None:
    modules = set(demo_output.rsplit("MODULES", 1)[1].split())
    assert not modules & DEV_ONLY


def load_dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_dev_tasks", ROOT / "dev.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dev_py_demo_installs_the_few_packages_not_the_dev_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 18: the first `dev.py demo` installed the whole dev extra (52 s).
    dev = load_dev()
    commands: list[list[str]] = []
    monkeypatch.setattr(dev, "VENV", tmp_path)
    monkeypatch.setattr(dev, "create_venv", lambda: None)
    monkeypatch.setattr(dev, "run", commands.append)
    dev.main(["demo"])
    installs = [command for command in commands if "install" in command]
    assert len(installs) == 1
    assert "-e" not in installs[0]
    assert installs[0][-len(dev.DEMO_PACKAGES) :] == list(dev.DEMO_PACKAGES)
    assert commands[-1][-2:] == ["-m", "examples.demo"]
    commands.clear()
    dev.main(["demo"])  # installed once: the second run only runs the demo
    assert [command for command in commands if "install" in command] == []


def test_the_dev_extra_covers_the_demo_packages() -> None:
    dev = load_dev()
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    dev_extra: Any = text.split("\ndev = [", 1)[1].split("\n]", 1)[0]
    for requirement in dev.DEMO_PACKAGES:
        assert json.dumps(requirement) in dev_extra

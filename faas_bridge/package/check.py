"""Make a built package start fast and prove it starts: byte-code for the target Python,
the run check in an isolated interpreter of that version, and the static check used when
there is none.

Byte-code is compiled by an interpreter of the target version (a ``.pyc`` is only read by
the version that wrote it) with ``unchecked-hash`` invalidation (PEP 552): the clouds unpack
the zip into a read-only folder with new timestamps, where timestamp-checked byte-code
would be ignored and every cold start would compile every module again.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import ProjectError

__all__ = ["CheckResult", "compile_bytecode", "entry_problem", "run_check", "static_check"]

# Runs as `python -I -S -B -c CHECK folder format handler target`: only the unpacked
# package and the standard library can be imported. Prints one JSON line.
CHECK = r"""
import importlib, json, os, sys
sys.path.insert(0, sys.argv[1])
fmt, handler_name, target, mode = sys.argv[2:6]
def say(**fields):
    print(json.dumps(fields), flush=True)
    os._exit(0)
try:
    if mode == "web":
        module, _, attr = target.partition(":")
        app = importlib.import_module(module)
        for part in attr.split("."):
            app = getattr(app, part)
        import uvicorn, a2wsgi
        from faas_bridge import make_handler
        from faas_bridge.handler import Handler
        handler = app if isinstance(app, Handler) else make_handler(app)
    else:
        import index
        handler = getattr(index, handler_name)
except BaseException as exc:
    say(stage="import", error="%s: %s" % (type(exc).__name__, exc))
try:
    from faas_bridge.testing import build_context, build_event, parse_response
    returned = handler(build_event(fmt, "GET", "/"), build_context(fmt))
    say(stage="answered", status=parse_response(fmt, returned).status_code)
except BaseException as exc:
    say(stage="call", error="%s: %s" % (type(exc).__name__, exc))
"""


@dataclass(frozen=True)
class CheckResult:
    """What the check found: ``ran`` (imported and called) or only a static look."""

    ran: bool
    status: int | None
    note: str


def compile_bytecode(interpreter: str, folder: Path, code_dir: str) -> str | None:
    """Compile every module under ``folder`` with ``interpreter`` (unchecked-hash pycs,
    tracebacks naming ``code_dir``); a warning when some files did not compile."""
    command = [interpreter, "-s", "-m", "compileall", "-q", "-q"]
    command += ["--invalidation-mode", "unchecked-hash", "-s", str(folder), "-p", code_dir]
    # a fixed hash seed: frozenset constants are marshalled in hash order, so the same
    # source gives the same byte-code (and the same zip) on every run
    # (not -I, which ignores it; the other PYTHON* variables are left out instead)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = "0"
    completed = subprocess.run(
        [*command, str(folder)], capture_output=True, text=True, timeout=600, check=False, env=env
    )
    if completed.returncode == 0:
        return None
    return (
        "some files did not compile to byte-code and ship as sources only"
        f" ({interpreter} -m compileall exit {completed.returncode})"
    )


def run_check(
    interpreter: str, folder: Path, *, event_format: str, handler: str, target: str, mode: str
) -> CheckResult:
    """Import the entry from ``folder`` under ``interpreter`` and answer ``GET /`` in the
    cloud's event format. :class:`ProjectError` when the entry does not import."""
    command = [interpreter, "-I", "-S", "-B", "-c", CHECK, str(folder)]
    command += [event_format, handler, target, mode]
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False, cwd=folder.parent
        )
    except subprocess.TimeoutExpired as exc:
        raise ProjectError(
            f"the packaged app did not answer within 120 s under {interpreter}"
        ) from exc
    lines = completed.stdout.strip().splitlines()
    try:
        found = json.loads(lines[-1])
    except (IndexError, ValueError):
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise ProjectError(f"the packaged app crashed under {interpreter}: {last}") from None
    what = target if mode == "web" else f"index.{handler}"
    if found["stage"] == "import":
        raise ProjectError(
            f"{what} does not import from the package under {interpreter}: {found['error']}"
        )
    if found["stage"] == "call":
        return CheckResult(
            True, None, f"{what} imported but failed on a sample event: {found['error']}"
        )
    status = int(found["status"])
    return CheckResult(True, status, f"{what} answered GET / with {status}")


def _bound_names(tree: ast.Module) -> tuple[set[str], bool]:
    """Names a module binds at its top level, and whether it may bind others (``import *``,
    a module ``__getattr__``)."""
    names: set[str] = set()
    dynamic = False
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            dynamic = dynamic or node.name == "__getattr__"
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    dynamic = True
                names.add((alias.asname or alias.name).split(".")[0])
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        pending.extend(ast.iter_child_nodes(node))
    return names, dynamic


def entry_problem(folder: Path, target: str) -> str | None:
    """Why ``module:attr`` cannot be found in ``folder`` by reading the source, or None
    (also None when the source cannot say, such as after ``import *``)."""
    module, _, attr = target.partition(":")
    base = folder.joinpath(*module.split("."))
    source = base.with_suffix(".py")
    if not source.is_file():
        source = base / "__init__.py"
    if not source.is_file():
        return f"{folder} has no module {module!r}"
    try:
        tree = ast.parse(source.read_bytes(), str(source))
    except (SyntaxError, ValueError) as exc:
        return f"{source} does not parse: {exc}"
    names, dynamic = _bound_names(tree)
    first = attr.split(".")[0]
    if first in names or dynamic:
        return None
    return f"{source} defines no {first!r}"


def static_check(folder: Path, *, handler: str, target: str, mode: str) -> CheckResult:
    """Without an interpreter of the target version: the entry's module and name exist."""
    wanted = target if mode == "web" else f"index:{handler}"
    problem = entry_problem(folder, wanted)
    if problem is not None:
        raise ProjectError(f"{wanted}: {problem}")
    return CheckResult(False, None, f"{wanted} found in the source (not run)")

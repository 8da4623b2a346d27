"""A process that served ASGI invocations exits normally, and lifespan shutdown still runs.

anyio's worker threads (FastAPI's sync endpoints run in them) are not daemon threads; they
stop only when the loop runs again. Python joins such threads *before* :mod:`atexit`
handlers run, so an exit hook registered there would never get the chance: the process hung.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXIT_TIMEOUT = 30  # generous: a hang is what is tested, not speed

EXAMPLE_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from examples import load_index
from faas_bridge.testing import build_event

index = load_index("fastapi_app")
response = index.main_handler(build_event("tencent_apigw", "GET", "/api/items"), {{}})
print("status", response["statusCode"], flush=True)
"""

APP_SCRIPT = """
import sys, threading
sys.path.insert(0, {root!r})
from contextlib import asynccontextmanager
from fastapi import FastAPI
from faas_bridge import make_handler
from faas_bridge.testing import build_event

@asynccontextmanager
async def lifespan(app):
    print("startup", flush=True)
    yield
    print("shutdown", threading.active_count(), flush=True)

app = FastAPI(lifespan=lifespan)

@app.get("/sync")
def sync_endpoint():  # runs in an anyio worker thread
    return {{"thread": threading.current_thread().name}}

handler = make_handler(app, lifespan={lifespan!r})
for platform in ("tencent_apigw", "alibaba_fc"):
    response = handler(build_event(platform, "GET", "/sync"), None)
    print("status", response["statusCode"], flush=True)
"""


def run_script(source: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(source)],
            capture_output=True,
            text=True,
            timeout=EXIT_TIMEOUT,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:  # subprocess.run kills the child before raising
        raise AssertionError(
            f"the process did not exit within {EXIT_TIMEOUT} s after its invocations"
        ) from None


def test_fastapi_example_process_exits_after_an_invocation() -> None:
    done = run_script(EXAMPLE_SCRIPT.format(root=str(ROOT)))
    assert done.returncode == 0, done.stderr
    assert "status 200" in done.stdout


def test_lifespan_shutdown_runs_at_exit_while_worker_threads_exist() -> None:
    done = run_script(APP_SCRIPT.format(root=str(ROOT), lifespan="auto"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    assert lines[:3] == ["startup", "status 200", "status 200"]
    assert lines[3].startswith("shutdown")
    assert "Traceback" not in done.stderr
    assert "Task was destroyed" not in done.stderr


def test_process_exits_with_lifespan_off() -> None:
    done = run_script(APP_SCRIPT.format(root=str(ROOT), lifespan="off"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["status", "200", "status", "200"]

#!/usr/bin/env python3
"""Project tasks that need nothing but Python 3 and pip.

    python3 dev.py demo    # the example apps answering recorded events of every cloud
    python3 dev.py test    # ruff, mypy (strict) and the whole pytest suite
    python3 dev.py lint    # ruff and mypy only
    python3 dev.py bench   # the benchmark table against the peer adapters, then the
                           # packaged examples' cold start with and without byte-code
    python3 dev.py bench cold   # only the latter

Each task creates ``.venv`` on first use and reinstalls the project into it (editable, with
the extras the task needs) whenever ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_venv(extras: str) -> None:
    """Create the virtualenv and (re)install the project when its metadata changed."""
    if not PYTHON.exists():
        print(f"creating {VENV.relative_to(ROOT)} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".installed-{extras}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing faas-bridge[{extras}] into .venv ...", flush=True)
    run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", f".[{extras}]"])
    stamp.write_text(digest)


def run(command: list[str]) -> None:
    print("$ " + " ".join(command).replace(str(ROOT) + os.sep, ""), flush=True)
    code = subprocess.call(command, cwd=ROOT)
    if code:
        sys.exit(code)


def tool(name: str) -> str:
    return str(BIN / name)


def lint() -> None:
    run([tool("ruff"), "check", "."])
    run([tool("ruff"), "format", "--check", "."])
    run([tool("mypy")])


def main(argv: list[str]) -> None:
    task = argv[0] if argv else "help"
    rest = argv[1:]
    if task == "demo":
        ensure_venv("dev")
        run([str(PYTHON), "-m", "examples.demo", *rest])
    elif task == "test":
        ensure_venv("dev")
        lint()
        run([str(PYTHON), "-m", "pytest", *rest])
    elif task == "lint":
        ensure_venv("dev")
        lint()
    elif task == "bench":
        ensure_venv("dev,bench")
        if rest[:1] == ["cold"]:  # only the packaged apps' cold start
            run([str(PYTHON), "benchmarks/cold_start.py", *rest[1:]])
            return
        run([str(PYTHON), "benchmarks/run.py", *rest])
        run([str(PYTHON), "benchmarks/cold_start.py"])
    else:
        print(__doc__)
        sys.exit(0 if task in ("help", "-h", "--help") else 2)


if __name__ == "__main__":
    main(sys.argv[1:])

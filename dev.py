#!/usr/bin/env python3
"""Project tasks that need nothing but Python 3 and pip.

    python3 dev.py demo    # the example apps answering recorded events of every cloud
    python3 dev.py test    # ruff, mypy (strict) and the whole pytest suite
    python3 dev.py lint    # ruff and mypy only
    python3 dev.py bench   # the benchmark table against the peer adapters, then the
                           # packaged examples' cold start with and without byte-code
    python3 dev.py bench cold   # only the latter

Each task creates ``.venv`` on first use. ``test``, ``lint`` and ``bench`` install the
project into it (editable, with the extras they need) and reinstall whenever
``pyproject.toml`` changes. ``demo`` installs only the example apps' frameworks and runs the
project from this folder, so a first run takes seconds, not the whole ``dev`` extra.
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


# What examples/demo.py imports besides faas_bridge (which it runs from this folder): the
# example apps' frameworks. The `dev` extra includes them all.
DEMO_PACKAGES = ("flask>=2.2", "fastapi>=0.100", "python-multipart>=0.0.9")


def create_venv() -> None:
    if not PYTHON.exists():
        print(f"creating {VENV.relative_to(ROOT)} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)


def installed(extras: str, digest: str) -> bool:
    stamp = VENV / f".installed-{extras}"
    return stamp.exists() and stamp.read_text() == digest


def project_digest(extras: str) -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()


def ensure_venv(extras: str) -> None:
    """Create the virtualenv and (re)install the project when its metadata changed."""
    create_venv()
    digest = project_digest(extras)
    if installed(extras, digest):
        return
    print(f"installing faas-bridge[{extras}] into .venv ...", flush=True)
    run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", f".[{extras}]"])
    (VENV / f".installed-{extras}").write_text(digest)


def ensure_demo_packages() -> None:
    """The demo's few packages, unless the `dev` extra (which has them) is installed."""
    create_venv()
    digest = hashlib.sha256(" ".join(DEMO_PACKAGES).encode()).hexdigest()
    if installed("dev", project_digest("dev")) or installed("demo", digest):
        return
    print(f"installing {', '.join(DEMO_PACKAGES)} into .venv ...", flush=True)
    run(
        [
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *DEMO_PACKAGES,
        ]
    )
    (VENV / ".installed-demo").write_text(digest)


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
        ensure_demo_packages()
        run([str(PYTHON), "-m", "examples.demo", *rest])  # faas_bridge from this folder
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

"""Start files for web-function mode, each starting ``faas-bridge serve`` on the cloud's port:
``scf_bootstrap`` (Tencent SCF, CloudBase) and ``bootstrap`` (Alibaba FC custom runtime).

::

    from faas_bridge.bootstrap import write_bootstrap

    paths = write_bootstrap("index:app", "tencent", "3.10", "build/")

The clouds run the start file with a bare environment, so it names the runtime's interpreter
by absolute path; which file, which interpreter and which port each cloud wants (with where
each fact comes from) lives in ``clouds/<cloud>.py``. Each start file checks its interpreter
exists and says which runtime to pick when it does not.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import NamedTuple

from .clouds import CLOUDS, PYTHON_VERSIONS, get_cloud, web_runtime

__all__ = [
    "PLATFORMS",
    "PYTHON_VERSIONS",
    "Runtime",
    "bootstrap_script",
    "deploy_instructions",
    "runtime_for",
    "write_bootstrap",
]

PLATFORMS: tuple[str, ...] = tuple(CLOUDS)


class Runtime(NamedTuple):
    """One cloud's web runtime: its start file, interpreter and what the console calls it."""

    filename: str
    interpreter: str
    runtime_name: str
    verified: bool


def runtime_for(platform: str, python: str = "3.10") -> Runtime:
    """The start file and interpreter for a cloud and Python version."""
    runtime = web_runtime(platform, python)
    return Runtime(get_cloud(platform).START_FILE, *runtime)


def bootstrap_script(target: str, platform: str, python: str = "3.10") -> str:
    """The start file's text (LF line endings) for ``target`` (``module:attr``)."""
    if not target or any(c in target for c in "\r\n\0"):
        raise ValueError(f"not a usable target: {target!r}")
    cloud = get_cloud(platform)
    runtime = web_runtime(cloud.NAME, python)
    port_args = "" if cloud.START_PORT is None else f" --port {cloud.START_PORT}"
    if cloud.START_PORT is None:
        runtime_hint = f"runtime {runtime.runtime_name}"
    else:
        runtime_hint = f"the {runtime.runtime_name} runtime"
    lines = [
        "#!/bin/bash",
        f"# Start file of {cloud.START_FILE_WHERE}, written by `faas-bridge bootstrap`.",
        f"# Serves {target} on 0.0.0.0 (the platform cannot reach 127.0.0.1), streaming intact,",
        f"# trusting only {cloud.TITLE}'s proxy headers.",
        "set -e",
        'cd "$(dirname "$0")"',
        f"PYTHON={runtime.interpreter}",
        'if [ ! -x "$PYTHON" ]; then',
        f'  echo "{cloud.START_FILE}: no $PYTHON here: use {runtime_hint}" >&2',
        "  exit 1",
        "fi",
        "# the code folder, then layers; dependencies installed with `pip install -t .`",
        'export PYTHONPATH="$PWD:/opt/python:/opt${PYTHONPATH:+:$PYTHONPATH}"',
        "export PYTHONUNBUFFERED=1",
        f'exec "$PYTHON" -m faas_bridge serve {shlex.quote(target)} --platform {cloud.NAME}'
        f" --host 0.0.0.0{port_args}",
        "",
    ]
    return "\n".join(lines)


def write_bootstrap(
    target: str,
    platform: str,
    python: str = "3.10",
    out_dir: str | os.PathLike[str] = ".",
) -> list[Path]:
    """Write the start file for ``platform`` into ``out_dir``; return the paths written.

    Tencent SCF and CloudBase get an executable ``scf_bootstrap``, Alibaba FC an executable
    ``bootstrap`` (the file FC runs when no start command is configured). Both have LF line
    endings and mode 0755.
    """
    text = bootstrap_script(target, platform, python)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / get_cloud(platform).START_FILE
    path.write_bytes(text.encode("utf-8"))
    path.chmod(0o755)
    return [path]


def deploy_instructions(platform: str, python: str = "3.10") -> str:
    """What to do with the written files, as a few lines for a terminal."""
    cloud = get_cloud(platform)
    runtime = web_runtime(cloud.NAME, python)
    deps = (
        "Install dependencies next to your code:\n"
        '  pip install -r requirements.txt "faas-bridge[serve]" -t .\n'
        f"  (on Linux x86_64 with Python {python}, so compiled wheels match the runtime).\n"
    )
    note = (
        ""
        if runtime.verified
        else f"Note: {runtime.interpreter} is not confirmed by the platform's documentation;\n"
        "  the start file stops with a clear message if the runtime has no such interpreter.\n"
    )
    return deps + cloud.web_steps(python) + note

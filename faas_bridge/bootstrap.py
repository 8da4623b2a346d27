"""Start files for web-function mode: ``scf_bootstrap`` (Tencent SCF, CloudBase) and FC's
``bootstrap`` (Alibaba FC custom runtime), each starting ``faas-bridge serve`` on port 9000.

::

    from faas_bridge.bootstrap import write_bootstrap

    paths = write_bootstrap("index:app", "tencent", "3.10", "build/")

Interpreter paths
-----------------
The platforms run the start file with a bare environment, so it names the runtime's
interpreter by absolute path. Where each path comes from (checked 2026-11):

- Tencent SCF / CloudBase ``/var/lang/python39/bin/python3.9`` and
  ``/var/lang/python310/bin/python3.10``: Tencent's "absolute paths in standard language
  environments" table and CloudBase's own HTTP-function templates;
  ``/var/lang/python311/bin/python3.11``: public deployments' ``scf_bootstrap`` files, not the
  table; ``/var/lang/python312/bin/python3.12``: **unverified**, the same pattern.
- Alibaba FC ``/var/fc/lang/python3.10/bin/python3`` (runtime ``custom.debian10``): a public
  probe of the image and public deployments; ``/var/fc/lang/python3.12/bin/python3``
  (``custom.debian11``): FC's public layer READMEs and deployments. Python 3.9 and 3.11 on FC
  custom runtimes: **unverified**, the same pattern.

Each start file checks its interpreter exists and says which runtime to pick when it does not.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Literal, NamedTuple

__all__ = [
    "PLATFORMS",
    "PYTHON_VERSIONS",
    "Runtime",
    "bootstrap_script",
    "deploy_instructions",
    "runtime_for",
    "write_bootstrap",
]

BootstrapPlatform = Literal["tencent", "cloudbase", "alibaba"]
PLATFORMS: tuple[str, ...] = ("tencent", "cloudbase", "alibaba")
PYTHON_VERSIONS: tuple[str, ...] = ("3.9", "3.10", "3.11", "3.12")
PORT = 9000


class Runtime(NamedTuple):
    """One platform runtime: its start file, interpreter and what the console calls it."""

    filename: str
    interpreter: str
    runtime_name: str
    verified: bool


_TENCENT = {
    "3.9": ("/var/lang/python39/bin/python3.9", True),
    "3.10": ("/var/lang/python310/bin/python3.10", True),
    "3.11": ("/var/lang/python311/bin/python3.11", True),
    "3.12": ("/var/lang/python312/bin/python3.12", False),
}
_ALIBABA = {
    "3.9": ("/var/fc/lang/python3.9/bin/python3", "custom.debian10", False),
    "3.10": ("/var/fc/lang/python3.10/bin/python3", "custom.debian10", True),
    "3.11": ("/var/fc/lang/python3.11/bin/python3", "custom.debian11", False),
    "3.12": ("/var/fc/lang/python3.12/bin/python3", "custom.debian11", True),
}


def runtime_for(platform: str, python: str = "3.10") -> Runtime:
    """The start file and interpreter for a platform and Python version."""
    if python not in PYTHON_VERSIONS:
        raise ValueError(f"python must be one of {', '.join(PYTHON_VERSIONS)}, not {python!r}")
    if platform in ("tencent", "cloudbase"):
        interpreter, verified = _TENCENT[python]
        return Runtime("scf_bootstrap", interpreter, f"Python {python}", verified)
    if platform == "alibaba":
        interpreter, name, verified = _ALIBABA[python]
        return Runtime("bootstrap", interpreter, name, verified)
    raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, not {platform!r}")


def bootstrap_script(target: str, platform: str, python: str = "3.10") -> str:
    """The start file's text (LF line endings) for ``target`` (``module:attr``)."""
    if not target or any(c in target for c in "\r\n\0"):
        raise ValueError(f"not a usable target: {target!r}")
    runtime = runtime_for(platform, python)
    if platform == "alibaba":
        # FC passes its port in FC_SERVER_PORT / FC_CUSTOM_LISTEN_PORT (9000 by default),
        # which `serve` reads when no --port is given.
        where = "an Alibaba FC custom runtime"
        port_args = ""
        runtime_hint = f"runtime {runtime.runtime_name}"
    else:
        where = (
            "a CloudBase HTTP function" if platform == "cloudbase" else "a Tencent SCF web function"
        )
        port_args = f" --port {PORT}"
        runtime_hint = f"the {runtime.runtime_name} runtime"
    lines = [
        "#!/bin/bash",
        f"# Start file of {where}, written by `faas-bridge bootstrap`.",
        f"# Serves {target} on 0.0.0.0 (the platform cannot reach 127.0.0.1), streaming intact.",
        "set -e",
        'cd "$(dirname "$0")"',
        f"PYTHON={runtime.interpreter}",
        'if [ ! -x "$PYTHON" ]; then',
        f'  echo "{runtime.filename}: no $PYTHON here: use {runtime_hint}" >&2',
        "  exit 1",
        "fi",
        "# the code folder, then layers; dependencies installed with `pip install -t .`",
        'export PYTHONPATH="$PWD:/opt/python:/opt${PYTHONPATH:+:$PYTHONPATH}"',
        "export PYTHONUNBUFFERED=1",
        f'exec "$PYTHON" -m faas_bridge serve {shlex.quote(target)} --host 0.0.0.0{port_args}',
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
    runtime = runtime_for(platform, python)
    text = bootstrap_script(target, platform, python)
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / runtime.filename
    path.write_bytes(text.encode("utf-8"))
    path.chmod(0o755)
    return [path]


def deploy_instructions(platform: str, python: str = "3.10") -> str:
    """What to do with the written files, as a few lines for a terminal."""
    runtime = runtime_for(platform, python)
    deps = (
        "Install dependencies next to your code:\n"
        '  pip install -r requirements.txt "faas-bridge[serve]" -t .\n'
        f"  (on Linux x86_64 with Python {python}, so compiled wheels match the runtime).\n"
    )
    if platform == "alibaba":
        steps = (
            f"Alibaba FC: create a custom-runtime function, runtime {runtime.runtime_name}, and\n"
            "  zip the folder with `bootstrap` at its root. FC runs /code/bootstrap when no start\n"
            "  command is set; with Serverless Devs (s.yaml) say it explicitly:\n"
            "    runtime: " + runtime.runtime_name + "\n"
            "    customRuntimeConfig:\n"
            "      command: [/code/bootstrap]\n"
            f"      port: {PORT}\n"
            "  For SSE, call it through an HTTP trigger; set the function timeout to the longest\n"
            "  stream you serve. Browsers download pages from the default *.fcapp.run domain\n"
            "  (FC adds Content-Disposition: attachment): bind a custom domain for them.\n"
        )
    elif platform == "cloudbase":
        steps = (
            f"CloudBase: create an HTTP cloud function (HTTP 云函数) with runtime Python {python}\n"
            "  and upload the folder zipped with `scf_bootstrap` at its root (mode 755).\n"
            "  Mini programs call it with wx.cloud.callHTTPFunction({name, path, method,\n"
            "  enableChunked: true}) to read a stream.\n"
        )
    else:
        steps = (
            f"Tencent SCF: create a web function (Web 函数) with runtime Python {python} and\n"
            "  upload the folder zipped with `scf_bootstrap` at its root (mode 755).\n"
            f"  The platform forwards HTTP to port {PORT}. SSE streams pass through, one per\n"
            "  instance, each for at most the function timeout.\n"
        )
    note = (
        ""
        if runtime.verified
        else f"Note: {runtime.interpreter} is not confirmed by the platform's documentation;\n"
        "  the start file stops with a clear message if the runtime has no such interpreter.\n"
    )
    return deps + steps + note

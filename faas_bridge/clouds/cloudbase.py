"""Everything about deploying to Tencent CloudBase: runtimes, handler name, HTTP-function
start file, the ``cloudbaserc.json`` deploy config, and what its web proxy injects
(``X-Cloudbase-Context`` and how to decode it).

Its event format lives in ``platforms/cloudbase`` (HTTP access service).

Where each fact comes from (checked 2026-12)
--------------------------------------------
- Runtimes: CloudBase's runtime page (https://docs.cloudbase.net/cloud-function/runtime-support,
  "the single source of truth") lists Python 3.11 (recommended), 3.10, 3.9 and 3.7 for both
  event and HTTP functions, and **no 3.12**: Python 3.12 is refused. Interpreters
  ``/var/lang/python311/bin/python3.11``, ``/var/lang/python310/bin/python3.10``,
  ``/var/lang/python39/bin/python3.9`` from the same page. The ``Python3.9``/``Python3.10``
  runtime names are SCF's API values (CloudBase passes them through); ``Python3.11`` follows
  the pattern, **unverified**.
- CloudBase functions run on SCF: the OS (CentOS 7.9 for 3.9, 8.5 for 3.10 and 3.11, so
  wheels up to ``manylinux_2_17`` / ``manylinux_2_28``), the read-only ``/var/user`` code
  folder and the 500 MB code limit are SCF's (the limit **unverified** for CloudBase itself).
- ``cloudbaserc.json``: ``envId``, ``functionRoot``, ``functions[]`` (``name``, ``handler``,
  ``runtime``, ``timeout``, ``memorySize``, ``ignore``) from the CloudBase CLI reference
  (https://docs.cloudbase.net/cli-v1/functions/configs); ``framework.plugins`` with
  ``@cloudbase/framework-plugin-function`` and its ``functionRootPath``/``functions``/
  ``servicePaths`` inputs from that plugin's source. The web-function ``"type": "HTTP"`` key
  is **unverified**; ``tcb fn deploy NAME --httpFn`` deploys an HTTP function
  (https://docs.cloudbase.net/cli-v1/functions/deploy).
- ``X-Cloudbase-Context``: base64 of gzip of JSON (envId, uin, userId, source,
  wechatContext...); it may carry temporary credentials, so it is never logged.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib
from collections.abc import Mapping
from typing import Any

from . import tencent
from ._common import PORT, RuntimeName, WebRuntime, mib, prefixed, to_json

NAME = "cloudbase"
TITLE = "Tencent CloudBase"
HANDLER_NAME = "main"
DEFAULT_REGION = "ap-shanghai"
CODE_LIMIT = tencent.CODE_LIMIT  # assumed: CloudBase functions run on SCF

EVENT_RUNTIMES: dict[str, RuntimeName] = {
    "3.9": RuntimeName("Python3.9", True),
    "3.10": RuntimeName("Python3.10", True),
    "3.11": RuntimeName("Python3.11", False),
}
WEB_RUNTIMES: dict[str, WebRuntime] = {
    python: tencent.WEB_RUNTIMES[python]._replace(verified=True) for python in EVENT_RUNTIMES
}
MANYLINUX: dict[str, str] = {python: tencent.MANYLINUX[python] for python in EVENT_RUNTIMES}
CODE_DIR = tencent.CODE_DIR
UNVERIFIED_WEB = ""

# --- web mode: the start file and the proxy's headers ----------------------------------------

START_FILE = "scf_bootstrap"
START_FILE_WHERE = "a CloudBase HTTP function"
START_PORT = PORT
WEB_PLATFORM = "cloudbase_web"
REQUEST_ID_HEADER = "x-cloudbase-request-id"
CONTEXT_HEADER = "x-cloudbase-context"
CONTEXT_HEADER_PREFIX = "x-cloudbase-"
CREDENTIAL_HEADERS: frozenset[str] = frozenset({CONTEXT_HEADER})
CREDENTIAL_PREFIXES: tuple[str, ...] = ()

# --- deploying -------------------------------------------------------------------------------

CONFIG_FILE = "cloudbaserc.json"
DEPLOY_COMMAND = "tcb framework deploy"
DEPLOY_INSTALL = "npm i -g @cloudbase/cli && tcb login"
DEPLOYS_FOLDER = True


def web_steps(python: str) -> str:
    return (
        f"CloudBase: create an HTTP cloud function (HTTP 云函数) with runtime Python {python}\n"
        "  and upload the folder zipped with `scf_bootstrap` at its root (mode 755).\n"
        "  Mini programs call it with wx.cloud.callHTTPFunction({name, path, method,\n"
        "  enableChunked: true}) to read a stream.\n"
    )


def size_warnings(zipped: int, unzipped: int) -> list[str]:
    if unzipped > CODE_LIMIT:
        return [
            f"{mib(unzipped)} unzipped is above CloudBase (SCF's limit, assumed)'s 500 MB code"
            " limit (layers included): move large dependencies into a layer or trim them"
        ]
    return []


def cloudbaserc_json(
    *,
    name: str,
    python: str,
    mode: str = "event",
    env_id: str = "your-env-id",
    http_path: str = "/",
    memory_mb: int = 256,
    timeout_s: int = 30,
) -> str:
    """``cloudbaserc.json`` for the CloudBase CLI: the function (its code in the folder
    ``name`` beside the file) and the HTTP access path ``http_path`` that reaches it."""
    from . import event_runtime

    function: dict[str, Any] = {
        "name": name,
        "runtime": event_runtime(NAME, python).name,
        "timeout": timeout_s,
        "memorySize": memory_mb,
        "installDependency": False,
    }
    if mode == "web":
        function["type"] = "HTTP"
    else:
        function["handler"] = f"index.{HANDLER_NAME}"
    config = {
        "version": "2.0",
        "envId": env_id,
        "functionRoot": ".",
        "functions": [function],
        "framework": {
            "name": name,
            "plugins": {
                "function": {
                    "use": "@cloudbase/framework-plugin-function",
                    "inputs": {
                        "functionRootPath": ".",
                        "functions": [function],
                        "servicePaths": {name: http_path},
                    },
                }
            },
        },
    }
    return to_json(config)


def deploy_config(
    *, name: str, archive: str, python: str, mode: str, options: dict[str, Any]
) -> str:
    return cloudbaserc_json(
        name=name,
        python=python,
        mode=mode,
        env_id=options.get("env_id") or "your-env-id",
        http_path=options.get("http_path") or "/",
    )


def manylinux(python: str, mode: str) -> str:
    """The newest ``manylinux_2_X`` level (``"2_28"``) the runtime for ``python`` runs."""
    return MANYLINUX[python]


def decode_context(value: str) -> dict[str, Any] | None:
    """``X-Cloudbase-Context`` (base64 of gzip of JSON) as a dict; None when unreadable.

    Plain base64 JSON and plain JSON are accepted too, in case the platform drops a layer.
    """
    raw: bytes = value.strip().encode("latin-1", "replace")
    if not raw.startswith(b"{"):
        try:
            altchars = b"-_" if b"-" in raw or b"_" in raw else None
            raw = base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=altchars)
        except (binascii.Error, ValueError):
            return None
        if raw.startswith(b"\x1f\x8b"):
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error):
                return None
    try:
        decoded = json.loads(raw)
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


def read_web_headers(headers: Mapping[str, str]) -> tuple[str, dict[str, Any]] | None:
    """``(request id, context)`` from a web-mode request's headers (lower-case names), or
    None when they are not this cloud's: ``X-Cloudbase-Context`` decoded, else the
    ``X-Cloudbase-*`` headers with the prefix dropped."""
    if CONTEXT_HEADER not in headers and REQUEST_ID_HEADER not in headers:
        return None
    request_id = headers.get(REQUEST_ID_HEADER) or headers.get(tencent.REQUEST_ID_HEADER, "")
    encoded = headers.get(CONTEXT_HEADER)
    context = decode_context(encoded) if encoded else None
    if context is None:
        context = prefixed(headers, CONTEXT_HEADER_PREFIX)
    return request_id, context


def config_warnings(mode: str) -> list[str]:
    """What the written deploy config holds that no source confirms."""
    if mode == "web":
        return [
            'cloudbaserc.json\'s "type": "HTTP" (web function) is not confirmed by'
            " CloudBase's documentation"
        ]
    return []


def config_todo(options: dict[str, Any]) -> list[str]:
    """What the user must still fill in before deploying."""
    if (options.get("env_id") or "your-env-id") == "your-env-id":
        return ["set envId in cloudbaserc.json (or pass --env-id) before deploying"]
    return []

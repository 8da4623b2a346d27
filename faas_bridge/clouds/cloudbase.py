"""Everything about deploying to Tencent CloudBase: runtimes, handler name, HTTP-function
start file, the ``cloudbaserc.json`` deploy config, and what its web proxy injects
(``X-Cloudbase-Context`` and how to decode it).

Its event format lives in ``platforms/cloudbase`` (HTTP access service).

Where each fact comes from (checked 2026-11)
--------------------------------------------
- CloudBase functions run on SCF: the runtimes, interpreter paths and the 500 MB code limit
  are SCF's (**unverified** for CloudBase itself; its runtime list confirms only the
  ``Nodejs18.15`` spelling of runtime names).
- ``cloudbaserc.json``: ``envId``, ``functionRoot``, ``functions[]`` (``name``, ``handler``,
  ``runtime``, ``timeout``, ``memorySize``, ``ignore``) from the CloudBase CLI reference;
  ``framework.plugins`` with ``@cloudbase/framework-plugin-function`` and its
  ``functionRootPath``/``functions``/``servicePaths`` inputs from that plugin's source. The
  web-function ``"type": "HTTP"`` key is **unverified**.
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
    python: RuntimeName(runtime.name, False) for python, runtime in tencent.EVENT_RUNTIMES.items()
}
WEB_RUNTIMES: dict[str, WebRuntime] = tencent.WEB_RUNTIMES

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

# --- non-HTTP trigger events: CloudBase functions run on SCF, whose trigger events (timers)
# they receive (unverified for CloudBase itself); clouds/tencent.py recognises them.

LIFECYCLE_HOOKS: dict[str, str] = {}  # none, as on SCF

EVENTS_AS_BYTES = False
TIMER_KIND = tencent.TIMER_KIND
TIMER_FIELDS = tencent.TIMER_FIELDS
TRIGGER_EVENTS: dict[str, Any] = {}


def event_kind(event: Any) -> str | None:
    return None


# --- deploying -------------------------------------------------------------------------------

CONFIG_FILE = "cloudbaserc.json"
DEPLOY_COMMAND = "tcb framework deploy"
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
    function: dict[str, Any] = {
        "name": name,
        "runtime": EVENT_RUNTIMES[python].name,
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

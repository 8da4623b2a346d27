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
  is **unverified** (the declarative ``tcb deploy`` of CLI 3.8+ documents ``"type":
  "Event"``: https://docs.cloudbase.net/cli-v1/declarative-deploy/deploy).
- Deploying: ``tcb fn deploy NAME`` reads the function from ``cloudbaserc.json``,
  ``--httpFn`` deploys an HTTP function, ``--path`` creates its HTTP access path
  (https://docs.cloudbase.net/cli-v1/functions/deploy). The framework's function plugin
  (``tcb framework deploy``) lists Node.js, PHP and Java only
  (https://docs.cloudbase.net/en/framework/plugins/framework-plugin-function).
- ``X-Cloudbase-Context``: base64 of gzip of JSON (envId, uin, userId, source,
  wechatContext...); it may carry temporary credentials, so it is never logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
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
# SCF's credential variables (the same table on CloudBase's page,
# https://docs.cloudbase.net/cloud-function/function-configuration/env) and the SDK's
# TCB_SESSIONTOKEN (github.com/TencentCloudBase/node-sdk src/cloudbase.ts).
CREDENTIAL_VARIABLES: tuple[str, ...] = (*tencent.CREDENTIAL_VARIABLES, "TCB_SESSIONTOKEN")

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


def deploy_command(*, name: str, mode: str, options: dict[str, Any]) -> str:
    """``tcb fn deploy NAME``, which reads the function from cloudbaserc.json (its code in
    ``functionRoot/NAME``); ``--httpFn`` for an HTTP function, ``--path`` creating its HTTP
    access path. Not ``tcb framework deploy``: the function plugin lists no Python."""
    http = " --httpFn" if mode == "web" else ""
    path = shlex.quote(options.get("http_path") or "/")
    return f"tcb fn deploy {shlex.quote(name)}{http} --path {path}"


def manylinux(python: str, mode: str) -> str:
    """The newest ``manylinux_2_X`` level (``"2_28"``) the runtime for ``python`` runs."""
    return MANYLINUX[python]


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


# --- web mode: what the proxy owns, and how faas_bridge trusts it -----------------------------
# CloudBase functions are SCF functions whose SCF namespace is the CloudBase environment: the
# official @cloudbase/node-sdk reads TCB_ENV || SCF_NAMESPACE and checks TENCENTCLOUD_RUNENV
# === "SCF" (https://github.com/TencentCloudBase/node-sdk, src/utils/utils.ts, src/cloudbase.ts
# reads TCB_CONTEXT_KEYS, WX_CONTEXT_KEYS and TCB_* variables). No single variable says
# "CloudBase" in HTTP functions (unverified which TCB_* variables they get), so detection is
# SCF plus any TCB_* / WX_CONTEXT_KEYS variable, and the start file passes --platform instead.
# The HTTP access service adds x-cloudbase-request-id and, on routes with identity checks,
# X-Cloudbase-Context, and x-wx-* for WeChat callers (public apps that read them; no
# CloudBase page found); SCF's proxy adds its X-Scf-* headers too. No CloudBase document says
# whether a client's own x-cloudbase-* or x-wx-* header is dropped: unverifiable without an
# account (see SECURITY.md).

CLIENT_ADDRESS_HEADER = tencent.CLIENT_ADDRESS_HEADER
OWNED_HEADER_PREFIXES: tuple[str, ...] = (
    CONTEXT_HEADER_PREFIX,
    "x-wx-",
    *tencent.OWNED_HEADER_PREFIXES,
)
TRUSTED_HEADERS: frozenset[str] = frozenset(
    {REQUEST_ID_HEADER, CONTEXT_HEADER, tencent.REQUEST_ID_HEADER, CLIENT_ADDRESS_HEADER}
)
SCHEME_HEADER = tencent.SCHEME_HEADER
WEB_BODY_LIMIT = tencent.WEB_BODY_LIMIT
# Bounds of X-Cloudbase-Context: real ones are about 1 KB of JSON a few levels deep.
CONTEXT_MAX_HEADER = 16 * 1024  # characters of the header
CONTEXT_MAX_BYTES = 64 * 1024  # bytes of JSON once decoded (and un-gzipped)
CONTEXT_MAX_DEPTH = 16  # nesting of JSON objects and arrays

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_NESTING = re.compile(rb"[][{}]")


def runs_here(environ: Mapping[str, str]) -> bool:
    """Whether the process runs in a CloudBase function: SCF with CloudBase's variables."""
    return tencent.runs_here(environ) and any(
        name.startswith("TCB_") or name == "WX_CONTEXT_KEYS" for name in environ
    )


def decode_context(value: str) -> dict[str, Any] | None:
    """``X-Cloudbase-Context`` (base64 of gzip of JSON) as a dict; None when unreadable or
    beyond the bounds above (:data:`CONTEXT_MAX_HEADER`, :data:`CONTEXT_MAX_BYTES`,
    :data:`CONTEXT_MAX_DEPTH`). Never raises.

    Plain base64 JSON and plain JSON are accepted too, in case the platform drops a layer.
    """
    if len(value) > CONTEXT_MAX_HEADER:
        return None
    encoded = value.strip().encode("latin-1", "replace")
    raw = encoded if encoded.startswith(b"{") else _unwrap(encoded)
    if raw is None or len(raw) > CONTEXT_MAX_BYTES or _depth(raw) > CONTEXT_MAX_DEPTH:
        return None
    try:
        decoded = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return decoded if isinstance(decoded, dict) else None


def _unwrap(raw: bytes) -> bytes | None:
    """base64, then gzip when it is gzip; None when either fails or the JSON is too big."""
    try:
        altchars = b"-_" if b"-" in raw or b"_" in raw else None
        raw = base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=altchars)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(b"\x1f\x8b"):
        return raw
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing
    try:
        text = inflater.decompress(raw, CONTEXT_MAX_BYTES + 1)
    except zlib.error:
        return None
    if len(text) > CONTEXT_MAX_BYTES or not inflater.eof:
        return None  # too big, or truncated
    return text


def _depth(raw: bytes) -> int:
    """How deeply JSON objects and arrays nest in ``raw`` (strings skipped)."""
    depth = deepest = 0
    for bracket in _JSON_NESTING.findall(_JSON_STRING.sub(b"", raw)):
        if bracket in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def read_web_headers(headers: Mapping[str, str]) -> tuple[str, dict[str, Any] | None]:
    """``(request id, context)`` from the proxy's headers (lower-case names, this cloud's
    only): ``X-Cloudbase-Context`` decoded (None when it cannot be), else the
    ``X-Cloudbase-*`` headers with the prefix dropped."""
    request_id = headers.get(REQUEST_ID_HEADER) or headers.get(tencent.REQUEST_ID_HEADER, "")
    encoded = headers.get(CONTEXT_HEADER)
    if encoded:
        return request_id, decode_context(encoded)
    return request_id, prefixed(headers, CONTEXT_HEADER_PREFIX)


def lifecycle_call(headers: Mapping[str, str], method: str, path: str) -> str | None:
    """CloudBase sends no lifecycle calls to HTTP functions."""
    return None

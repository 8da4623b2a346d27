"""Everything about deploying to Tencent SCF: runtimes, handler name, web-function start
file, code-size limit, the ``serverless.yml`` deploy config, and what its web proxy injects.

Its event formats live in ``platforms/tencent_apigw`` (API Gateway trigger) and
``platforms/tencent_url`` (function URL).

Where each fact comes from (checked 2026-12)
--------------------------------------------
- Runtimes: Python 3.9 and 3.10 from SCF's runtime list
  (https://www.tencentcloud.com/document/product/583/40323, updated 2025-01-03) and the
  CreateFunction API's ``Runtime`` values ``Python3.9``/``Python3.10``
  (https://cloud.tencent.com/document/api/583/18586). **Python 3.11 and 3.12 are
  unverified** on plain SCF (no SCF page lists them; CloudBase, which runs on SCF, lists
  3.11). The code is unpacked into ``/var/user``, read-only; ``PYTHONDONTWRITEBYTECODE`` is
  set, so byte-code is only read, never written.
- Web-function interpreters ``/var/lang/python39/bin/python3.9``,
  ``/var/lang/python310/bin/python3.10`` (SCF's start-file page,
  https://cloud.tencent.com/document/product/583/56126, updated 2026-01-29, and its table
  reproduced at https://docs.cloudbase.net/cloud-function/runtime-support, which adds
  ``/var/lang/python311/bin/python3.11``); 3.12 **unverified** (the same pattern).
- OS: the start-file page says Python 3.9 (with 3.7, 3.6, 2.7) runs on CentOS 7.9 (glibc
  2.17) and "all other versions" on CentOS 8.5 (glibc 2.28): wheels up to ``manylinux_2_17``
  for 3.9 and ``manylinux_2_28`` for 3.10 and newer (PEP 600).
- Code size: 500 MB per function version before compression, layers included (SCF quota page).
- Deploying: current Serverless Framework no longer bundles Tencent's components; Tencent's
  ``serverless.yml`` (``component: scf``) is deployed by ``serverless-cloud-framework``
  (npm package of that name, command ``scf deploy``; github.com/Serverlesstencent/
  serverless-cloud-framework), or uploaded through the console / ``tccli scf
  UpdateFunctionCode`` (``ZipFile`` at most 20 MB, API 583/18581).
- ``serverless.yml``: ``inputs`` (``src``, ``handler``, ``runtime``, ``type: web``), the
  ``apigw`` trigger and ``function.isIntegratedResponse`` from the scf component's
  configuration reference (github.com/serverless-components/tencent-scf docs/configure.md,
  https://cloud.tencent.com/document/product/1154/39271); the function-URL trigger
  (``http`` with ``authType`` and ``netConfig``) from tencent-component-toolkit's
  ``triggers/http.ts``.
- Web functions: the platform forwards HTTP to port 9000 and adds ``X-Scf-*`` headers, the
  role's temporary keys among them (``X-Scf-Secret-Id``/``-Key``, ``X-Scf-Session-Token``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._common import MB, PORT, RuntimeName, WebRuntime, comment, mib, prefixed, to_yaml

NAME = "tencent"
TITLE = "Tencent SCF"
HANDLER_NAME = "main_handler"
DEFAULT_REGION = "ap-guangzhou"
CODE_LIMIT = 500 * 1024 * 1024  # bytes, unzipped, layers included

EVENT_RUNTIMES: dict[str, RuntimeName] = {
    "3.9": RuntimeName("Python3.9", True),
    "3.10": RuntimeName("Python3.10", True),
    "3.11": RuntimeName("Python3.11", False),
    "3.12": RuntimeName("Python3.12", False),
}
WEB_RUNTIMES: dict[str, WebRuntime] = {
    "3.9": WebRuntime("/var/lang/python39/bin/python3.9", "Python 3.9", True),
    "3.10": WebRuntime("/var/lang/python310/bin/python3.10", "Python 3.10", True),
    "3.11": WebRuntime("/var/lang/python311/bin/python3.11", "Python 3.11", True),
    "3.12": WebRuntime("/var/lang/python312/bin/python3.12", "Python 3.12", False),
}
# The newest manylinux level each runtime's glibc runs: CentOS 7.9 for 3.9, 8.5 for newer.
MANYLINUX: dict[str, str] = {"3.9": "2_17", "3.10": "2_28", "3.11": "2_28", "3.12": "2_28"}
CODE_DIR = "/var/user"  # where the runtime unpacks the code (read-only)
UNVERIFIED_WEB = "the Python 3.12 web runtime and its interpreter path"

# --- web mode: the start file and the proxy's headers ----------------------------------------

START_FILE = "scf_bootstrap"
START_FILE_WHERE = "a Tencent SCF web function"
START_PORT = PORT  # the start file passes --port: SCF sets no port variable
WEB_PLATFORM = "tencent_web"
REQUEST_ID_HEADER = "x-scf-request-id"
CLIENT_ADDRESS_HEADER = "x-scf-remote-addr"
CONTEXT_HEADER_PREFIX = "x-scf-"
CREDENTIAL_HEADERS: frozenset[str] = frozenset({"x-scf-session-token"})
CREDENTIAL_PREFIXES: tuple[str, ...] = ("x-scf-secret-",)
# The function role's temporary credentials in the process environment (SCF's built-in
# variables, https://www.tencentcloud.com/document/product/583/32748): never printed.
CREDENTIAL_VARIABLES: tuple[str, ...] = (
    "TENCENTCLOUD_SECRETID",
    "TENCENTCLOUD_SECRETKEY",
    "TENCENTCLOUD_SESSIONTOKEN",
)

# --- non-HTTP trigger events (``make_handler(events_path=...)``) ----------------------------
# Shapes from SCF's trigger event summary (https://cloud.tencent.com/document/product/583/31927,
# en: https://tencentcloud.com/document/product/583/31439), CLS from
# https://cloud.tencent.com/document/product/583/49587, EventBridge (CloudEvents 1.0) from
# https://tencentcloud.com/document/product/1108/46255. The function receives a dict.

# No instance lifecycle hooks on SCF (only an initialisation timeout for module import).
LIFECYCLE_HOOKS: dict[str, str] = {}

EVENTS_AS_BYTES = False
TIMER_KIND = "tencent.timer"
TIMER_FIELDS = ("TriggerName", "Message", "Time")  # name, user message, firing time
TRIGGER_EVENTS: dict[str, Any] = {
    "tencent.timer": {
        "Type": "Timer",
        "TriggerName": "daily-report",
        "Time": "2026-01-01T00:00:00Z",
        "Message": "",
    },
    "tencent.cos": {
        "Records": [
            {
                "cos": {
                    "cosSchemaVersion": "1.0",
                    "cosObject": {
                        "url": "http://demo-1250000000.cos.ap-guangzhou.myqcloud.com/a.txt",
                        "meta": {"Content-Type": "text/plain"},
                        "vid": "",
                        "key": "/1250000000/demo/a.txt",
                        "size": 5,
                    },
                    "cosBucket": {"region": "gz", "name": "demo", "appid": "1250000000"},
                    "cosNotificationId": "unkown",
                },
                "event": {
                    "eventName": "cos:ObjectCreated:Put",
                    "eventVersion": "1.0",
                    "eventTime": 1767225600,
                    "eventSource": "qcs::cos",
                    "requestParameters": {"requestSourceIP": "203.0.113.5"},
                    "eventQueue": "qcs:0:lambda:gz:appid/1250000000:default.demo.$LATEST",
                    "reservedInfo": "",
                    "reqid": 179398952,
                },
            }
        ]
    },
    "tencent.cmq": {
        "Records": [
            {
                "CMQ": {
                    "type": "topic",
                    "topicOwner": 1250000000,
                    "topicName": "orders",
                    "subscriptionName": "worker",
                    "publishTime": "2026-01-01T00:00:00.000Z",
                    "msgId": "123345346",
                    "requestId": "123345340",
                    "msgBody": "Hello from CMQ!",
                    "msgTag": ["tag1"],
                }
            }
        ]
    },
    "tencent.ckafka": {
        "Records": [
            {
                "Ckafka": {
                    "topic": "orders",
                    "partition": 0,
                    "offset": 36,
                    "msgKey": "",
                    "msgBody": "hi",
                }
            }
        ]
    },
    "tencent.cls": {"clslogs": {"data": ""}},
    "tencent.eventbridge": {
        "specversion": "1.0",
        "id": "13a3f42d-0000-4000-8000-000000000000",
        "type": "cos:created:object",
        "source": "cos.cloud.tencent",
        "subject": "qcs::cos:ap-guangzhou:uid1250000000:demo-1250000000",
        "time": "1615430559146",
        "region": "ap-guangzhou",
        "datacontenttype": "application/json;charset=utf-8",
        "data": {},
    },
}


def event_kind(event: Any) -> str | None:
    """The kind of a Tencent SCF (and CloudBase) trigger event, or None: ``Type == "Timer"``
    with ``TriggerName``; ``Records[0]`` keyed ``cos``, ``CMQ`` or ``Ckafka``; ``clslogs``;
    CloudEvents (``specversion``) whose ``source`` ends in ``.cloud.tencent``."""
    if not isinstance(event, Mapping):
        return None
    if event.get("Type") == "Timer" and "TriggerName" in event:
        return "tencent.timer"
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], Mapping):
        for key, kind in (
            ("cos", "tencent.cos"),
            ("CMQ", "tencent.cmq"),
            ("Ckafka", "tencent.ckafka"),
        ):
            if key in records[0]:
                return kind
    if "clslogs" in event:
        return "tencent.cls"
    source = event.get("source")
    if "specversion" in event and isinstance(source, str) and source.endswith(".cloud.tencent"):
        return "tencent.eventbridge"
    return None


# --- deploying -------------------------------------------------------------------------------

CONFIG_FILE = "serverless.yml"
DEPLOY_INSTALL = "npm i -g serverless-cloud-framework"
DEPLOYS_FOLDER = True  # the scf component uploads a folder: the zip is unpacked beside it


def web_steps(python: str) -> str:
    return (
        f"Tencent SCF: create a web function (Web 函数) with runtime Python {python} and\n"
        "  upload the folder zipped with `scf_bootstrap` at its root (mode 755).\n"
        f"  The platform forwards HTTP to port {PORT}. SSE streams pass through, one per\n"
        "  instance, each for at most the function timeout.\n"
    )


def size_warnings(zipped: int, unzipped: int) -> list[str]:
    if unzipped > CODE_LIMIT:
        return [
            f"{mib(unzipped)} unzipped is above Tencent SCF's 500 MB code limit"
            " (layers included): move large dependencies into a layer or trim them"
        ]
    return []


def serverless_yml(
    *,
    name: str,
    src: str,
    python: str,
    mode: str = "event",
    trigger: str = "url",
    region: str = DEFAULT_REGION,
    memory_mb: int = 256,
    timeout_s: int = 30,
) -> str:
    """``serverless.yml`` for Serverless Framework's ``scf`` component (Tencent SCF).

    ``src`` is the folder holding the unpacked package, relative to the file. ``trigger``
    is ``"url"`` (a public function URL, no authentication) or ``"apigw"`` (an API Gateway
    trigger on ``ANY /`` with integrated response).
    """
    if trigger not in ("url", "apigw"):
        raise ValueError(f"trigger must be 'url' or 'apigw', not {trigger!r}")
    inputs: dict[str, Any] = {"name": name, "namespace": "default", "src": {"src": src}}
    if mode == "web":
        inputs["type"] = "web"
    else:
        inputs["handler"] = f"index.{HANDLER_NAME}"
    from . import event_runtime

    inputs.update(
        runtime=event_runtime(NAME, python).name,
        region=region,
        memorySize=memory_mb,
        timeout=timeout_s,
    )
    if trigger == "url":
        event: dict[str, Any] = {
            "http": {
                "parameters": {
                    "authType": "NONE",
                    "netConfig": {"enableIntranet": False, "enableExtranet": True},
                }
            }
        }
    else:
        endpoint: dict[str, Any] = {"path": "/", "method": "ANY"}
        if mode != "web":
            endpoint["function"] = {"isIntegratedResponse": True}
        event = {
            "apigw": {
                "parameters": {
                    "protocols": ["http", "https"],
                    "environment": "release",
                    "endpoints": [endpoint],
                }
            }
        }
    inputs["events"] = [event]
    header = [
        "Tencent SCF through the scf component. Deploy with serverless-cloud-framework:",
        "npm i -g serverless-cloud-framework, then scf deploy",
        f"Written by `faas-bridge package`: {src}/ holds the unpacked package.",
    ]
    if trigger == "apigw":
        header.append(
            "Tencent stopped new API Gateway triggers in 2024-07: prefer the function URL."
        )
    return comment(header) + to_yaml({"component": "scf", "name": name, "inputs": inputs})


def deploy_config(
    *, name: str, archive: str, python: str, mode: str, options: dict[str, Any]
) -> str:
    """The deploy config's text for a package unpacked into the folder ``name``."""
    return serverless_yml(
        name=name,
        src=f"./{name}",
        python=python,
        mode=mode,
        trigger=options.get("trigger") or "url",
        region=options.get("region") or DEFAULT_REGION,
    )


def deploy_command(*, name: str, mode: str, options: dict[str, Any]) -> str:
    return "scf deploy"


def manylinux(python: str, mode: str) -> str:
    """The newest ``manylinux_2_X`` level (``"2_28"``) the runtime for ``python`` runs."""
    return MANYLINUX[python]


def config_warnings(mode: str) -> list[str]:
    """What the written deploy config holds that no source confirms."""
    return []


def config_todo(options: dict[str, Any]) -> list[str]:
    """What the user must still fill in before deploying."""
    return []


# --- web mode: what the proxy owns, and how faas_bridge trusts it -----------------------------
# Web functions (https://cloud.tencent.com/document/product/583/56124, updated 2024-07-22): a
# built-in Nginx proxy forwards HTTP to 0.0.0.0:9000, drops request headers outside the
# product's spec, and fills X-Scf-* headers that "cannot be customised"; the FAQ
# (https://cloud.tencent.com/document/product/583/56129) lists "custom fields starting with
# X-SCF-" among those the gateway fills. Whether a client's copy is replaced or appended is not
# documented, so a repeated one is refused. x-scf-remote-addr is the client address of
# function URLs (https://cloud.tencent.com/document/product/583/96099). TENCENTCLOUD_RUNENV=SCF
# is a built-in variable (https://www.tencentcloud.com/zh/document/product/583/32748) under a
# prefix users cannot set (https://docs.cloudbase.net/cloud-function/function-configuration/env).
# Unverified: that X-Forwarded-Proto is set by the proxy (faas_bridge reads its last value).

OWNED_HEADER_PREFIXES: tuple[str, ...] = (CONTEXT_HEADER_PREFIX,)
TRUSTED_HEADERS: frozenset[str] = frozenset({REQUEST_ID_HEADER, CLIENT_ADDRESS_HEADER})
SCHEME_HEADER = "x-forwarded-proto"
WEB_BODY_LIMIT = 6 * MB  # request body limit of web functions, as in event mode


def runs_here(environ: Mapping[str, str]) -> bool:
    """Whether the process runs in an SCF function (event or web), from its environment."""
    return environ.get("TENCENTCLOUD_RUNENV") == "SCF"


def read_web_headers(headers: Mapping[str, str]) -> tuple[str, dict[str, Any] | None]:
    """``(request id, context)`` from the proxy's headers (lower-case names, this cloud's
    only): the ``X-Scf-*`` headers with the prefix dropped."""
    return headers.get(REQUEST_ID_HEADER, ""), prefixed(headers, CONTEXT_HEADER_PREFIX)


def lifecycle_call(headers: Mapping[str, str], method: str, path: str) -> str | None:
    """SCF sends no lifecycle calls to web functions."""
    return None

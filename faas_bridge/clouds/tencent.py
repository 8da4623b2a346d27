"""Everything about deploying to Tencent SCF: runtimes, handler name, web-function start
file, code-size limit, the ``serverless.yml`` deploy config, and what its web proxy injects.

Its event formats live in ``platforms/tencent_apigw`` (API Gateway trigger) and
``platforms/tencent_url`` (function URL).

Where each fact comes from (checked 2026-11)
--------------------------------------------
- Runtimes: Python 3.9 and 3.10 from Tencent's "absolute paths in standard language
  environments" table (the web-function interpreters ``/var/lang/python39/bin/python3.9``,
  ``/var/lang/python310/bin/python3.10``); 3.11 from public deployments' ``scf_bootstrap``
  files, not the table; **3.12 unverified** (the same pattern). The ``PythonX.Y`` spelling of
  deploy configs from the scf component's reference (``Python3.6``).
- Code size: 500 MB per function version before compression, layers included (SCF quota page).
- ``serverless.yml``: ``inputs`` (``src``, ``handler``, ``runtime``, ``type: web``), the
  ``apigw`` trigger and ``function.isIntegratedResponse`` from the scf component's
  configuration reference; the function-URL trigger (``http`` with ``authType`` and
  ``netConfig``) from tencent-component-toolkit's ``triggers/http.ts``.
- Web functions: the platform forwards HTTP to port 9000 and adds ``X-Scf-*`` headers, the
  role's temporary keys among them (``X-Scf-Secret-Id``/``-Key``, ``X-Scf-Session-Token``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._common import PORT, RuntimeName, WebRuntime, comment, mib, prefixed, to_yaml

NAME = "tencent"
TITLE = "Tencent SCF"
HANDLER_NAME = "main_handler"
DEFAULT_REGION = "ap-guangzhou"
CODE_LIMIT = 500 * 1024 * 1024  # bytes, unzipped, layers included

EVENT_RUNTIMES: dict[str, RuntimeName] = {
    "3.9": RuntimeName("Python3.9", True),
    "3.10": RuntimeName("Python3.10", True),
    "3.11": RuntimeName("Python3.11", True),
    "3.12": RuntimeName("Python3.12", False),
}
WEB_RUNTIMES: dict[str, WebRuntime] = {
    "3.9": WebRuntime("/var/lang/python39/bin/python3.9", "Python 3.9", True),
    "3.10": WebRuntime("/var/lang/python310/bin/python3.10", "Python 3.10", True),
    "3.11": WebRuntime("/var/lang/python311/bin/python3.11", "Python 3.11", True),
    "3.12": WebRuntime("/var/lang/python312/bin/python3.12", "Python 3.12", False),
}

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
DEPLOY_COMMAND = "sls deploy"
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
    inputs.update(
        runtime=EVENT_RUNTIMES[python].name,
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
        "Tencent SCF through Serverless Framework's scf component. Deploy: sls deploy",
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


def read_web_headers(headers: Mapping[str, str]) -> tuple[str, dict[str, Any]] | None:
    """``(request id, context)`` from a web-mode request's headers (lower-case names), or
    None when they are not this cloud's: the ``X-Scf-*`` headers with the prefix dropped."""
    request_id = headers.get(REQUEST_ID_HEADER)
    if request_id is None:
        return None
    return request_id, prefixed(headers, CONTEXT_HEADER_PREFIX)


def config_warnings(mode: str) -> list[str]:
    """What the written deploy config holds that no source confirms."""
    return []


def config_todo(options: dict[str, Any]) -> list[str]:
    """What the user must still fill in before deploying."""
    return []

"""Everything about deploying to Alibaba Function Compute: runtimes (built-in and custom),
handler name, the custom runtime's start file, code-size limits, the Serverless Devs
``s.yaml`` deploy config, and what FC's web proxy injects (``x-fc-*`` headers, lifecycle
control paths, the port variables).

Its event format lives in ``platforms/alibaba_fc`` (FC 3.0 HTTP trigger).

Where each fact comes from (checked 2026-11)
--------------------------------------------
- Built-in runtimes ``python3.9``, ``python3.10``, ``python3.12`` (public preview) from FC
  3.0's runtime list, which has **no python3.11**.
- Custom-runtime interpreters: ``/var/fc/lang/python3.10/bin/python3`` (``custom.debian10``)
  from a public probe of the image and public deployments; ``/var/fc/lang/python3.12/bin/
  python3`` (``custom.debian11``) from FC's public layer READMEs and deployments; 3.9 and
  3.11 **unverified**, the same pattern.
- Code size: a 500 MB zip through the console, developer tools or OSS; 100 MB for a zip sent
  base64-encoded through the SDK/OpenAPI (FC limits page).
- ``s.yaml``: ``edition: 3.0.0``, ``component: fc3``, ``props`` (``code`` may be a folder or a
  zip), ``customRuntimeConfig`` and the ``http`` trigger's ``authType``/``methods`` from the
  fc3 component's YAML reference.
- Custom runtimes: the server listens on ``FC_SERVER_PORT`` / ``FC_CUSTOM_LISTEN_PORT``
  (9000 by default); ``x-fc-control-path`` marks lifecycle calls (``/initialize``,
  ``/pre-freeze``, ``/pre-stop``); ``x-fc-access-key-*`` and ``x-fc-security-token`` carry
  the role's credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._common import HTTP_METHODS, PORT, RuntimeName, WebRuntime, comment, mib, prefixed, to_yaml

NAME = "alibaba"
TITLE = "Alibaba FC"
HANDLER_NAME = "handler"
DEFAULT_REGION = "cn-hangzhou"
CODE_LIMIT = 500 * 1024 * 1024  # bytes, zipped
BASE64_CODE_LIMIT = 100 * 1024 * 1024  # a zip sent base64-encoded through the SDK/OpenAPI

EVENT_RUNTIMES: dict[str, RuntimeName] = {
    "3.9": RuntimeName("python3.9", True),
    "3.10": RuntimeName("python3.10", True),
    "3.12": RuntimeName("python3.12", True),
}
WEB_RUNTIMES: dict[str, WebRuntime] = {
    "3.9": WebRuntime("/var/fc/lang/python3.9/bin/python3", "custom.debian10", False),
    "3.10": WebRuntime("/var/fc/lang/python3.10/bin/python3", "custom.debian10", True),
    "3.11": WebRuntime("/var/fc/lang/python3.11/bin/python3", "custom.debian11", False),
    "3.12": WebRuntime("/var/fc/lang/python3.12/bin/python3", "custom.debian11", True),
}

# --- web mode: the start file and the proxy's headers ----------------------------------------

START_FILE = "bootstrap"
START_FILE_WHERE = "an Alibaba FC custom runtime"
START_PORT = None  # FC passes its port in PORT_VARIABLES, which `serve` reads
PORT_VARIABLES = ("FC_SERVER_PORT", "FC_CUSTOM_LISTEN_PORT")
WEB_PLATFORM = "alibaba_fc_web"
REQUEST_ID_HEADER = "x-fc-request-id"
CLIENT_ADDRESS_HEADER = "x-fc-client-ip"
CONTEXT_HEADER_PREFIX = "x-fc-"
CONTROL_PATH_HEADER = "x-fc-control-path"
# Lifecycle calls, sent with CONTROL_PATH_HEADER. The app's own start-up already ran when
# the server started, so they are answered with an empty 200.
LIFECYCLE_PATHS = frozenset({"/initialize", "/pre-freeze", "/pre-stop"})
# The Handler method each control call runs (/pre-freeze: nothing to do).
LIFECYCLE_CALLS = {"/initialize": "initializer", "/pre-stop": "pre_stop"}
CREDENTIAL_HEADERS: frozenset[str] = frozenset({"x-fc-security-token"})
CREDENTIAL_PREFIXES: tuple[str, ...] = ("x-fc-access-key-",)

# --- non-HTTP trigger events (``make_handler(events_path=...)``) ----------------------------
# Shapes from FC's trigger event formats (https://help.aliyun.com/document_detail/70140.html;
# timer: https://help.aliyun.com/document_detail/68172.html), as Serverless Devs' fc3
# component ships them (src/subCommands/trigger-template/event-template, github.com/devsapp/
# fc3); EventBridge-based triggers (MNS queue, RocketMQ, Kafka...) send CloudEvents 1.0 with
# ``aliyun*`` extensions (https://www.alibabacloud.com/help/en/functioncompute/fc/mns-queue-triggers),
# a JSON array of them in batch mode. FC's built-in runtimes pass the event as bytes.

# FC 3.0's instance lifecycle hooks (Initializer, PreStop; the Python runtime calls
# ``hook(context)``): index.py attribute -> Handler method, and their s.yaml timeouts in
# seconds (FC allows up to 300 s and 90 s). Sources: https://www.alibabacloud.com/help/en/
# functioncompute/fc/lifecycle-hooks-for-function-instances-1 ; s.yaml's
# instanceLifecycleConfig from the fc3 component's schema (github.com/devsapp/fc3,
# src/schema.json: {handler: string, timeout: number >= 1}).
LIFECYCLE_HOOKS: dict[str, str] = {"initializer": "initializer", "pre_stop": "pre_stop"}
INITIALIZER_TIMEOUT = 60
PRE_STOP_TIMEOUT = 60

EVENTS_AS_BYTES = True
TIMER_KIND = "alibaba.timer"
TIMER_FIELDS = ("triggerName", "payload", "triggerTime")  # name, user message, firing time
TRIGGER_EVENTS: dict[str, Any] = {
    "alibaba.timer": {
        "triggerTime": "2026-01-01T00:00:00Z",
        "triggerName": "daily-report",
        "payload": "",
    },
    "alibaba.oss": {
        "events": [
            {
                "eventName": "ObjectCreated:PutObject",
                "eventSource": "acs:oss",
                "eventTime": "2026-01-01T00:00:00.000Z",
                "eventVersion": "1.0",
                "oss": {
                    "bucket": {
                        "arn": "acs:oss:cn-hangzhou:1234567890123456:demo",
                        "name": "demo",
                        "ownerIdentity": "1234567890123456",
                        "virtualBucket": "",
                    },
                    "object": {"deltaSize": 5, "eTag": "0", "key": "a.txt", "size": 5},
                    "ossSchemaVersion": "1.0",
                    "ruleId": "9adac8e253828f4f7c0466d941fa3db81161e853",
                },
                "region": "cn-hangzhou",
                "requestParameters": {"sourceIPAddress": "203.0.113.5"},
                "responseElements": {"requestId": "58F9FF2D3DF792092E12044C"},
                "userIdentity": {"principalId": "1234567890123456"},
            }
        ]
    },
    "alibaba.cdn": {
        "events": [
            {
                "eventName": "LogFileCreated",
                "eventSource": "cdn",
                "eventTime": "2026-01-01T00:00:00+08:00",
                "eventVersion": "1.0.0",
                "eventParameter": {"domain": "example.com", "filePath": "/a.gz"},
                "region": "cn-hangzhou",
                "resource": {"domain": "example.com"},
                "traceId": "c6459282-6a4d-4413-894c-e4ea3968ee3a",
                "userIdentity": {"aliUid": "1234567890123456"},
            }
        ]
    },
    "alibaba.mns": {
        "TopicOwner": "1234567890123456",
        "Message": "hello topic",
        "Subscriber": "1234567890123456",
        "PublishTime": 1767225600000,
        "SubscriptionName": "worker",
        "MessageMD5": "BA4BA9B48AC81F0F9C66F6C909C39DBB",
        "TopicName": "orders",
        "MessageId": "2F5B3C082B923D4EAC7A3F2A8E2D0000",
    },
    "alibaba.sls": {
        "parameter": {},
        "source": {
            "endpoint": "http://cn-hangzhou-intranet.log.aliyuncs.com",
            "projectName": "demo",
            "logstoreName": "access",
            "shardId": 0,
            "beginCursor": "MTUyOTQ4MDIwOTY1NTk3ODQ2Mw==",
            "endCursor": "MTUyOTQ4MDIwOTY1NTk3ODQ2NA==",
        },
        "jobName": "1f7043ced683de1a4e3d8d70b5a412843d817a39",
        "taskId": "c2691505-38da-4d1b-998a-f1d4bb8c9994",
        "cursorTime": 1767225600,
    },
    "alibaba.eventbridge": {
        "id": "c2g71017-6f65-fhcf-a814-a396fc8d****",
        "source": "MNS-Function-mnstrigger",
        "specversion": "1.0",
        "type": "mns:Queue:SendMessage",
        "datacontenttype": "application/json; charset=utf-8",
        "subject": "acs:mns:cn-hangzhou:1234567890123456:queues/jobs",
        "time": "2026-01-01T00:00:00.000Z",
        "aliyunaccountid": "1234567890123456",
        "aliyunpublishtime": "2026-01-01T00:00:00.000Z",
        "aliyuneventbusname": "MNS-Function-mnstrigger",
        "aliyunregionid": "cn-hangzhou",
        "data": {"requestId": "6", "messageId": "7", "messageBody": "TEST"},
    },
}


def event_kind(event: Any) -> str | None:
    """The kind of an Alibaba FC trigger event, or None: ``triggerTime`` with
    ``triggerName`` (timer); ``events[0].eventSource`` ``acs:oss`` or ``cdn``; MNS topic
    (``TopicOwner``, ``TopicName``, ``MessageId``); SLS (``source.logstoreName`` with
    ``jobName``); CloudEvents with ``aliyun*`` extensions, alone or as a batch (a list)."""
    if isinstance(event, list) and event:
        return "alibaba.eventbridge" if _is_aliyun_cloudevent(event[0]) else None
    if not isinstance(event, Mapping):
        return None
    if "triggerTime" in event and "triggerName" in event:
        return "alibaba.timer"
    events = event.get("events")
    if isinstance(events, list) and events and isinstance(events[0], Mapping):
        source = events[0].get("eventSource")
        if source == "acs:oss":
            return "alibaba.oss"
        if source == "cdn":
            return "alibaba.cdn"
    if "TopicOwner" in event and "TopicName" in event and "MessageId" in event:
        return "alibaba.mns"
    source = event.get("source")
    if isinstance(source, Mapping) and "logstoreName" in source and "jobName" in event:
        return "alibaba.sls"
    if _is_aliyun_cloudevent(event):
        return "alibaba.eventbridge"
    return None


def _is_aliyun_cloudevent(event: Any) -> bool:
    return (
        isinstance(event, Mapping)
        and "specversion" in event
        and any(isinstance(key, str) and key.startswith("aliyun") for key in event)
    )


# --- deploying -------------------------------------------------------------------------------

CONFIG_FILE = "s.yaml"
DEPLOY_COMMAND = "s deploy"
DEPLOYS_FOLDER = False  # Serverless Devs deploys the zip itself


def web_steps(python: str) -> str:
    runtime = WEB_RUNTIMES[python]
    return (
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


def size_warnings(zipped: int, unzipped: int) -> list[str]:
    if zipped > CODE_LIMIT:
        return [f"{mib(zipped)} zipped is above Alibaba FC's 500 MB code package limit"]
    if (zipped + 2) // 3 * 4 > BASE64_CODE_LIMIT:
        return [
            f"{mib(zipped)} zipped is above Alibaba FC's 100 MB limit for code sent base64"
            " through the SDK/OpenAPI: upload it through the console, Serverless Devs or OSS"
        ]
    return []


def s_yaml(
    *,
    name: str,
    code: str,
    python: str,
    mode: str = "event",
    region: str = DEFAULT_REGION,
    memory_mb: int = 512,
    timeout_s: int = 30,
    lifecycle_hooks: bool = True,
) -> str:
    """``s.yaml`` for Serverless Devs' ``fc3`` component: an FC 3.0 function with an
    anonymous HTTP trigger. ``code`` is the zip (or folder) relative to the file.
    ``lifecycle_hooks``: wire FC's Initializer and PreStop to ``index.initializer`` and
    ``index.pre_stop`` (web mode: FC's /initialize and /pre-stop calls, which the server
    answers)."""
    props: dict[str, Any] = {"region": region, "functionName": name}
    if mode == "web":
        runtime = WEB_RUNTIMES[python]
        props.update(
            runtime=runtime.runtime_name,
            code=code,
            handler=f"index.{HANDLER_NAME}",
            customRuntimeConfig={"command": [f"/code/{START_FILE}"], "port": PORT},
            instanceConcurrency=20,
        )
    else:
        from . import event_runtime

        props.update(
            runtime=event_runtime(NAME, python).name,
            code=code,
            handler=f"index.{HANDLER_NAME}",
        )
    props.update(memorySize=memory_mb, timeout=timeout_s)
    if lifecycle_hooks:  # the generated index.py exports both (see LIFECYCLE_HOOKS)
        props["instanceLifecycleConfig"] = {
            "initializer": {"handler": "index.initializer", "timeout": INITIALIZER_TIMEOUT},
            "preStop": {"handler": "index.pre_stop", "timeout": PRE_STOP_TIMEOUT},
        }
    props["triggers"] = [
        {
            "triggerName": "http",
            "triggerType": "http",
            "triggerConfig": {
                "authType": "anonymous",
                "disableURLInternet": False,
                "methods": list(HTTP_METHODS),
            },
        }
    ]
    document = {
        "edition": "3.0.0",
        "name": name,
        "access": "default",
        "resources": {name: {"component": "fc3", "props": props}},
    }
    header = [
        "Alibaba FC 3.0 through Serverless Devs' fc3 component. Deploy: s deploy",
        "Written by `faas-bridge package`. The default *.fcapp.run domain makes browsers",
        "download HTML (Content-Disposition: attachment): bind a custom domain for pages.",
    ]
    return comment(header) + to_yaml(document)


def deploy_config(
    *, name: str, archive: str, python: str, mode: str, options: dict[str, Any]
) -> str:
    return s_yaml(
        name=name,
        code=f"./{archive}",
        python=python,
        mode=mode,
        region=options.get("region") or DEFAULT_REGION,
        lifecycle_hooks=mode == "web" or bool(options.get("index_hooks")),
    )


def read_web_headers(headers: Mapping[str, str]) -> tuple[str, dict[str, Any]] | None:
    """``(request id, context)`` from a web-mode request's headers (lower-case names), or
    None when they are not this cloud's: the ``x-fc-*`` headers with the prefix dropped."""
    if REQUEST_ID_HEADER not in headers and CONTROL_PATH_HEADER not in headers:
        return None
    return headers.get(REQUEST_ID_HEADER, ""), prefixed(headers, CONTEXT_HEADER_PREFIX)


def config_warnings(mode: str) -> list[str]:
    """What the written deploy config holds that no source confirms."""
    return []


def config_todo(options: dict[str, Any]) -> list[str]:
    """What the user must still fill in before deploying."""
    return []

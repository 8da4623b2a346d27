"""Everything about deploying to Alibaba Function Compute: runtimes (built-in and custom),
handler name, the custom runtime's start file, code-size limits, the Serverless Devs
``s.yaml`` deploy config, and what FC's web proxy injects (``x-fc-*`` headers, lifecycle
control paths, the port variables).

Its event format lives in ``platforms/alibaba_fc`` (FC 3.0 HTTP trigger).

Where each fact comes from (checked 2026-12)
--------------------------------------------
- Built-in (event) runtimes ``python3.9`` (Debian 9, glibc 2.24), ``python3.10`` (Debian 10,
  glibc 2.28) and ``python3.12`` (public preview, Debian 11, glibc 2.31), all x86_64: FC 3.0's
  Python runtime page (https://www.alibabacloud.com/help/en/functioncompute/python, updated
  2025-01-24) and runtime overview (fc-3-0/user-guide/runtime-overview-2). There is **no
  python3.11**; the fc3 component's schema (github.com/devsapp/fc3 ``src/schema.json``) lists
  the same three. Built-in runtimes mount the code at ``/code``, read-only.
- Custom-runtime (web) interpreters per OS image, from FC's custom-runtime page
  (https://www.alibabacloud.com/help/en/functioncompute/user-guide/overview-10, updated
  2025-09-05): ``custom.debian10`` (Debian 10, glibc 2.28) Python 3.10 in
  ``/var/fc/lang/python3.10`` (``PATH=/var/fc/lang/python3.10/bin``); ``custom.debian11``
  (Debian 11, glibc 2.31) Python 3.12 in ``/var/fc/lang/python3.12``; ``custom.debian12``
  (Debian 12, glibc 2.36) Python 3.11 at ``/usr/bin/python3``. No image has Python 3.9. The
  executable's name inside ``.../bin`` (``python3``) is **unverified** (only the folder is
  documented).
- Wheels: a ``manylinux_2_X`` wheel needs glibc 2.X or newer (PEP 600); the level used per
  runtime is the image's glibc, except Debian 9 (2.24), for which ``manylinux_2_17`` is used.
- Code size: a 500 MB zip through the console, developer tools or OSS; 100 MB for a zip sent
  base64-encoded through the SDK/OpenAPI (FC limits page).
- ``s.yaml``: ``edition: 3.0.0``, ``component: fc3``, ``props`` and their types from the fc3
  component's ``src/schema.json``; ``customDomain`` (``domainName: auto`` = a temporary test
  domain) from the fc3 end-to-end tests and the fc3-domain README
  (github.com/devsapp/fc3-domain). Deploy with Serverless Devs: ``npm i -g
  @serverless-devs/s``, ``s config add``, ``s deploy``.
- Custom runtimes: the server listens on ``FC_SERVER_PORT`` / ``FC_CUSTOM_LISTEN_PORT``
  (9000 by default); ``x-fc-control-path`` marks lifecycle calls (``/initialize``,
  ``/pre-freeze``, ``/pre-stop``); ``x-fc-access-key-*`` and ``x-fc-security-token`` carry
  the role's credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._common import (
    HTTP_METHODS,
    MB,
    PORT,
    RuntimeName,
    WebRuntime,
    comment,
    mib,
    prefixed,
    to_yaml,
)

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
    "3.10": WebRuntime("/var/fc/lang/python3.10/bin/python3", "custom.debian10", True),
    "3.11": WebRuntime("/usr/bin/python3", "custom.debian12", True),
    "3.12": WebRuntime("/var/fc/lang/python3.12/bin/python3", "custom.debian11", True),
}
# The newest manylinux level each runtime's glibc runs (event mode, web mode).
EVENT_MANYLINUX: dict[str, str] = {"3.9": "2_17", "3.10": "2_28", "3.12": "2_31"}
WEB_MANYLINUX: dict[str, str] = {"3.10": "2_28", "3.11": "2_36", "3.12": "2_31"}
CODE_DIR = "/code"  # where the runtime unpacks the code (read-only for built-in runtimes)
UNVERIFIED_WEB = (
    "the interpreter's file name in /var/fc/lang/python3.X/bin (only the folder is documented)"
)

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
# The function role's temporary credentials in the process environment (FC 3.0's system
# variables, https://www.alibabacloud.com/help/en/functioncompute/fc/environment-variables).
CREDENTIAL_VARIABLES: tuple[str, ...] = (
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
)

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
DEPLOY_INSTALL = "npm i -g @serverless-devs/s && s config add"
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
    domain: str | None = None,
    lifecycle_hooks: bool = True,
) -> str:
    """``s.yaml`` for Serverless Devs' ``fc3`` component: an FC 3.0 function with an
    anonymous HTTP trigger. ``code`` is the zip (or folder) relative to the file;
    ``domain`` binds a custom domain (``"auto"``: a temporary test domain from FC).
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
    if domain:
        props["customDomain"] = {
            "domainName": domain,
            "protocol": "HTTP",
            "route": {"path": "/*", "qualifier": "LATEST"},
        }
    document = {
        "edition": "3.0.0",
        "name": name,
        "access": "default",
        "resources": {name: {"component": "fc3", "props": props}},
    }
    header = [
        "Alibaba FC 3.0 through Serverless Devs' fc3 component. Deploy: s deploy",
        "Written by `faas-bridge package`. The default *.fcapp.run domain makes browsers",
        "download HTML (Content-Disposition: attachment): bind a custom domain for pages",
        "(customDomain; `--domain auto` asks FC for a temporary test domain).",
    ]
    return comment(header) + to_yaml(document)


def deploy_config(
    *, name: str, archive: str, python: str, mode: str, options: dict[str, Any]
) -> str:
    return s_yaml(
        name=name,
        code=archive,
        python=python,
        mode=mode,
        region=options.get("region") or DEFAULT_REGION,
        domain=options.get("domain"),
        lifecycle_hooks=mode == "web" or bool(options.get("index_hooks")),
    )


def deploy_command(*, name: str, mode: str, options: dict[str, Any]) -> str:
    return "s deploy"


def manylinux(python: str, mode: str) -> str:
    """The newest ``manylinux_2_X`` level (``"2_28"``) the runtime for ``python`` runs."""
    return (WEB_MANYLINUX if mode == "web" else EVENT_MANYLINUX)[python]


def config_warnings(mode: str) -> list[str]:
    """What the written deploy config holds that no source confirms."""
    return []


def config_todo(options: dict[str, Any]) -> list[str]:
    """What the user must still fill in before deploying."""
    return []


# --- web mode: what the proxy owns, and how faas_bridge trusts it -----------------------------
# Custom runtimes / web functions (FC 3.0): requests "do not support custom fields starting
# with x-fc-" (https://help.aliyun.com/document_detail/191345.html; en:
# https://www.alibabacloud.com/help/en/functioncompute/web-functions), and FC adds its own
# x-fc-* headers, request id and credentials among them, x-fc-control-path naming the call
# (https://www.alibabacloud.com/help/en/functioncompute/fc/context-and-log-format-1). Whether
# a client's x-fc-* header is refused or replaced is not documented, so a repeated one is
# refused. x-fc-client-ip is undocumented but set by FC's own runtimes (empty in a recorded
# dump behind API Gateway: then the client address stays unknown). FC_FUNCTION_NAME and
# FC_REGION are built-in variables under the reserved FC_ prefix
# (https://www.alibabacloud.com/help/en/functioncompute/fc/environment-variables). Lifecycle
# hooks arrive as POST /initialize and GET /pre-stop (https://www.alibabacloud.com/help/en/
# functioncompute/fc/lifecycle-hooks-for-function-instances-in-a-custom-runtime); only
# /initialize is a documented x-fc-control-path value, so both the header and the path count.
# Unverified: that X-Forwarded-Proto is FC's (a recorded dump shows it appended: "http,http").

OWNED_HEADER_PREFIXES: tuple[str, ...] = (CONTEXT_HEADER_PREFIX,)
TRUSTED_HEADERS: frozenset[str] = frozenset(
    {REQUEST_ID_HEADER, CLIENT_ADDRESS_HEADER, CONTROL_PATH_HEADER}
)
SCHEME_HEADER = "x-forwarded-proto"
WEB_BODY_LIMIT = 32 * MB  # synchronous invocations


def runs_here(environ: Mapping[str, str]) -> bool:
    """Whether the process runs in an FC function, from its built-in variables."""
    return bool(environ.get("FC_FUNCTION_NAME")) and bool(environ.get("FC_REGION"))


def read_web_headers(headers: Mapping[str, str]) -> tuple[str, dict[str, Any] | None]:
    """``(request id, context)`` from the proxy's headers (lower-case names, this cloud's
    only): the ``x-fc-*`` headers with the prefix dropped."""
    return headers.get(REQUEST_ID_HEADER, ""), prefixed(headers, CONTEXT_HEADER_PREFIX)


def lifecycle_call(headers: Mapping[str, str], method: str, path: str) -> str | None:
    """The lifecycle hook a request is (``/initialize``, ``/pre-stop``...), or None for an
    invocation: FC's control-path header says so, or, as FC's own request, the hook's path
    with no control path at all."""
    control = headers.get(CONTROL_PATH_HEADER)
    if control in LIFECYCLE_PATHS:
        return control
    if control is None and headers.get(REQUEST_ID_HEADER) and path in LIFECYCLE_PATHS:
        return path
    return None

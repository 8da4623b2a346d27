"""Deploy configurations for a package built by ``faas-bridge package``.

One function per deploy tool, each returning the file's text:

- :func:`serverless_yml`: Tencent SCF through Serverless Framework's ``scf`` component
  (``sls deploy``), with a function URL (default) or an API Gateway trigger.
- :func:`cloudbaserc_json`: Tencent CloudBase CLI (``tcb framework deploy`` or
  ``tcb fn deploy``), the function plus its HTTP access path.
- :func:`s_yaml`: Serverless Devs' ``fc3`` component for Alibaba FC 3.0 (``s deploy``),
  the function plus an HTTP trigger.

Where each setting comes from (checked 2026-11)
-----------------------------------------------
- scf component: ``inputs`` (``src``, ``handler``, ``runtime``, ``type: web``), the
  ``apigw`` trigger and ``function.isIntegratedResponse`` from the component's
  configuration reference; the function-URL trigger (``http`` with ``authType`` and
  ``netConfig``, both networks off unless enabled) from tencent-component-toolkit's
  ``triggers/http.ts``.
- Runtime names: SCF's ``PythonX.Y`` spelling from the scf component reference
  (``Python3.6``); Python 3.9 and 3.10 runtimes from Tencent's interpreter-path table,
  3.11 from public deployments, **3.12 unverified**. CloudBase functions run on SCF and
  use the same names: **unverified** for Python (CloudBase's runtime list confirms only
  the ``Nodejs18.15`` spelling).
- cloudbaserc.json: ``envId``, ``functionRoot``, ``functions[]`` (``name``, ``handler``,
  ``runtime``, ``timeout``, ``memorySize``, ``ignore``) from the CloudBase CLI reference;
  ``framework.plugins`` with ``@cloudbase/framework-plugin-function`` and its
  ``functionRootPath``/``functions``/``servicePaths`` inputs from that plugin's source.
  The web-function ``"type": "HTTP"`` key is **unverified**.
- s.yaml: ``edition: 3.0.0``, ``component: fc3``, ``props`` (``code`` may be a folder or a
  zip), ``customRuntimeConfig`` and the ``http`` trigger's ``authType``/``methods`` from the
  fc3 component's YAML reference; runtimes ``python3.9``, ``python3.10``, ``python3.12``
  (public preview) from FC 3.0's runtime list, which has **no python3.11**.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "RuntimeName",
    "cloudbaserc_json",
    "function_name",
    "runtime_name",
    "s_yaml",
    "serverless_yml",
    "to_yaml",
    "write_deploy_configs",
]

HANDLER_NAMES = {"tencent": "main_handler", "cloudbase": "main", "alibaba": "handler"}
DEFAULT_REGIONS = {"tencent": "ap-guangzhou", "alibaba": "cn-hangzhou"}
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


class RuntimeName(NamedTuple):
    """A platform's name for a Python runtime, and whether a source confirms it exists."""

    name: str
    verified: bool


_TENCENT_RUNTIMES = {
    "3.9": RuntimeName("Python3.9", True),
    "3.10": RuntimeName("Python3.10", True),
    "3.11": RuntimeName("Python3.11", True),
    "3.12": RuntimeName("Python3.12", False),
}
_FC_RUNTIMES = {
    "3.9": RuntimeName("python3.9", True),
    "3.10": RuntimeName("python3.10", True),
    "3.12": RuntimeName("python3.12", True),
}


def runtime_name(platform: str, python: str) -> RuntimeName:
    """The runtime name a deploy config gives for ``python`` on ``platform`` (event mode).

    Raises ``ValueError`` for a combination the platform does not offer (FC 3.0 has no
    built-in Python 3.11 runtime).
    """
    if platform == "tencent":
        return _TENCENT_RUNTIMES[python]
    if platform == "cloudbase":
        return RuntimeName(_TENCENT_RUNTIMES[python].name, False)
    if platform == "alibaba":
        if python not in _FC_RUNTIMES:
            offered = ", ".join(_FC_RUNTIMES)
            raise ValueError(
                f"Alibaba FC has no built-in Python {python} runtime (it offers {offered});"
                " choose one of those with --python, or --mode web (a custom runtime)"
            )
        return _FC_RUNTIMES[python]
    raise ValueError(f"unknown platform {platform!r}")


def function_name(text: str) -> str:
    """A function name all three platforms accept, derived from ``text``.

    Letters, digits, ``-`` and ``_``, starting with a letter, at most 60 characters.
    """
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_")
    if not name or not name[0].isalpha():
        name = "fn-" + name
    return name[:60].rstrip("-_")


def serverless_yml(
    *,
    name: str,
    src: str,
    python: str,
    mode: str = "event",
    trigger: str = "url",
    region: str = DEFAULT_REGIONS["tencent"],
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
        inputs["handler"] = f"index.{HANDLER_NAMES['tencent']}"
    inputs.update(
        runtime=runtime_name("tencent", python).name,
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
    return _comment(header) + to_yaml({"component": "scf", "name": name, "inputs": inputs})


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
        "runtime": runtime_name("cloudbase", python).name,
        "timeout": timeout_s,
        "memorySize": memory_mb,
        "installDependency": False,
    }
    if mode == "web":
        function["type"] = "HTTP"
    else:
        function["handler"] = f"index.{HANDLER_NAMES['cloudbase']}"
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
    return json.dumps(config, indent=2, ensure_ascii=False) + "\n"


def s_yaml(
    *,
    name: str,
    code: str,
    python: str,
    mode: str = "event",
    region: str = DEFAULT_REGIONS["alibaba"],
    memory_mb: int = 512,
    timeout_s: int = 30,
) -> str:
    """``s.yaml`` for Serverless Devs' ``fc3`` component: an FC 3.0 function with an
    anonymous HTTP trigger. ``code`` is the zip (or folder) relative to the file."""
    props: dict[str, Any] = {"region": region, "functionName": name}
    if mode == "web":
        from .bootstrap import PORT, runtime_for

        runtime = runtime_for("alibaba", python)
        props.update(
            runtime=runtime.runtime_name,
            code=code,
            handler=f"index.{HANDLER_NAMES['alibaba']}",
            customRuntimeConfig={"command": [f"/code/{runtime.filename}"], "port": PORT},
            instanceConcurrency=20,
        )
    else:
        props.update(
            runtime=runtime_name("alibaba", python).name,
            code=code,
            handler=f"index.{HANDLER_NAMES['alibaba']}",
        )
    props.update(memorySize=memory_mb, timeout=timeout_s)
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
    return _comment(header) + to_yaml(document)


CONFIG_FILES = {"tencent": "serverless.yml", "cloudbase": "cloudbaserc.json", "alibaba": "s.yaml"}
DEPLOY_COMMANDS = {
    "tencent": "sls deploy",
    "cloudbase": "tcb framework deploy",
    "alibaba": "s deploy",
}


def write_deploy_configs(
    zip_path: str | os.PathLike[str],
    *,
    platform: str,
    python: str,
    mode: str = "event",
    name: str | None = None,
    trigger: str = "url",
    region: str | None = None,
    env_id: str = "your-env-id",
    http_path: str = "/",
) -> list[Path]:
    """Write ``platform``'s deploy config beside the zip; return the paths written.

    Serverless Devs deploys the zip itself. The scf component and the CloudBase CLI deploy
    a folder, so for them the zip is also unpacked into ``<name>/`` beside it (replacing a
    folder a previous run unpacked there), with the executable bits kept.
    """
    archive = Path(zip_path)
    folder = archive.parent
    fn_name = function_name(name or archive.stem)
    written: list[Path] = []
    if platform == "alibaba":
        text = s_yaml(
            name=fn_name,
            code=f"./{archive.name}",
            python=python,
            mode=mode,
            region=region or DEFAULT_REGIONS["alibaba"],
        )
    else:
        written.append(_unpack(archive, folder / fn_name))
        if platform == "tencent":
            text = serverless_yml(
                name=fn_name,
                src=f"./{fn_name}",
                python=python,
                mode=mode,
                trigger=trigger,
                region=region or DEFAULT_REGIONS["tencent"],
            )
        elif platform == "cloudbase":
            text = cloudbaserc_json(
                name=fn_name, python=python, mode=mode, env_id=env_id, http_path=http_path
            )
        else:
            raise ValueError(f"unknown platform {platform!r}")
    config = folder / CONFIG_FILES[platform]
    config.write_text(text, encoding="utf-8")
    return [config, *written]


def _unpack(archive: Path, folder: Path) -> Path:
    """Extract ``archive`` into ``folder`` with the zip's Unix modes."""
    if folder.exists():
        if not (folder / "faas_bridge" / "__init__.py").is_file():
            raise FileExistsError(
                f"{folder} exists and is not a package unpacked by faas-bridge: move it away"
            )
        shutil.rmtree(folder)
    with zipfile.ZipFile(archive) as source:
        for info in source.infolist():
            path = source.extract(info, folder)
            mode = (info.external_attr >> 16) & 0o777
            if mode & stat.S_IXUSR:
                os.chmod(path, mode)
    return folder


def _comment(lines: Sequence[str]) -> str:
    return "".join(f"# {line}\n" for line in lines)


# --- a small YAML writer: enough for these configs, no dependency --------------------------

_PLAIN = re.compile(r"^[A-Za-z_/.][A-Za-z0-9_./-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def to_yaml(value: Mapping[str, Any]) -> str:
    """Block-style YAML for nested dicts, lists, strings, numbers and booleans.

    Strings that YAML could read as something else are written as JSON strings (valid
    YAML double-quoted scalars).
    """
    return "".join(line + "\n" for line in _mapping_lines(value, 0))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def _mapping_lines(mapping: Mapping[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, item in mapping.items():
        label = f"{pad}{_scalar(key)}:"
        if isinstance(item, Mapping) and item:
            lines.append(label)
            lines.extend(_mapping_lines(item, indent + 2))
        elif isinstance(item, list) and item:
            lines.append(label)
            lines.extend(_sequence_lines(item, indent + 2))
        elif isinstance(item, (Mapping, list)):
            lines.append(f"{label} {'{}' if isinstance(item, Mapping) else '[]'}")
        else:
            lines.append(f"{label} {_scalar(item)}")
    return lines


def _sequence_lines(items: Sequence[Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        if isinstance(item, Mapping) and item:
            inner = _mapping_lines(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines.extend(inner[1:])
        elif isinstance(item, list) and item:
            inner = _sequence_lines(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}")
            lines.extend(inner[1:])
        else:
            lines.append(f"{pad}- {_scalar(item)}")
    return lines

"""`faas-bridge package --configs`: serverless.yml, cloudbaserc.json and s.yaml."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from faas_bridge.cli import EXIT_USAGE, main
from faas_bridge.clouds import web_runtime
from faas_bridge.clouds._common import to_yaml
from faas_bridge.clouds.alibaba import s_yaml
from faas_bridge.clouds.cloudbase import cloudbaserc_json
from faas_bridge.clouds.tencent import serverless_yml
from faas_bridge.deploy_configs import function_name, runtime_name

PYTHONS = ("3.9", "3.10", "3.11", "3.12")


def test_the_command_offers_what_the_library_builds() -> None:
    from faas_bridge import bootstrap, package

    assert package.PLATFORMS == bootstrap.PLATFORMS
    assert package.PYTHON_VERSIONS == PYTHONS == bootstrap.PYTHON_VERSIONS
    assert package.MODES == ("event", "web")


@pytest.mark.parametrize("python", PYTHONS)
def test_serverless_yml_names_the_handler_the_runtime_and_a_public_function_url(
    python: str,
) -> None:
    config = yaml.safe_load(serverless_yml(name="shop", src="./shop", python=python))
    assert config["component"] == "scf"
    inputs = config["inputs"]
    assert inputs["handler"] == "index.main_handler"
    assert inputs["runtime"] == f"Python{python}"
    assert inputs["src"] == {"src": "./shop"}
    (event,) = inputs["events"]
    assert event["http"]["parameters"]["authType"] == "NONE"
    assert event["http"]["parameters"]["netConfig"]["enableExtranet"] is True


def test_serverless_yml_api_gateway_trigger_uses_the_integrated_response() -> None:
    text = serverless_yml(name="shop", src="./shop", python="3.10", trigger="apigw")
    (event,) = yaml.safe_load(text)["inputs"]["events"]
    (endpoint,) = event["apigw"]["parameters"]["endpoints"]
    assert endpoint == {"path": "/", "method": "ANY", "function": {"isIntegratedResponse": True}}
    assert event["apigw"]["parameters"]["environment"] == "release"


def test_serverless_yml_for_a_web_function_has_no_handler() -> None:
    inputs = yaml.safe_load(serverless_yml(name="shop", src="./shop", python="3.10", mode="web"))
    assert inputs["inputs"]["type"] == "web"
    assert "handler" not in inputs["inputs"]


@pytest.mark.parametrize("python", ["3.9", "3.10", "3.11"])
def test_cloudbaserc_names_the_function_its_runtime_and_its_http_path(python: str) -> None:
    config = json.loads(
        cloudbaserc_json(name="shop", python=python, env_id="env-1a2b", http_path="/shop")
    )
    assert config["envId"] == "env-1a2b"
    (function,) = config["functions"]
    assert function["name"] == "shop"
    assert function["handler"] == "index.main"
    assert function["runtime"] == f"Python{python}"
    # the CLI reference's function keys and ranges (docs.cloudbase.net/cli-v1/functions/configs;
    # "type" from the declarative deploy's cloudbaserc.json 2.1)
    documented = {"name", "dir", "handler", "runtime", "timeout", "memorySize", "ignore"}
    documented |= {"protocolType", "protocolParams", "instanceConcurrencyConfig", "vpc"}
    documented |= {"installDependency", "codeSecret", "envVariables", "triggers", "params"}
    assert set(function) <= documented | {"type"}
    assert 1 <= function["timeout"] <= 60
    assert function["memorySize"] in (128, 256, 512, 1024, 2048)
    plugin = config["framework"]["plugins"]["function"]
    assert plugin["use"] == "@cloudbase/framework-plugin-function"
    assert plugin["inputs"]["functions"] == [function]
    assert plugin["inputs"]["servicePaths"] == {"shop": "/shop"}


@pytest.mark.parametrize("python", ["3.9", "3.10", "3.12"])
def test_s_yaml_is_an_fc3_function_with_an_anonymous_http_trigger(python: str) -> None:
    config = yaml.safe_load(s_yaml(name="shop", code="./shop.zip", python=python))
    assert config["edition"] == "3.0.0"
    resource = config["resources"]["shop"]
    assert resource["component"] == "fc3"
    props = resource["props"]
    assert props["handler"] == "index.handler"
    assert props["runtime"] == f"python{python}"
    assert props["code"] == "./shop.zip"
    (trigger,) = props["triggers"]
    assert trigger["triggerType"] == "http"
    assert trigger["triggerConfig"]["authType"] == "anonymous"
    assert {"GET", "POST", "PUT", "DELETE"} <= set(trigger["triggerConfig"]["methods"])


def test_s_yaml_for_a_web_function_is_a_custom_runtime_running_the_start_file() -> None:
    props = yaml.safe_load(s_yaml(name="shop", code="./shop.zip", python="3.10", mode="web"))[
        "resources"
    ]["shop"]["props"]
    assert props["runtime"] == "custom.debian10"
    assert props["customRuntimeConfig"] == {"command": ["/code/bootstrap"], "port": 9000}


def test_fc_has_no_python_3_11_runtime() -> None:
    with pytest.raises(ValueError, match=r"no built-in Python 3\.11"):
        runtime_name("alibaba", "3.11")
    assert not runtime_name("tencent", "3.12").verified
    assert not runtime_name("tencent", "3.11").verified
    assert runtime_name("tencent", "3.10").verified


def test_cloudbase_offers_no_python_3_12_in_either_mode() -> None:
    with pytest.raises(ValueError, match=r"no built-in Python 3\.12 .*3\.9, 3\.10, 3\.11"):
        runtime_name("cloudbase", "3.12")
    with pytest.raises(ValueError, match=r"no web runtime for Python 3\.12"):
        web_runtime("cloudbase", "3.12")
    with pytest.raises(ValueError, match=r"no built-in Python 3\.12"):
        cloudbaserc_json(name="shop", python="3.12")


def test_fc_custom_runtimes_are_the_documented_interpreters_per_os_image() -> None:
    assert web_runtime("alibaba", "3.11") == ("/usr/bin/python3", "custom.debian12", True)
    assert web_runtime("alibaba", "3.10").runtime_name == "custom.debian10"
    assert web_runtime("alibaba", "3.12").runtime_name == "custom.debian11"
    with pytest.raises(ValueError, match=r"no web runtime for Python 3\.9"):
        web_runtime("alibaba", "3.9")


# The fc3 component's own field list: the top-level properties and the runtime enum of
# github.com/devsapp/fc3 src/schema.json (generated from src/interface/index.ts IProps),
# plus customDomain, which fc3 hands to its fc3-domain component.
FC3_PROPS = {
    "annotations",
    "asyncInvokeConfig",
    "code",
    "concurrencyConfig",
    "cpu",
    "customContainerConfig",
    "customDNS",
    "customRuntimeConfig",
    "description",
    "diskSize",
    "enableLongLiving",
    "endpoint",
    "environmentVariables",
    "functionName",
    "gpuConfig",
    "handler",
    "instanceConcurrency",
    "instanceIsolationMode",
    "instanceLifecycleConfig",
    "internetAccess",
    "layers",
    "logConfig",
    "memorySize",
    "nasConfig",
    "ossMountConfig",
    "provisionConfig",
    "region",
    "resourceGroupId",
    "role",
    "runtime",
    "scalingConfig",
    "sessionAffinity",
    "sessionAffinityConfig",
    "supplement",
    "tags",
    "timeout",
    "tracingConfig",
    "triggers",
    "vpcBinding",
    "vpcConfig",
    "customDomain",
}
FC3_RUNTIMES = {
    "custom",
    "custom-container",
    "micro-sandbox",
    "custom.debian10",
    "custom.debian11",
    "custom.debian12",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "go1",
    "java11",
    "java8",
    "nodejs10",
    "nodejs12",
    "nodejs14",
    "nodejs16",
    "nodejs18",
    "nodejs20",
    "nodejs8",
    "php7.2",
    "python2.7",
    "python3",
    "python3.10",
    "python3.12",
    "python3.9",
}


@pytest.mark.parametrize(
    ("python", "mode"),
    [("3.9", "event"), ("3.10", "event"), ("3.12", "event")]
    + [(python, "web") for python in ("3.10", "3.11", "3.12")],
)
def test_s_yaml_uses_only_the_fc3_schemas_fields_and_runtimes(python: str, mode: str) -> None:
    text = s_yaml(name="shop", code="../shop.zip", python=python, mode=mode, domain="auto")
    props = yaml.safe_load(text)["resources"]["shop"]["props"]
    assert set(props) <= FC3_PROPS
    assert props["runtime"] in FC3_RUNTIMES
    assert {"functionName", "region", "runtime", "code"} <= set(props)
    assert props["customDomain"] == {
        "domainName": "auto",
        "protocol": "HTTP",
        "route": {"path": "/*", "qualifier": "LATEST"},
    }
    assert 128 <= props["memorySize"] <= 32768
    assert props["memorySize"] % 64 == 0
    trigger = props["triggers"][0]["triggerConfig"]
    assert trigger["authType"] in ("anonymous", "function", "jwt")
    assert set(trigger["methods"]) <= {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}
    assert 1 <= props["timeout"] <= 86400
    assert 1 <= props.get("instanceConcurrency", 1) <= 200
    assert set(props.get("customRuntimeConfig", {})) <= {
        "command",
        "args",
        "port",
        "healthCheckConfig",
    }
    # IInstanceLifecycleConfig / ILifecycleHook ({handler, command, timeout >= 1}); FC's
    # limits: initializer up to 300 s, preStop up to 90 s
    hooks = props["instanceLifecycleConfig"]
    assert set(hooks) <= {"initializer", "preStop"}
    for hook in hooks.values():
        assert set(hook) <= {"handler", "command", "timeout"}
        assert isinstance(hook["handler"], str)
        assert hook["timeout"] >= 1
    assert hooks["initializer"]["timeout"] <= 300
    assert hooks["preStop"]["timeout"] <= 90


def test_s_yaml_has_no_custom_domain_unless_asked() -> None:
    props = yaml.safe_load(s_yaml(name="shop", code="../shop.zip", python="3.10"))
    assert "customDomain" not in props["resources"]["shop"]["props"]


@pytest.mark.parametrize(
    ("text", "name"),
    [("flask_app", "flask_app"), ("my app!", "my-app"), ("3d", "fn-3d"), ("x" * 80, "x" * 60)],
)
def test_function_names_are_accepted_by_every_platform(text: str, name: str) -> None:
    assert function_name(text) == name


def test_the_yaml_writer_keeps_strings_that_look_like_other_types() -> None:
    value: dict[str, Any] = {
        "yes": "no",
        "version": "3.0.0",
        "on": ["true", "1", "", "a: b", "# not a comment", "$DEFAULT", "普洱"],
        "empty": {},
        "nested": [{"a": 1, "b": [True, None]}, [1, 2]],
    }
    assert yaml.safe_load(to_yaml(value)) == value


# --- the CLI writes them beside the zip -----------------------------------------------------


def _tiny_project(folder: Path) -> Path:
    folder.mkdir()
    (folder / "app.py").write_text(
        "def app(environ, start_response):\n    start_response('200 OK', [])\n    return [b'ok']\n"
    )
    (folder / "requirements.txt").write_text("faas-bridge\n")
    return folder


@pytest.mark.parametrize(
    ("platform", "config_name", "handler"),
    [
        ("tencent", "serverless.yml", "index.main_handler"),
        ("cloudbase", "cloudbaserc.json", "index.main"),
        ("alibaba", "s.yaml", "index.handler"),
    ],
)
def test_configs_are_written_next_to_the_zip(
    platform: str,
    config_name: str,
    handler: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = _tiny_project(tmp_path / "shop")
    output = tmp_path / "dist" / "shop.zip"
    args = [str(project), "--platform", platform, "--entry", "app:app", "-o", str(output)]
    assert main(["package", *args, "--configs", "--env-id", "env-1"]) == 0
    out = capsys.readouterr().out

    folder = output.parent / "shop"  # the deploy folder: the zip's name without .zip
    assert (folder / ".faas-bridge-package").is_file()
    config_path = folder / config_name
    text = config_path.read_text()
    config = json.loads(text) if config_name.endswith(".json") else yaml.safe_load(text)
    assert handler in text
    assert "3.10" in text
    if platform == "alibaba":
        code = config["resources"]["shop"]["props"]["code"]
        assert (folder / code).resolve() == output.resolve()
        assert not (folder / "shop").exists()
    else:
        unpacked = folder / "shop"
        assert (unpacked / "index.py").is_file()
        assert (unpacked / "faas_bridge" / "__init__.py").is_file()
        if platform == "tencent":
            assert config["inputs"]["src"]["src"] == "./shop"
        else:
            assert config["functionRoot"] == "."
            assert config["functions"][0]["name"] == "shop"
    # CloudBase's function plugin (`tcb framework deploy`) lists no Python: the CLI's own
    # `tcb fn deploy NAME` reads the function from cloudbaserc.json; --path adds its HTTP path
    deploy = {
        "tencent": "scf deploy",
        "cloudbase": "tcb fn deploy shop --path /",
        "alibaba": "s deploy",
    }
    assert out.splitlines()[-1].endswith(f"&& {deploy[platform]}")
    if platform == "tencent":
        assert "npm i -g serverless-cloud-framework" in out
        assert "sls deploy" not in out + text


def test_the_printed_deploy_command_can_be_pasted_for_a_folder_with_a_space(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # "cd dist/my shop-tencent-event && scf deploy" went to the wrong folder when pasted
    _tiny_project(tmp_path / "my shop")
    monkeypatch.chdir(tmp_path)
    assert (
        main(["package", "my shop", "--platform", "tencent", "--entry", "app:app", "--configs"])
        == 0
    )
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.endswith("; cd 'dist/my shop-tencent-event' && scf deploy")
    assert (tmp_path / "dist" / "my shop-tencent-event" / "my-shop" / "index.py").is_file()


def test_web_mode_configs_keep_the_start_file_executable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "shop")
    (project / "requirements.txt").write_text("")
    output = tmp_path / "dist" / "shop.zip"
    args = [str(project), "--platform", "tencent", "--entry", "app:app", "-o", str(output)]
    # web mode installs the serve extra (uvicorn, a2wsgi) with pip
    assert main(["package", *args, "--mode", "web", "--configs"]) == 0
    capsys.readouterr()
    start = output.parent / "shop" / "shop" / "scf_bootstrap"
    assert os.access(start, os.X_OK)
    config = (output.parent / "shop" / "serverless.yml").read_text()
    assert yaml.safe_load(config)["inputs"]["type"] == "web"


def test_cloudbase_web_mode_deploys_an_http_function(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "shop")
    (project / "requirements.txt").write_text("")
    output = tmp_path / "dist" / "shop.zip"
    args = [str(project), "--platform", "cloudbase", "--entry", "app:app", "-o", str(output)]
    assert main(["package", *args, "--mode", "web", "--configs", "--http-path", "/my shop"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].endswith("&& tcb fn deploy shop --httpFn --path '/my shop'")
    config = json.loads((output.parent / "shop" / "cloudbaserc.json").read_text())
    assert config["functions"][0]["type"] == "HTTP"


def test_a_build_without_configs_warns_that_the_deploy_folder_is_now_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # scf deploy / tcb fn deploy upload the unpacked copy in the deploy folder: rebuilt
    # without --configs, the zip was new but that copy was the previous build, silently
    project = _tiny_project(tmp_path / "shop")
    output = tmp_path / "dist" / "shop.zip"
    args = [str(project), "--platform", "tencent", "--entry", "app:app", "-o", str(output)]
    assert main(["package", *args, "--configs"]) == 0
    assert "earlier build" not in capsys.readouterr().err
    assert main(["package", *args]) == 0
    err = capsys.readouterr().err
    assert f"{output.parent / 'shop'} holds the unpacked package of an earlier build" in err
    assert (output.parent / "shop" / "serverless.yml").is_file()  # left as it was


def test_an_interrupted_deploy_folder_write_leaves_the_previous_one_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the deploy folder was emptied first, then refilled: Ctrl+C while unpacking left
    # half a package (and a marker), or, before the marker, a folder the next run refused
    from faas_bridge.package import output as writing

    project = _tiny_project(tmp_path / "shop")
    output = tmp_path / "dist" / "shop.zip"
    args = [str(project), "--platform", "tencent", "--entry", "app:app", "-o", str(output)]
    assert main(["package", *args, "--configs"]) == 0
    folder = output.parent / "shop"
    before = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))

    def interrupted(archive: Path, into: Path) -> Path:
        into.mkdir()
        (into / "index.py").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(writing, "unpack", interrupted)
    assert main(["package", *args, "--configs"]) == 130
    capsys.readouterr()
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == before
    assert (folder / "shop" / "index.py").read_text() != "half"
    assert sorted(p.name for p in output.parent.iterdir()) == ["shop", "shop.zip"]


def test_an_unpacked_folder_that_is_not_ours_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _tiny_project(tmp_path / "shop")
    output = tmp_path / "dist" / "shop.zip"
    (output.parent / "shop").mkdir(parents=True)
    (output.parent / "shop" / "notes.txt").write_text("mine")
    args = [str(project), "--platform", "tencent", "--entry", "app:app", "-o", str(output)]
    assert main(["package", *args, "--configs"]) == EXIT_USAGE
    assert "was not written by faas-bridge package" in capsys.readouterr().err
    assert (output.parent / "shop" / "notes.txt").read_text() == "mine"

"""The house's rules, as a user or a contributor would notice them: one vocabulary for format
and cloud names everywhere, formats that can never both claim an event, and a cold start that
loads only the function side of the formats."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faas_bridge import ConfigurationError, make_handler
from faas_bridge.cli import main
from faas_bridge.clouds import CLOUDS, resolve_cloud_name
from faas_bridge.platforms import PLATFORMS, resolve_platform_name
from faas_bridge.testing import FaasClient, build_event

KEYS = ["httpMethod", "path", "rawPath", "requestContext", "headers", "queryString", "version"]
contexts = st.one_of(
    st.none(),
    st.just({}),
    st.just({"envId": "env-1"}),
    st.just({"sourceIp": "1.2.3.4"}),
    st.just({"http": {"method": "GET"}, "envId": "x"}),
    st.just("text"),
)


@given(present=st.sets(st.sampled_from(KEYS)), request_context=contexts)
def test_no_event_is_claimed_by_two_formats(present: set[str], request_context: Any) -> None:
    event: dict[str, Any] = dict.fromkeys(present, "x")
    if "requestContext" in present:
        event["requestContext"] = request_context
    claimed = [name for name, platform in PLATFORMS.items() if platform.matches(event)]
    assert len(claimed) <= 1, claimed


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        ("tencent_apigw", "tencent_apigw"),
        ("Tencent-APIGW", "tencent_apigw"),
        (" ALIBABA_FC ", "alibaba_fc"),
        ("alibaba", "alibaba_fc"),
        ("CloudBase", "cloudbase"),
    ],
)
def test_format_names_are_read_one_way(given_name: str, expected: str) -> None:
    assert resolve_platform_name(given_name) == expected


def test_an_ambiguous_cloud_name_names_both_of_its_formats() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_platform_name("tencent")
    assert "tencent_apigw" in str(caught.value)
    assert "tencent_url" in str(caught.value)


def test_a_typo_gets_a_suggestion() -> None:
    with pytest.raises(ConfigurationError, match="did you mean 'tencent_apigw'"):
        resolve_platform_name("tencent_apigww")
    with pytest.raises(ConfigurationError, match="did you mean 'alibaba'"):
        resolve_cloud_name("alibab")


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [("tencent", "tencent"), ("TENCENT_URL", "tencent"), ("alibaba-fc", "alibaba")],
)
def test_cloud_names_accept_their_formats(given_name: str, expected: str) -> None:
    assert resolve_cloud_name(given_name) == expected


def test_every_format_belongs_to_a_registered_cloud() -> None:
    assert {platform.CLOUD for platform in PLATFORMS.values()} <= set(CLOUDS)


def test_the_python_api_takes_the_same_names() -> None:
    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["faas_bridge.platform"].encode()]

    handler = make_handler(app, platform="Alibaba")
    assert FaasClient(handler, "alibaba").get("/").text == "alibaba_fc"
    assert isinstance(build_event("ALIBABA-FC"), bytes)


def test_every_command_reads_names_the_same_way(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["events", "Alibaba", "--path", "/x"]) == 0
    assert '"rawPath": "/x"' in capsys.readouterr().out
    assert main(["events", "tencent"]) == 2
    error = capsys.readouterr().err
    assert "tencent_apigw" in error
    assert "tencent_url" in error
    assert main(["bootstrap", "index:app", "--platform", "Alibaba-FC", "-o", str(tmp_path)]) == 0
    assert (tmp_path / "bootstrap").is_file()


def test_cold_start_loads_only_the_function_side() -> None:
    code = (
        "import sys\n"
        "from faas_bridge import make_handler\n"
        "make_handler(lambda environ, start_response: [])\n"
        "print(sorted(m for m in sys.modules if m.startswith('faas_bridge')))\n"
        "print('typing' in sys.modules, 'asyncio' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    loaded = eval(out[0])
    assert not [m for m in loaded if ".gateway" in m or ".clouds" in m or ".testing" in m]
    assert not [m for m in loaded if m.endswith((".cli", ".emulator", ".web"))]
    assert out[1] == "False False"


README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_the_readme_options_table_lists_every_option_and_format() -> None:
    """A reader of README's Options table sees every keyword of make_handler, and the
    `platform` row names every format (the issue-17 options and alibaba_apigw were missing)."""
    section = _readme_section("Options")
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[1])}
    options = set(inspect.signature(make_handler).parameters) - {"app"}
    assert options - documented == set()
    platform_row = next(row for row in rows if row.startswith("| `platform`"))
    assert [name for name in PLATFORMS if f'"{name}"' not in platform_row] == []


def test_the_readme_map_of_the_house_names_every_module() -> None:
    section = _readme_section("Development")
    package = Path(make_handler.__code__.co_filename).parent
    modules = [path.name for path in package.glob("*.py") if not path.name.startswith("_")]
    assert [name for name in sorted(modules) if name not in section] == []

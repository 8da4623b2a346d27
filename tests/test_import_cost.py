"""The event path stays light: no asyncio, logging, werkzeug, CLI or testing modules."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = (
    "asyncio",
    "logging",
    "werkzeug",
    "flask",
    "faas_bridge.testing",
    "faas_bridge.cli",
    "inspect",
    "json",
)


def test_import_and_make_handler_stay_on_the_light_path() -> None:
    code = (
        "import sys, json as _j; before = set(sys.modules); del sys.modules['json']\n"
        "import faas_bridge\n"
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [])\n"
        "    return [b'']\n"
        "handler = faas_bridge.make_handler(app)\n"
        "handler({'httpMethod': 'GET', 'path': '/', 'headers': {}, 'queryString': {}}, {})\n"
        "print(_j.dumps(sorted(set(sys.modules) - before)))\n"
    )
    output = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = json.loads(output)
    leaked = [name for name in loaded if name.split(".")[0] in FORBIDDEN or name in FORBIDDEN]
    assert leaked == [], f"the WSGI event path imported {leaked}"
    assert "faas_bridge.wsgi" in loaded

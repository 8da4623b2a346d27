"""The sample events shipped with faas_bridge, in ``platforms/<format>/samples/<case>.json``
(see ``SAMPLES.md`` beside this file): :func:`list_events` and :func:`load_event`."""

from __future__ import annotations

import json
from typing import Any

from ..errors import ConfigurationError
from ..platforms import PLATFORM_NAMES, resolve_platform_name

__all__ = ["list_events", "load_event"]

_SAMPLE_CASES: dict[str, str] = {
    "get_query": "GET of a Chinese path with a repeated key and a key without value",
    "json_post": "POST of a JSON object",
    "form_post": "POST of an urlencoded form with a repeated field",
    "binary_upload": "PUT of binary bytes (base64 in the event)",
    "cookies": "GET with two cookies in the Cookie header",
    "timer": "a timer trigger (not HTTP: make_handler needs on_event=)",
}


def _folder(platform: str) -> Any:
    from importlib.resources import files

    return files("faas_bridge").joinpath("platforms").joinpath(platform).joinpath("samples")


def list_events(platform: str | None = None) -> dict[str, str]:
    """The sample events shipped with faas_bridge, ``name -> description``.

    Names are ``"<platform>/<case>"`` (``"tencent_apigw/get_query"``); ``platform``
    narrows the list to one format.
    """
    names = PLATFORM_NAMES if platform is None else (resolve_platform_name(platform),)
    found: dict[str, str] = {}
    for name in names:
        folder = _folder(name)
        if not folder.is_dir():
            continue
        stems = {entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".json")}
        order = [case for case in _SAMPLE_CASES if case in stems] + sorted(
            stems - set(_SAMPLE_CASES)
        )
        for case in order:
            found[f"{name}/{case}"] = _SAMPLE_CASES.get(case, "")
    return found


def load_event(name: str) -> Any:
    """A sample event shipped with faas_bridge, as the platform hands it to the function.

    A dict for Tencent SCF and CloudBase; bytes of JSON for Alibaba FC. ``name`` is one of
    :func:`list_events` (``"alibaba_fc/json_post"``); a trailing ``.json`` is allowed.
    """
    from ..platforms._gateway import gateway

    stem = name[:-5] if name.endswith(".json") else name
    platform, _, case = stem.partition("/")
    if platform not in PLATFORM_NAMES or not case or "/" in case or case.startswith("."):
        raise ConfigurationError(f"unknown sample event {name!r}; see list_events()")
    resource = _folder(platform).joinpath(case + ".json")
    if not resource.is_file():
        raise ConfigurationError(f"unknown sample event {name!r}; see list_events()")
    raw = resource.read_bytes()
    event = json.loads(raw)
    delivered = gateway(platform).deliver(event)
    return raw if isinstance(delivered, bytes) else delivered

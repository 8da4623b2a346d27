"""Deploy configurations for a package built by ``faas-bridge package``: the cloud's own
config (``clouds/<cloud>.py`` writes it: ``serverless.yml``, ``cloudbaserc.json``,
``s.yaml``) in a deploy folder beside the zip, with the unpacked package where the cloud's
tool deploys a folder.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from typing import Any

from .clouds import RuntimeName, event_runtime, get_cloud

__all__ = ["RuntimeName", "function_name", "runtime_name", "write_deploy_configs"]


def runtime_name(platform: str, python: str) -> RuntimeName:
    """The runtime name a deploy config gives for ``python`` on ``platform`` (event mode);
    ``ValueError`` for a combination the cloud does not offer."""
    return event_runtime(platform, python)


def function_name(text: str) -> str:
    """A function name all three platforms accept, derived from ``text``.

    Letters, digits, ``-`` and ``_``, starting with a letter, at most 60 characters.
    """
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-_")
    if not name or not name[0].isalpha():
        name = "fn-" + name
    return name[:60].rstrip("-_")


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
    domain: str | None = None,
    project: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Write ``platform``'s deploy config into the deploy folder beside the zip (the zip's
    name without ``.zip``: one per cloud and mode); return the paths written.

    The folder carries a marker file; a folder without one is never removed or replaced
    (:class:`~faas_bridge.package.OutputError`), nor one that is, holds or lies inside
    ``project``. It is written beside and swapped in whole, so an interrupted run leaves
    the previous one. Where the cloud's tool deploys a folder rather than the zip
    (``DEPLOYS_FOLDER``), the zip is also unpacked into ``<name>/`` in it, modes kept.
    """
    from .package import output as writing

    cloud = get_cloud(platform)
    archive = Path(zip_path).resolve()
    folder = archive.with_suffix("")
    if project is not None:
        writing.check_output(Path(project).resolve(), folder, "deploy folder")
    fn_name = function_name(name or archive.stem)
    options: dict[str, Any] = {
        "trigger": trigger,
        "region": region,
        "env_id": env_id,
        "http_path": http_path,
        "domain": domain,
        "index_hooks": _index_hooks(archive, cloud.LIFECYCLE_HOOKS),
    }
    text = cloud.deploy_config(
        name=fn_name, archive=f"../{archive.name}", python=python, mode=mode, options=options
    )
    with writing.replacing_folder(folder) as staging:
        if cloud.DEPLOYS_FOLDER:
            writing.unpack(archive, staging / fn_name)
        (staging / cloud.CONFIG_FILE).write_text(text, encoding="utf-8")
    return [folder / cloud.CONFIG_FILE, *([folder / fn_name] if cloud.DEPLOYS_FOLDER else [])]


def _index_hooks(archive: Path, hooks: dict[str, str]) -> bool:
    """Whether the zip's ``index.py`` defines every lifecycle hook the cloud would call (a
    deploy config naming a missing one would fail every instance's start)."""
    if not hooks:
        return False
    try:
        with zipfile.ZipFile(archive) as source:
            text = source.read("index.py").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False
    return all(re.search(rf"^(def {name}\(|{name}\s*=)", text, re.M) for name in hooks)

"""Deploy configurations for a package built by ``faas-bridge package``: the cloud's own
config (``clouds/<cloud>.py`` writes it: ``serverless.yml``, ``cloudbaserc.json``,
``s.yaml``) beside the zip, and the unpacked folder where the cloud's tool deploys one.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
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
) -> list[Path]:
    """Write ``platform``'s deploy config beside the zip; return the paths written.

    Where the cloud's tool deploys a folder rather than the zip (``DEPLOYS_FOLDER``), the zip
    is also unpacked into ``<name>/`` beside it (replacing a folder a previous run unpacked
    there), with the executable bits kept.
    """
    cloud = get_cloud(platform)
    archive = Path(zip_path)
    folder = archive.parent
    fn_name = function_name(name or archive.stem)
    options: dict[str, Any] = {
        "trigger": trigger,
        "region": region,
        "env_id": env_id,
        "http_path": http_path,
        "index_hooks": _index_hooks(archive, cloud.LIFECYCLE_HOOKS),
    }
    text = cloud.deploy_config(
        name=fn_name, archive=archive.name, python=python, mode=mode, options=options
    )
    written: list[Path] = []
    if cloud.DEPLOYS_FOLDER:
        written.append(_unpack(archive, folder / fn_name))
    config = folder / cloud.CONFIG_FILE
    config.write_text(text, encoding="utf-8")
    return [config, *written]


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

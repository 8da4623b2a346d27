"""Where ``faas-bridge package`` may write, and writing there without losing anything.

The zip goes where ``-o`` says or to ``dist/<name>-<cloud>-<mode>.zip``; the deploy folder
(``--configs``) beside it, named like the zip without ``.zip``. Neither may be the project,
contain it, or lie inside it (except under its top-level ``dist/``). An existing zip is
replaced only when it carries :data:`~.files.ZIP_COMMENT`, an existing folder only when it
holds the :data:`~.files.MARKER` file: anything else is the user's and stays. Both are
written beside their place and moved in whole, so an interrupted run leaves the previous
ones as they were.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError
from .files import MARKER, ZIP_COMMENT

__all__ = [
    "FIXED_DATE",
    "check_folder_target",
    "check_output",
    "check_zip_target",
    "replacing_folder",
    "unpack",
    "write_zip",
]

FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def check_output(project: Path, path: Path, what: str) -> None:
    """Refuse an output ``path`` that is, holds or lies inside ``project`` (its top-level
    ``dist/`` aside)."""
    if path == project or project.is_relative_to(path):
        raise OutputError(f"the {what} {path} would be or hold the project folder {project}")
    if path.is_relative_to(project) and not path.is_relative_to(project / "dist"):
        raise OutputError(
            f"the {what} {path} lies inside the project {project}, whose files it packages:"
            " write it under dist/ or outside the project (-o)"
        )


def check_zip_target(path: Path) -> None:
    """Refuse a name not ending in ``.zip``, and to overwrite anything but a zip ``package``
    wrote."""
    if path.suffix.lower() != ".zip":
        # the deploy folder is the name without .zip, and Serverless Devs' fc3 uploads a
        # code path as it is only when it ends in .zip (it zips anything else again:
        # github.com/devsapp/fc3 src/subCommands/deploy/impl/function.ts, _assertNeedZip)
        raise OutputError(f"{path}: name the zip with .zip (-o NAME.zip)")
    if path.is_symlink() or path.is_dir():
        raise OutputError(f"{path} exists and is not a file package wrote: choose another -o")
    if not path.exists():
        return
    try:
        with zipfile.ZipFile(path) as archive:
            ours = archive.comment == ZIP_COMMENT
    except (OSError, zipfile.BadZipFile):
        ours = False
    if not ours:
        raise OutputError(
            f"{path} exists and was not written by faas-bridge package: move it away or"
            " choose another -o"
        )


def check_folder_target(folder: Path) -> None:
    """Refuse to replace anything but a folder ``package`` wrote (one holding its marker)."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise OutputError(f"{folder} exists and is not a folder package wrote: move it away")
    if folder.exists() and not (folder / MARKER).is_file():
        raise OutputError(
            f"{folder} exists and was not written by faas-bridge package (no {MARKER}"
            " in it): move it away or choose another -o"
        )


@contextmanager
def replacing_folder(folder: Path) -> Iterator[Path]:
    """A new, empty folder (but for its marker) to fill, which then replaces ``folder``;
    only a folder with the marker is replaced. Filled beside it and swapped in at the end,
    so a failure or Ctrl+C leaves the previous folder whole."""
    check_folder_target(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".faas-bridge-", dir=folder.parent))
    try:
        (staging / MARKER).write_text(
            "Written by faas-bridge package, which replaces this folder on its next run.\n",
            encoding="utf-8",
        )
        yield staging
        staging.chmod(0o777 & ~_umask())  # mkdtemp's 0700 would surprise the deploy tools
        check_folder_target(folder)
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=".faas-bridge-old-", dir=folder.parent))
            os.replace(folder, old / folder.name)
            os.replace(staging, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def write_zip(path: Path, entries: Iterable[tuple[str, Path, bool]]) -> int:
    """Write ``(name, source, executable)`` entries to the zip at ``path`` reproducibly;
    return the unzipped size.

    Sorted names, a fixed date (1980-01-01), Unix modes 0644 or 0755, deflate level 9, and
    :data:`ZIP_COMMENT`. Written beside ``path`` and moved into place, so a failure leaves
    no half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    fd, temp_name = tempfile.mkstemp(prefix=".faas-bridge-", suffix=".zip", dir=path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(temp_name, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for name, source, executable in sorted(entries):
                info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
                info.create_system = 3  # Unix, so unzip and the clouds honour the modes
                info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                data = source.read_bytes()
                total += len(data)
                archive.writestr(info, data, compresslevel=9)
            archive.comment = ZIP_COMMENT
        os.chmod(temp_name, 0o666 & ~_umask())  # mkstemp's 0600 would surprise the deploy tools
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return total


def unpack(archive: Path, folder: Path) -> Path:
    """Extract ``archive`` into the new ``folder`` with the zip's Unix modes."""
    with zipfile.ZipFile(archive) as source:
        for info in source.infolist():
            extracted = source.extract(info, folder)
            os.chmod(extracted, (info.external_attr >> 16) & 0o777 or 0o644)
    return folder

"""Which of a project's files go into its package, and why each other one stays out.

Rules, first match wins: ``--include`` globs (and ``include`` under
``[tool.faas-bridge.package]``) bring a file in whatever else says; ``--exclude`` globs
(and ``exclude``) leave it out; then the default exclusions (version control, virtualenvs,
caches, secrets (a ``.pem`` of certificates only, such as a CA bundle, is none), the
top-level ``tests/``, ``test/`` and ``conftest.py``), each named in a warning; then the
project's ``.gitignore`` files, every level, negations included (read with ``pathspec``);
finally earlier outputs of ``faas-bridge package``. Globs use ``.gitignore`` syntax.
Symlinks are followed when they point inside the project; one pointing outside (without
``follow_symlinks``), a broken one and any special file (FIFO, device, socket) stop the
build with an error naming it.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import MissingExtraError, ProjectError

__all__ = [
    "DEFAULT_EXCLUDES",
    "MARKER",
    "ZIP_COMMENT",
    "Excluded",
    "Selection",
    "SourceFile",
    "read_settings",
    "select_files",
]

# A folder `package` writes carries this file; it removes or replaces only such folders.
MARKER = ".faas-bridge-package"
_PEM_LIMIT = 4 * 1024 * 1024  # bytes of a .pem read to tell a CA bundle from a key
# ...and a zip it writes carries this comment; it overwrites only such zips.
ZIP_COMMENT = b"written by faas-bridge package"

# (why, .gitignore patterns): left out by default, each with a warning naming it.
DEFAULT_EXCLUDES: tuple[tuple[str, tuple[str, ...]], ...] = (
    # no trailing slash: a worktree or submodule has a .git file naming the user's folders
    ("version control", (".git", ".hg", ".svn", ".bzr", ".gitattributes", ".gitmodules")),
    ("virtualenv", (".venv/", ".tox/", ".nox/", "__pypackages__/")),
    (
        "cache",
        (
            "__pycache__/",
            "*.py[cod]",
            ".pytest_cache/",
            ".mypy_cache/",
            ".ruff_cache/",
            ".hypothesis/",
            ".coverage",
            ".DS_Store",
            "*.egg-info/",
            ".serverless/",
            ".s/",
        ),
    ),
    (
        "secret",
        (
            ".env*",
            "*.env",
            "*.pem",
            "*.key",
            "*.p12",
            "*.pfx",
            "id_rsa*",
            "id_dsa*",
            "id_ecdsa*",
            "id_ed25519*",
            "secrets.json",
            "credentials.json",
            ".ssh/",
            ".aws/",
            ".azure/",
            ".gnupg/",
            ".aliyun/",
            ".tccli/",
            ".docker/config.json",
            ".kube/config",
            ".npmrc",
            ".netrc",
            ".pypirc",
            ".git-credentials",
        ),
    ),
    ("tests (top level)", ("/tests/", "/test/", "/conftest.py")),
)


@dataclass(frozen=True)
class SourceFile:
    """One file of the project that goes in: its name in the zip and where it is."""

    arcname: str
    source: Path
    executable: bool


@dataclass(frozen=True)
class Excluded:
    """A file or folder left out (``name`` ends with ``/`` for a folder) and why."""

    name: str
    reason: str

    @property
    def warned(self) -> bool:
        """Whether a default rule left it out (the user is told), not the user's own."""
        return self.reason in {why for why, _ in DEFAULT_EXCLUDES}


@dataclass
class Selection:
    """What :func:`select_files` found."""

    files: list[SourceFile] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)


def _spec(patterns: Iterable[str]) -> Any:
    try:
        from pathspec import GitIgnoreSpec
    except ImportError:
        raise MissingExtraError(
            "faas-bridge package reads .gitignore with pathspec, which is not installed:"
            " pip install 'faas-bridge[package]'"
        ) from None

    return GitIgnoreSpec.from_lines(list(patterns))


def read_settings(project: Path) -> tuple[list[str], list[str]]:
    """``include`` and ``exclude`` from ``[tool.faas-bridge.package]`` in pyproject.toml."""
    path = project / "pyproject.toml"
    if not path.is_file():
        return [], []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"cannot read {path}: {exc}") from exc
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python < 3.11
        try:
            import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError:
            if "faas-bridge" not in text:
                return [], []
            raise MissingExtraError(
                f"reading [tool.faas-bridge.package] in {path} needs Python 3.11+ or tomli:"
                " pip install 'faas-bridge[package]'"
            ) from None
    try:
        data = tomllib.loads(text)
    except ValueError as exc:
        raise ProjectError(f"cannot read {path}: {exc}") from exc
    table = data.get("tool", {}).get("faas-bridge", {}).get("package", {})
    lists = []
    for key in ("include", "exclude"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProjectError(f"{path}: [tool.faas-bridge.package] {key} must be a list of globs")
        lists.append(value)
    return lists[0], lists[1]


class _Walker:
    """One walk over a project folder, applying the rules in the module's docstring."""

    def __init__(
        self,
        root: Path,
        includes: Sequence[str],
        excludes: Sequence[str],
        follow_symlinks: bool,
        skip: Iterable[Path],
    ) -> None:
        self.root = root
        self.include = _spec(includes) if includes else None
        self.exclude = _spec(excludes) if excludes else None
        self.defaults = [(why, _spec(patterns)) for why, patterns in DEFAULT_EXCLUDES]
        self.follow_symlinks = follow_symlinks
        self.skip = {p.resolve() for p in skip}
        self.selection = Selection()
        self.ancestors: list[Path] = []  # the real folders being walked, for symlink loops

    def walk(self, folder: Path, prefix: str, ignores: list[tuple[str, Any]], hidden: bool) -> None:
        """Visit ``folder`` (``prefix``: its name in the zip); ``hidden``: it is left out
        itself, so only files an include rule names come in."""
        real = folder.resolve()
        if real in self.ancestors:
            return  # a symlink loop inside the project
        self.ancestors.append(real)
        try:
            self.walk_entries(folder, prefix, ignores, hidden)
        finally:
            self.ancestors.pop()

    def walk_entries(
        self, folder: Path, prefix: str, ignores: list[tuple[str, Any]], hidden: bool
    ) -> None:
        gitignore = folder / ".gitignore"
        if gitignore.is_file():
            lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
            ignores = [*ignores, (prefix, _spec(lines))]
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            raise ProjectError(f"cannot read {folder}: {exc.strerror}") from exc
        for name in names:
            self.visit(folder / name, prefix + name, ignores, hidden)

    def visit(self, path: Path, rel: str, ignores: list[tuple[str, Any]], hidden: bool) -> None:
        is_link = path.is_symlink()
        is_dir = path.is_dir()  # follows a symlink
        key = rel + "/" if is_dir else rel
        reason = self.reason(path, key, ignores)
        if reason is None and is_link:
            reason = self.linked_secret(path)
        included = self.include is not None and self.include.match_file(key)
        if included:
            reason = None
        elif hidden:
            reason = reason or "inside an excluded folder"
        if reason is not None:
            if not hidden:
                self.selection.excluded.append(Excluded(key, reason))
            if is_dir and self.include is not None and not is_link:
                self.walk(path, key, ignores, hidden=True)
            return
        _check_name(path, rel)
        target = self.target(path, rel) if is_link else path
        mode = os.stat(target).st_mode
        if stat.S_ISDIR(mode):
            self.walk(path, key, ignores, hidden=False)
        elif stat.S_ISREG(mode):
            executable = bool(mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
            self.selection.files.append(SourceFile(rel, path, executable))
        else:
            raise ProjectError(
                f"{path} is {_kind(mode)}: a package holds regular files only;"
                f" leave it out with --exclude {rel}"
            )

    def target(self, path: Path, rel: str) -> Path:
        """Where a symlink leads, if it may be followed."""
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise ProjectError(
                f"{path} is a broken symlink: fix or remove it, or --exclude {rel}"
            ) from exc
        inside = target == self.root or self.root in target.parents
        if not inside and not self.follow_symlinks:
            raise ProjectError(
                f"{path} is a symlink to {target}, outside the project: --exclude {rel},"
                " or --follow-symlinks to package what it points to"
            )
        return target

    def linked_secret(self, path: Path) -> str | None:
        """``"secret"`` when the symlink ``path`` leads to what the secret rule leaves out
        (``settings.cfg -> .env``), judged by the target's own path."""
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return None  # broken: reported when it is followed
        inside = target == self.root or self.root in target.parents
        name = target.relative_to(self.root).as_posix() if inside else target.as_posix()
        key = name.lstrip("/") + ("/" if target.is_dir() else "")
        why, spec = next(rule for rule in self.defaults if rule[0] == "secret")
        if spec.match_file(key) and not _certificates_only(target, key):
            return why
        return None

    def reason(self, path: Path, key: str, ignores: list[tuple[str, Any]]) -> str | None:
        """Why ``key`` stays out, or None."""
        if self.exclude is not None and self.exclude.match_file(key):
            return "excluded by a rule of yours (--exclude or pyproject.toml)"
        for why, spec in self.defaults:
            if spec.match_file(key) and not (why == "secret" and _certificates_only(path, key)):
                return why
        if key.endswith("/") and (path / "pyvenv.cfg").is_file():
            return "virtualenv"
        if _ignored(key, ignores):
            return ".gitignore"
        if path.resolve() in self.skip or _is_output(path, key):
            return "an output of faas-bridge package"
        return None


_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.S)
_PUBLIC_PEM = {b"CERTIFICATE", b"TRUSTED CERTIFICATE", b"X509 CRL"}


def _certificates_only(path: Path, key: str) -> bool:
    """Whether ``key`` is a ``.pem`` file of certificates and comments only (a CA bundle
    such as certifi's ``cacert.pem``), which is no secret."""
    if not key.endswith(".pem"):
        return False
    try:
        with open(path, "rb") as source:
            data = source.read(_PEM_LIMIT + 1)
    except OSError:
        return False
    kinds = [match.group(1) for match in _PEM_BLOCK.finditer(data)]
    rest = _PEM_BLOCK.sub(b"", data).splitlines()
    return (
        len(data) <= _PEM_LIMIT
        and bool(kinds)
        and all(kind in _PUBLIC_PEM for kind in kinds)
        and all(not line.strip() or line.lstrip().startswith(b"#") for line in rest)
    )


def _ignored(key: str, ignores: list[tuple[str, Any]]) -> bool:
    """Whether the ``.gitignore`` files (outermost first, the last match wins) ignore ``key``."""
    ignored = False
    for prefix, spec in ignores:
        if not key.startswith(prefix):
            continue
        result = spec.check_file(key[len(prefix) :]).include
        if result is not None:
            ignored = result
    return ignored


def _is_output(path: Path, key: str) -> bool:
    if key.endswith("/"):
        return (path / MARKER).is_file()
    if not key.endswith(".zip") or not path.is_file():
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.comment == ZIP_COMMENT
    except (OSError, zipfile.BadZipFile):
        return False


def _check_name(path: Path, rel: str) -> None:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise ProjectError(
            f"{shown}: the file name is not UTF-8, which the clouds cannot unpack: rename it"
            " or leave it out with --exclude"
        ) from None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def select_files(
    project: str | os.PathLike[str],
    *,
    includes: Sequence[str] = (),
    excludes: Sequence[str] = (),
    follow_symlinks: bool = False,
    skip: Iterable[os.PathLike[str] | str] = (),
) -> Selection:
    """The project's files that go in (sorted by name in the zip) and what stays out.

    ``skip`` names paths to leave out (the zip being written). Raises
    :class:`~faas_bridge.package.errors.ProjectError` for a symlink pointing outside the
    project (unless ``follow_symlinks``), a broken symlink, a special file or a file name
    that is not UTF-8, naming it.
    """
    root = Path(project).resolve()
    walker = _Walker(root, includes, excludes, follow_symlinks, (Path(p) for p in skip))
    walker.walk(root, "", [], hidden=False)
    selection = walker.selection
    selection.files.sort(key=lambda f: f.arcname)
    return selection

"""Build the deployable zip of a project: ``faas-bridge package`` without the command line.

::

    from faas_bridge.package import build_package

    result = build_package("examples/flask_app", platform="tencent", python="3.10")
    print(result.path, result.zipped_size)

The zip holds, at its root: the project's source (caches, tests, VCS folders, virtualenvs
and build leftovers left out); its requirements installed by pip for the target runtime
(Linux x86_64, CPython ``python``; wheels only, except pure-Python sdists, which are built
locally); faas_bridge itself, copied from this installation; an ``index.py`` exposing
``main_handler`` (Tencent SCF), ``main`` (CloudBase) and ``handler`` (Alibaba FC), unless
the project has one; and in web mode the start file (``scf_bootstrap`` / ``bootstrap``)
plus the ``serve`` extra's servers. Entries are sorted, dated 1980-01-01 and mode 0644
(0755 for executables), so the same inputs give the same bytes.

Cloud facts (handler names, runtimes, code-size limits) come from ``clouds/<cloud>.py``.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .clouds import CLOUDS, PYTHON_VERSIONS, event_runtime, get_cloud, resolve_cloud_name
from .errors import BridgeError

__all__ = [
    "MODES",
    "PLATFORMS",
    "PYTHON_VERSIONS",
    "PackageError",
    "PackageFile",
    "PackageResult",
    "PipMissingError",
    "ProjectError",
    "RequirementsError",
    "build_package",
    "collect_source",
    "read_requirements",
    "write_zip",
]

PLATFORMS: tuple[str, ...] = tuple(CLOUDS)
MODES: tuple[str, ...] = ("event", "web")

# Oldest glibc first is not required by pip; newest-compatible set for glibc 2.17 (SCF's
# CentOS 7 base), which the FC runtimes (Debian 9-11) also satisfy.
MANYLINUX_TAGS: tuple[str, ...] = (
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux_2_12_x86_64",
    "manylinux2010_x86_64",
    "manylinux_2_5_x86_64",
    "manylinux1_x86_64",
)

MB = 1024 * 1024
FIXED_DATE = (1980, 1, 1, 0, 0, 0)

EXCLUDED_DIRS = frozenset(
    {
        "__pycache__",
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".idea",
        ".vscode",
        ".serverless",
        ".s",
        "node_modules",
        "build",
        "dist",
        "htmlcov",
        "tests",
        "test",
    }
)
EXCLUDED_FILES = frozenset({".DS_Store", ".coverage", "conftest.py", "Thumbs.db"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".egg-info")
SELF_NAMES = frozenset({"faas-bridge"})


class PackageError(BridgeError):
    """Building a package failed; the message says what to fix."""


class ProjectError(PackageError):
    """The project folder or its entry point cannot be packaged."""


class RequirementsError(PackageError):
    """The requirements are missing, unreadable, or pip cannot install them for the target."""


class PipMissingError(PackageError):
    """This Python has no pip to install the requirements with."""


@dataclass
class PackageResult:
    """What :func:`build_package` wrote."""

    path: Path
    platform: str
    python: str
    mode: str
    files: int
    zipped_size: int
    unzipped_size: int
    generated_index: bool
    requirements: list[str]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PackageFile:
    """One file of the zip: its name in the zip, where its bytes come from, and whether
    it is executable (mode 0755 rather than 0644)."""

    arcname: str
    source: Path
    executable: bool


def build_package(
    project_dir: str | os.PathLike[str],
    *,
    platform: str,
    python: str = "3.10",
    mode: str = "event",
    entry: str | None = None,
    output: str | os.PathLike[str] | None = None,
) -> PackageResult:
    """Build the zip of ``project_dir`` for ``platform`` and return what was written.

    ``entry`` (``module:app``) names the WSGI/ASGI app when the project has no
    ``index.py`` (one is generated). ``output`` defaults to ``dist/<project>-<platform>.zip``
    under the current directory. Raises :class:`ProjectError`, :class:`RequirementsError` or
    :class:`PipMissingError`, whose messages are one line.
    """
    platform = resolve_cloud_name(platform)
    _check_choice("python", python, PYTHON_VERSIONS)
    _check_choice("mode", mode, MODES)
    project = _project_folder(project_dir)
    warnings: list[str] = []
    if mode == "event":
        event_runtime(platform, python)  # ValueError where the cloud has no such runtime
    has_index = (project / "index.py").is_file()
    if entry is not None:
        _check_entry(project, entry)
        if has_index and mode == "event":
            warnings.append(f"{project}/index.py is packaged as it is: --entry is not used")
    elif not has_index:
        raise ProjectError(
            f"{project} has no index.py: pass --entry module:app (for example app:app)"
        )
    elif mode == "event":
        warnings.extend(_index_warnings(project / "index.py", platform))

    requirements = read_requirements(project)
    if mode == "web":
        requirements = requirements + [r for r in _serve_requirements() if r not in requirements]

    out_path = (
        Path(output) if output is not None else Path("dist") / f"{project.name}-{platform}.zip"
    )
    out_path = out_path.resolve()
    with tempfile.TemporaryDirectory(prefix="faas-bridge-package-") as temp:
        work = Path(temp)
        site = work / "site"
        site.mkdir()
        if any(not argument.startswith("-") for argument in requirements):
            _pip_install(requirements, site, python, cwd=project, work=work)
        _tidy_site(site)
        generated = work / "generated"
        generated.mkdir()
        if not has_index:
            assert entry is not None
            (generated / "index.py").write_text(_index_source(entry), encoding="utf-8")
        if mode == "web":
            from .bootstrap import write_bootstrap

            target = entry if entry is not None else "index:main_handler"
            write_bootstrap(target, platform, python, generated)

        entries, shadowed = _gather(site, project, generated, out_path)
        if shadowed:
            warnings.append(
                "project files replace installed ones: " + ", ".join(sorted(shadowed)[:5])
            )
        unzipped = write_zip(out_path, entries)

    zipped = out_path.stat().st_size
    warnings.extend(get_cloud(platform).size_warnings(zipped, unzipped))
    return PackageResult(
        path=out_path,
        platform=platform,
        python=python,
        mode=mode,
        files=len(entries),
        zipped_size=zipped,
        unzipped_size=unzipped,
        generated_index=not has_index,
        requirements=requirements,
        warnings=warnings,
    )


def _gather(
    site: Path, project: Path, generated: Path, out_path: Path
) -> tuple[list[PackageFile], list[str]]:
    """The zip's files, later layers replacing earlier ones: installed requirements, this
    faas_bridge, the project's source (never its own ``faas_bridge/``), generated files.
    Also returns the installed files the project's source replaced."""
    entries = {item.arcname: item for item in _tree_entries(site)}
    entries.update(
        (item.arcname, item) for item in _tree_entries(_faas_bridge_root(), prefix="faas_bridge/")
    )
    shadowed = []
    for item in collect_source(project, exclude=(out_path,)):
        if item.arcname.startswith("faas_bridge/"):
            continue  # the installed faas_bridge is the one that ships
        if item.arcname in entries:
            shadowed.append(item.arcname)
        entries[item.arcname] = item
    entries.update((item.arcname, item) for item in _tree_entries(generated))
    return list(entries.values()), shadowed


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")


def _project_folder(project_dir: str | os.PathLike[str]) -> Path:
    project = Path(project_dir)
    if not project.exists():
        raise ProjectError(f"no such project folder: {project}")
    if not project.is_dir():
        raise ProjectError(f"not a folder: {project} (give the folder holding the app)")
    project = project.resolve()
    if not any(project.glob("*.py")) and not any(project.glob("*/__init__.py")):
        raise ProjectError(f"{project} holds no Python module at its top level")
    return project


_ENTRY = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def _check_entry(project: Path, entry: str) -> None:
    if not _ENTRY.match(entry):
        raise ProjectError(
            f"--entry must look like module:app (for example app:app), not {entry!r}"
        )
    module = entry.partition(":")[0]
    parts = module.split(".")
    base = project.joinpath(*parts)
    if not (base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()):
        raise ProjectError(f"--entry {entry}: {project} has no module {module!r}")


def _index_warnings(index: Path, platform: str) -> list[str]:
    """Warn when the project's index.py does not define the name the platform calls."""
    wanted = get_cloud(platform).HANDLER_NAME
    try:
        tree = ast.parse(index.read_bytes(), str(index))
    except (SyntaxError, ValueError) as exc:
        return [f"{index} does not parse: {exc}"]
    names: set[str] = set()
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        names.update(t.id for t in targets if isinstance(t, ast.Name))
    if wanted in names:
        return []
    return [f"{index} defines no {wanted!r}, the name {platform} calls (index.{wanted})"]


def _index_source(entry: str) -> str:
    module, _, attr = entry.partition(":")
    callers = ", ".join(f"{c.TITLE} calls {c.HANDLER_NAME}" for c in CLOUDS.values())
    handler_names = list(dict.fromkeys(c.HANDLER_NAME for c in CLOUDS.values()))
    names = " = ".join(handler_names)
    hooks = {name: method for c in CLOUDS.values() for name, method in c.LIFECYCLE_HOOKS.items()}
    hook_lines = "".join(
        f"{name} = {handler_names[0]}.{method}\n" for name, method in hooks.items()
    )
    return (
        f'"""Entry point written by `faas-bridge package`: {callers}."""\n'
        "\n"
        f"import {module} as _entry_module\n"
        "\n"
        "from faas_bridge import make_handler\n"
        "\n"
        f"{names} = make_handler(_entry_module.{attr})\n"
        + ("# Instance lifecycle hooks (Alibaba FC's initializer and preStop)\n" if hooks else "")
        + hook_lines
    )


# --- requirements ----------------------------------------------------------------------------

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def read_requirements(project: str | os.PathLike[str]) -> list[str]:
    """The project's requirements as pip arguments, faas-bridge itself left out.

    From ``requirements.txt`` (comments and line continuations handled, ``-r`` files read,
    other option lines passed to pip), else from ``pyproject.toml``'s ``[project]
    dependencies``. Raises :class:`RequirementsError` when neither file exists.
    """
    folder = Path(project)
    path = folder / "requirements.txt"
    if path.is_file():
        return _requirements_file(path, seen=set())
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        return _pyproject_requirements(pyproject)
    raise RequirementsError(
        f"{folder} has no requirements.txt or pyproject.toml: list the app's dependencies"
        " (an empty requirements.txt if it has none)"
    )


def _requirements_file(path: Path, seen: set[Path]) -> list[str]:
    resolved = path.resolve()
    if resolved in seen:
        return []
    seen.add(resolved)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RequirementsError(f"cannot read {path}: {exc}") from exc
    arguments: list[str] = []
    for line in _logical_lines(text):
        if line.startswith(("-r ", "--requirement ", "-r", "--requirement=")):
            name = re.sub(r"^(-r|--requirement)[ =]?", "", line).strip()
            arguments.extend(_requirements_file(path.parent / name, seen))
        elif line.startswith(("-e", "--editable")):
            raise RequirementsError(
                f"{path}: editable requirement {line!r} cannot be installed into a package"
            )
        elif line.startswith("-"):
            arguments.append(_option_token(line))
        elif not _is_self(line):
            arguments.append(line)
    return arguments


def _option_token(line: str) -> str:
    """A requirements-file option line as one pip argument (``--index-url=URL``, ``-fDIR``),
    so every argument that does not start with ``-`` is a requirement."""
    option, _, value = line.partition(" ")
    value = value.strip()
    if not value or "=" in option:
        return option
    return f"{option}={value}" if option.startswith("--") else f"{option}{value}"


def _logical_lines(text: str) -> Iterator[str]:
    pending = ""
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            yield line
    if pending.strip():
        yield pending.strip()


def _pyproject_requirements(path: Path) -> list[str]:
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:  # Python < 3.11
        try:
            import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ModuleNotFoundError as exc:
            raise RequirementsError(
                f"reading {path} needs Python 3.11+ or tomli: pip install tomli,"
                " or list the dependencies in requirements.txt"
            ) from exc
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RequirementsError(f"cannot read {path}: {exc}") from exc
    dependencies = data.get("project", {}).get("dependencies")
    if dependencies is None:
        raise RequirementsError(
            f"{path} has no [project] dependencies: add them (dependencies = [] if none)"
            " or write a requirements.txt"
        )
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise RequirementsError(f"{path}: [project] dependencies must be a list of strings")
    return [d.strip() for d in dependencies if not _is_self(d)]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _is_self(requirement: str) -> bool:
    match = _NAME.match(requirement)
    return match is not None and _canonical(match.group(1)) in SELF_NAMES


def _serve_requirements() -> list[str]:
    """The ``serve`` extra's requirements, from this installation's metadata if present."""
    fallback = ["uvicorn>=0.24", "gunicorn>=23.0"]
    try:
        from importlib.metadata import PackageNotFoundError, requires

        declared = requires("faas-bridge") or []
    except (ImportError, PackageNotFoundError):
        return fallback
    serve = []
    for requirement in declared:
        spec, _, marker = requirement.partition(";")
        if re.search(r"extra\s*==\s*['\"]serve['\"]", marker):
            serve.append(spec.strip())
    return serve or fallback


# --- pip ---------------------------------------------------------------------------------

_NO_MATCH = re.compile(r"(?:satisfies the requirement|distribution found for) (\S+)")


def _pip_install(
    requirements: list[str], site: Path, python: str, *, cwd: Path, work: Path
) -> None:
    """Install ``requirements`` into ``site`` for CPython ``python`` on Linux x86_64.

    Wheels only; a requirement with no such wheel is built locally from its sdist and
    used if the result is pure Python (``py3-none-any``), otherwise the error names it.
    """
    wheels = work / "wheels"
    wheels.mkdir()
    built: set[str] = set()
    while True:
        command = [sys.executable, "-m", "pip", "install", *_target_options(site, python)]
        command += ["--find-links", str(wheels), *requirements]
        completed = _run_pip(command, cwd)
        if completed.returncode == 0:
            return
        missing = _missing_requirement(completed.stderr + completed.stdout)
        if missing is None or missing in built:
            raise RequirementsError(_pip_failure(completed.stderr + completed.stdout, python))
        built.add(missing)
        _build_pure_wheel(missing, wheels, python, cwd)


def _target_options(site: Path, python: str) -> list[str]:
    options = ["--target", str(site), "--upgrade", "--no-compile", "--disable-pip-version-check"]
    options += ["--no-input", "--quiet", "--only-binary=:all:", "--implementation", "cp"]
    options += ["--python-version", python]
    for tag in MANYLINUX_TAGS:
        options += ["--platform", tag]
    return options


def _run_pip(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PIP_REQUIRE_VIRTUALENV", None)
    try:
        completed = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise PipMissingError(f"cannot run pip: {exc}") from exc
    if completed.returncode != 0 and "No module named pip" in completed.stderr:
        raise PipMissingError(f"{sys.executable} has no pip: python -m ensurepip, then retry")
    return completed


def _missing_requirement(output: str) -> str | None:
    match = _NO_MATCH.search(output)
    return match.group(1) if match else None


def _build_pure_wheel(requirement: str, wheels: Path, python: str, cwd: Path) -> None:
    """Build ``requirement``'s sdist into a wheel; keep it only if it is pure Python."""
    scratch = wheels.parent / "sdist-build"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-binary", ":all:"]
    command += ["--use-pep517"]  # an isolated build: older pips need the wheel package otherwise
    command += ["--no-input", "--quiet", "--disable-pip-version-check", "-w", str(scratch)]
    completed = _run_pip([*command, requirement], cwd)
    if completed.returncode != 0:
        raise RequirementsError(_pip_failure(completed.stderr + completed.stdout, python))
    for wheel in sorted(scratch.glob("*.whl")):
        if not wheel.name.endswith("-none-any.whl") or "-py2-" in wheel.name:
            raise RequirementsError(
                f"{requirement} has no wheel for CPython {python} on manylinux x86_64 and its"
                f" source builds a binary wheel ({wheel.name}): build it on Linux x86_64 with"
                f" Python {python} (for example in the platform's image) and list the wheel"
            )
        shutil.move(str(wheel), str(wheels / wheel.name))


def _pip_failure(output: str, python: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")] or lines[-1:] or ["no output"]
    reason = re.sub(r"\s*\(from versions:[^)]*\)", "", errors[0].removeprefix("ERROR:")).strip()
    return f"pip cannot install the requirements for CPython {python} on manylinux x86_64: {reason}"


def _tidy_site(site: Path) -> None:
    """Drop what pip --target leaves that cannot run on the platform: console scripts
    with this machine's interpreter in their shebang, and byte-code caches."""
    shutil.rmtree(site / "bin", ignore_errors=True)
    for cache in sorted(site.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)


# --- files and the zip ---------------------------------------------------------------------


def _faas_bridge_root() -> Path:
    return Path(__file__).resolve().parent


def collect_source(
    project: str | os.PathLike[str], *, exclude: Iterable[os.PathLike[str] | str] = ()
) -> list[PackageFile]:
    """The project's files that belong in the package, sorted by path.

    Leaves out caches, VCS folders, virtualenvs (any folder with ``pyvenv.cfg``), tests
    (``tests/``, ``test_*.py``, ``*_test.py``, ``conftest.py``), ``build``/``dist``,
    ``*.egg-info`` and the paths in ``exclude`` (such as the zip being written).
    """
    root = Path(project).resolve()
    skip = {Path(p).resolve() for p in exclude}
    entries: list[PackageFile] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in EXCLUDED_DIRS
            and not d.endswith(EXCLUDED_SUFFIXES)
            and not (here / d / "pyvenv.cfg").exists()
            and (here / d).resolve() not in skip
        )
        for name in sorted(files):
            path = here / name
            if _excluded_file(name) or path.resolve() in skip:
                continue
            arcname = path.relative_to(root).as_posix()
            entries.append(PackageFile(arcname, path, _is_executable(path)))
    return sorted(entries, key=lambda e: e.arcname)


def _excluded_file(name: str) -> bool:
    return (
        name in EXCLUDED_FILES
        or name.endswith(EXCLUDED_SUFFIXES)
        or (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
    )


def _tree_entries(root: Path, prefix: str = "") -> list[PackageFile]:
    entries = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            path = Path(folder) / name
            if name.endswith((".pyc", ".pyo")):
                continue
            arcname = prefix + path.relative_to(root).as_posix()
            entries.append(PackageFile(arcname, path, _is_executable(path)))
    return entries


def _is_executable(path: Path) -> bool:
    return bool(path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))


def write_zip(path: str | os.PathLike[str], entries: Iterable[PackageFile]) -> int:
    """Write ``entries`` to the zip at ``path`` reproducibly; return the unzipped size.

    Sorted names, a fixed date (1980-01-01), Unix modes 0644 or 0755, deflate level 9.
    The zip is written beside ``path`` and moved into place, so a failure leaves no
    half-written file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    total = 0
    fd, temp_name = tempfile.mkstemp(prefix=".faas-bridge-", suffix=".zip", dir=target.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(temp_name, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for item in sorted(entries, key=lambda e: e.arcname):
                info = zipfile.ZipInfo(item.arcname, date_time=FIXED_DATE)
                info.create_system = 3  # Unix, so unzip and the platforms honour the modes
                mode = 0o755 if item.executable else 0o644
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                data = item.source.read_bytes()
                total += len(data)
                archive.writestr(info, data, compresslevel=9)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_name, 0o666 & ~umask)  # mkstemp's 0600 would surprise the deploy tools
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return total

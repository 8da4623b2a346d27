"""Build the deployable zip of a project: ``faas-bridge package`` without the command line.

::

    from faas_bridge.package import build_package

    result = build_package("examples/flask_app", platform="tencent", python="3.10")
    print(result.path, result.zipped_size)

The zip holds, at its root: the project's tracked source (see :mod:`.files` for what stays
out); its requirements installed for the target runtime by uv (see :mod:`.deps`: CPython
``python``, Linux x86_64, the manylinux level of the cloud's runtime, markers evaluated for
the target); faas_bridge itself, copied from this installation; an ``index.py`` exposing
``main_handler`` (Tencent SCF), ``main`` (CloudBase) and ``handler`` (Alibaba FC), unless
the project has one; in web mode the start file plus the ``serve`` extra's servers; and
byte-code compiled by an interpreter of the target version when one is found (see
:mod:`.check`), which then also imports the entry and answers one sample event. Entries
are sorted, dated 1980-01-01 and mode 0644 (0755 for executables and the start file), so
the same inputs give the same bytes. Cloud facts come from ``clouds/<cloud>.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..clouds import CLOUDS, PYTHON_VERSIONS, event_runtime, get_cloud, resolve_cloud_name
from ..clouds import web_runtime as _web_runtime
from . import check, deps, files
from . import output as writing
from .errors import (
    MissingExtraError,
    OutputError,
    PackageError,
    PipMissingError,
    ProjectError,
    RequirementsError,
    ResolverMissingError,
)
from .files import Excluded, SourceFile, select_files

__all__ = [
    "MODES",
    "PLATFORMS",
    "PYTHON_VERSIONS",
    "Excluded",
    "MissingExtraError",
    "OutputError",
    "PackageError",
    "PackageResult",
    "PipMissingError",
    "ProjectError",
    "RequirementsError",
    "ResolverMissingError",
    "SourceFile",
    "build_package",
    "default_output",
    "select_files",
]

PLATFORMS: tuple[str, ...] = tuple(CLOUDS)
MODES: tuple[str, ...] = ("event", "web")

Report = Callable[[str], None]


@dataclass
class PackageResult:
    """What :func:`build_package` wrote (or, with ``dry_run``, would write)."""

    path: Path
    platform: str
    python: str
    mode: str
    files: int
    zipped_size: int
    unzipped_size: int
    generated_index: bool
    requirements: str  # where the requirements came from
    resolver: str  # "uv", "pip", or "" (dry run)
    interpreter: str | None  # the target-version interpreter used, if any
    bytecode: bool
    check: str  # what the check found
    names: list[str] = field(default_factory=list)  # the zip's entries
    largest: list[tuple[str, int]] = field(default_factory=list)  # top-level name, bytes
    excluded: list[Excluded] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False


def default_output(project: Path, platform: str, mode: str) -> Path:
    """``dist/<project>-<cloud>-<mode>.zip`` under the current folder."""
    return Path.cwd() / "dist" / f"{project.name}-{platform}-{mode}.zip"


def build_package(
    project_dir: str | os.PathLike[str],
    *,
    platform: str,
    python: str = "3.10",
    mode: str = "event",
    entry: str | None = None,
    output_path: str | os.PathLike[str] | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    follow_symlinks: bool = False,
    python_exe: str | None = None,
    configs: bool = False,
    run_check: bool = True,
    dry_run: bool = False,
    verbose: bool = False,
    progress: Report | None = None,
    output: str | os.PathLike[str] | None = None,
) -> PackageResult:
    """Build the zip of ``project_dir`` for the cloud ``platform`` and return what was written.

    ``entry`` (``module:app``) names the WSGI/ASGI app when the project has no ``index.py``
    (one is generated) and is what web mode serves. ``output_path`` (or ``output``) defaults
    to :func:`default_output`. ``configs`` checks up front that the deploy folder beside the
    zip may be written. ``run_check=False`` reads the entry's source instead of importing it
    (for an app that needs the cloud's environment at import). Raises
    :class:`ProjectError`, :class:`RequirementsError`, :class:`ResolverMissingError`,
    :class:`OutputError` or ``ValueError`` (an unsupported runtime or choice), whose
    messages are one line.
    """
    report = progress or (lambda line: None)
    platform = resolve_cloud_name(platform)
    cloud = get_cloud(platform)
    _check_choice("python", python, PYTHON_VERSIONS)
    _check_choice("mode", mode, MODES)
    project = _project_folder(project_dir)
    warnings = _runtime_warnings(platform, python, mode)
    has_index = (project / "index.py").is_file()
    target = _entry_target(project, entry, has_index, mode)
    if entry is not None and has_index and mode == "event":
        warnings.append(f"{project}/index.py is packaged as it is: --entry is not used")

    chosen = output_path if output_path is not None else output
    out = Path(chosen).resolve() if chosen is not None else default_output(project, platform, mode)
    writing.check_output(project, out, "zip")
    writing.check_zip_target(out)
    skip = [out]
    if configs:
        folder = out.with_suffix("")
        writing.check_output(project, folder, "deploy folder")
        writing.check_folder_target(folder)
        skip.append(folder)
    if out.is_relative_to(project):
        skip.append(project / "dist")

    settings_include, settings_exclude = files.read_settings(project)
    selection = select_files(
        project,
        includes=[*settings_include, *include],
        excludes=[*settings_exclude, *exclude],
        follow_symlinks=follow_symlinks,
        skip=skip,
    )
    excluded = list(selection.excluded)
    sources = [f for f in selection.files if not f.arcname.startswith("faas_bridge/")]
    if len(sources) < len(selection.files):
        excluded.append(Excluded("faas_bridge/", "the installed faas_bridge ships instead"))
    warnings.extend(
        f"left out {item.name} ({item.reason}; --include {item.name} to keep it)"
        for item in excluded
        if item.warned
    )
    report(f"packaging {project.name} for {cloud.TITLE}, Python {python}, {mode} mode")
    with tempfile.TemporaryDirectory(prefix="faas-bridge-package-") as temp:
        work = Path(temp)
        stage = work / "stage"
        stage.mkdir()
        deps.check_requires_python(project, python)
        requirements, origin = deps.requirement_files(project, work)
        generated = _generate(work / "generated", entry, has_index, mode, platform, python)
        if dry_run:
            names = sorted(
                {f.arcname for f in sources}
                | {f.arcname for f in files_in(generated)}
                | {"faas_bridge/"}
            )
            return PackageResult(
                out, platform, python, mode, len(names), 0, 0, not has_index, origin, "",
                None, False, "not run (dry run)", names, [], excluded, warnings, dry_run=True,
            )  # fmt: skip
        interpreter = deps.find_interpreter(python, python_exe)
        site = work / "site"
        site.mkdir()
        resolver = _install(
            project, work, site, requirements, origin, platform, python, mode, interpreter,
            verbose, report, warnings,
        )  # fmt: skip
        executables = _stage(stage, site, sources, generated, cloud.START_FILE, mode)
        # listed before the check runs the app, which might write files beside its code
        entries = [(f.arcname, f.source, f.arcname in executables) for f in files_in(stage)]
        result_check, bytecode = _finish(
            stage, platform, python, mode, target, interpreter, run_check, report, warnings
        )
        known = {name for name, _, _ in entries}
        entries += [
            (f.arcname, f.source, False)
            for f in files_in(stage)
            if f.arcname.endswith(".pyc") and f.arcname not in known
        ]
        report(f"writing {out}")
        unzipped = writing.write_zip(out, entries)
        largest = _largest(entries)

    zipped = out.stat().st_size
    warnings.extend(cloud.size_warnings(zipped, unzipped))
    deploy_folder = out.with_suffix("")
    if not configs and cloud.DEPLOYS_FOLDER and (deploy_folder / files.MARKER).is_file():
        warnings.append(
            f"{deploy_folder} holds the unpacked package of an earlier build, which"
            f" {cloud.CONFIG_FILE}'s deploy uploads: build with --configs again before"
            " deploying from it"
        )
    return PackageResult(
        out, platform, python, mode, len(entries), zipped, unzipped, not has_index, origin,
        resolver, interpreter, bytecode, result_check.note, sorted(e[0] for e in entries),
        largest, excluded, warnings,
    )  # fmt: skip


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


def _runtime_warnings(platform: str, python: str, mode: str) -> list[str]:
    """``ValueError`` for a runtime the cloud does not offer; a warning for one no source
    confirms."""
    cloud = get_cloud(platform)
    if mode == "event":
        runtime = event_runtime(platform, python)
        if not runtime.verified:
            return [
                f"{cloud.TITLE}'s runtime name {runtime.name!r} for Python {python} is"
                " unverified (no documentation lists it): check it in the console"
            ]
        return []
    web = _web_runtime(platform, python)
    if web.verified:
        return []
    return [
        f"{cloud.TITLE} web runtime for Python {python} is unverified: {cloud.UNVERIFIED_WEB}"
        f" (the start file runs {web.interpreter})"
    ]


_ENTRY = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def _entry_target(project: Path, entry: str | None, has_index: bool, mode: str) -> str:
    """The ``module:attr`` web mode serves; checks ``entry`` against the source."""
    if entry is not None:
        if not _ENTRY.match(entry):
            raise ProjectError(
                f"--entry must look like module:app (for example app:app), not {entry!r}"
            )
        problem = check.entry_problem(project, entry)
        if problem is not None:
            raise ProjectError(f"--entry {entry}: {problem}")
        return entry
    if not has_index:
        raise ProjectError(
            f"{project} has no index.py: pass --entry module:app (for example app:app)"
        )
    return "index:main_handler"


def _generate(
    folder: Path, entry: str | None, has_index: bool, mode: str, platform: str, python: str
) -> Path:
    """The files package writes: index.py (from ``entry``) and web mode's start file."""
    folder.mkdir()
    if not has_index:
        assert entry is not None
        (folder / "index.py").write_text(_index_source(entry), encoding="utf-8")
    if mode == "web":
        from ..bootstrap import write_bootstrap

        write_bootstrap(entry or "index:main_handler", platform, python, folder)
    return folder


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


def _install(
    project: Path,
    work: Path,
    site: Path,
    requirements: list[str],
    origin: str,
    platform: str,
    python: str,
    mode: str,
    interpreter: str | None,
    verbose: bool,
    report: Report,
    warnings: list[str],
) -> str:
    """Install the requirements (and web mode's servers) into ``site``; the resolver's name."""
    resolver = deps.find_resolver(python, interpreter)
    if resolver.note:
        warnings.append(resolver.note)
    if resolver.name == "uv":
        index_note = deps.pip_index_note(requirements)
        if index_note:
            warnings.append(index_note)
    level = get_cloud(platform).manylinux(python, mode)
    report(
        f"installing {origin} for CPython {python}, manylinux_{level} x86_64,"
        f" with {resolver.name} ..."
    )
    deps.install(
        resolver, requirements, site, python=python, level=level, cwd=project, work=work,
        verbose=verbose,
    )  # fmt: skip
    if mode == "web":
        # held to what is installed: a pin of the project's is never replaced (a conflict
        # is an error), and the project's hash checking does not reach the servers
        held = ["-c", str(deps.installed_constraints(site, work))]
        serve = deps.serve_requirements()
        report("installing the servers of web mode, held to those versions ...")
        deps.install(
            resolver, [*held, *serve], site, python=python, level=level, cwd=project,
            work=work, verbose=verbose, what=f"the servers ({', '.join(serve)}) with {origin}",
        )  # fmt: skip
    installed = sorted(p.name.split("-")[0] for p in site.glob("*.dist-info"))
    if installed:
        report(f"installed {len(installed)} distributions: {', '.join(installed)}")
    return resolver.name


def files_in(folder: Path) -> list[SourceFile]:
    """Every file under ``folder``, as zip entries."""
    found = []
    for base, _, names in os.walk(folder):
        for name in names:
            path = Path(base) / name
            arcname = path.relative_to(folder).as_posix()
            found.append(SourceFile(arcname, path, os.access(path, os.X_OK)))
    return sorted(found, key=lambda f: f.arcname)


def _faas_bridge_root() -> Path:
    return Path(__file__).resolve().parent.parent


def _stage(
    stage: Path,
    site: Path,
    sources: list[SourceFile],
    generated: Path,
    start_file: str,
    mode: str,
) -> set[str]:
    """Lay the zip's tree out in ``stage``, later layers replacing earlier ones: installed
    requirements, this faas_bridge, the project's files, generated files. Returns the
    names that are executable."""
    layers: list[list[SourceFile]] = [files_in(site)]
    bridge = _faas_bridge_root()
    layers.append(
        [
            SourceFile("faas_bridge/" + f.arcname, f.source, False)
            for f in files_in(bridge)
            if "__pycache__" not in f.arcname and not f.arcname.endswith((".pyc", ".pyo"))
        ]
    )
    layers.append(sources)
    layers.append(files_in(generated))
    executables: set[str] = set()
    for layer in layers:
        for item in layer:
            target = stage / item.arcname
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                target.unlink()
            shutil.copyfile(item.source, target)
            executables.discard(item.arcname)
            if item.executable or (mode == "web" and item.arcname == start_file):
                executables.add(item.arcname)
    return executables


def _finish(
    stage: Path,
    platform: str,
    python: str,
    mode: str,
    target: str,
    interpreter: str | None,
    run_check: bool,
    report: Report,
    warnings: list[str],
) -> tuple[check.CheckResult, bool]:
    """Byte-code and the check, with an interpreter of the target version; the static check
    and a warning without one."""
    cloud = get_cloud(platform)
    if interpreter is None:
        warnings.append(
            f"no Python {python} interpreter found (pyenv, python{python} on PATH,"
            " --python-exe): the zip ships sources only, so every cold start compiles them,"
            " and the entry was checked by reading its source, not run"
        )
        return check.static_check(
            stage, handler=cloud.HANDLER_NAME, target=target, mode=mode
        ), False
    if not run_check:
        result = check.static_check(stage, handler=cloud.HANDLER_NAME, target=target, mode=mode)
        report(f"compiling byte-code for Python {python} ...")
        problem = check.compile_bytecode(interpreter, stage, cloud.CODE_DIR)
        if problem:
            warnings.append(problem)
        return result, True
    report(f"checking the package under {interpreter} ...")
    formats = [name for name, fmt in _formats().items() if fmt == platform]
    result = check.run_check(
        interpreter,
        stage,
        event_format=formats[0],
        handler=cloud.HANDLER_NAME,
        target=target,
        mode=mode,
    )
    report(f"check: {result.note}")
    if result.status is None or result.status >= 500:
        warnings.append(f"the run check found a problem: {result.note}")
    report(f"compiling byte-code for Python {python} ...")
    problem = check.compile_bytecode(interpreter, stage, cloud.CODE_DIR)
    if problem:
        warnings.append(problem)
    return result, True


def _formats() -> dict[str, str]:
    from ..platforms import PLATFORMS as FORMATS

    return {name: module.CLOUD for name, module in FORMATS.items()}


def _largest(entries: list[tuple[str, Path, bool]], count: int = 5) -> list[tuple[str, int]]:
    """The biggest top-level entries (a package folder counts as one), largest first."""
    sizes: dict[str, int] = {}
    for name, source, _ in entries:
        head, slash, _ = name.partition("/")
        key = head + slash
        sizes[key] = sizes.get(key, 0) + source.stat().st_size
    return sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:count]

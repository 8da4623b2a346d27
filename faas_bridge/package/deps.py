"""Install a project's requirements for the target runtime, and find interpreters of a
Python version.

The resolver is uv (the ``package`` extra): ``uv pip install --target DIR --python-version
X.Y --python-platform x86_64-manylinux_2_N --only-binary :all:`` picks wheels for CPython
X.Y on Linux x86_64 with the runtime's glibc and evaluates environment markers for that
target (``python_version``, ``sys_platform``...). Without uv, pip is the fallback, and only
when it can run under an interpreter of the target version: pip evaluates markers for the
interpreter it runs under whatever ``--python-version`` says (pypa/pip#11664), so pip on
another version would silently leave out (or add) version-dependent requirements.

Requirements come from ``requirements.txt``, handed to the resolver as ``-r`` (hashes,
includes, options, markers: whatever pip accepts), else from a uv project's ``uv.lock``
(``uv export --frozen``: the versions it pins, with hashes), else from ``pyproject.toml``'s
``[project] dependencies``. A ``faas-bridge`` requirement is met by an empty stand-in wheel
(faas_bridge itself is copied from this installation).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RequirementsError, ResolverMissingError

__all__ = [
    "Resolver",
    "check_requires_python",
    "find_interpreter",
    "find_resolver",
    "install",
    "installed_constraints",
    "pip_index_note",
    "requirement_files",
    "serve_requirements",
]

Report = Callable[[str], None]


def requirement_files(project: Path, work: Path) -> tuple[list[str], str]:
    """The resolver arguments naming the project's requirements, and where they come from."""
    path = project / "requirements.txt"
    if path.is_file():
        return ["-r", str(path)], "requirements.txt"
    pyproject = project / "pyproject.toml"
    if pyproject.is_file() and (project / "uv.lock").is_file():
        exported = work / "uv-lock-requirements.txt"
        _export_lock(project, exported)
        return ["-r", str(exported)], "uv.lock (uv export --frozen)"
    if pyproject.is_file():
        dependencies = _pyproject_dependencies(pyproject)
        listed = work / "pyproject-requirements.txt"
        listed.write_text("".join(d + "\n" for d in dependencies), encoding="utf-8")
        return ["-r", str(listed)], "pyproject.toml [project] dependencies"
    raise RequirementsError(
        f"{project} has no requirements.txt or pyproject.toml: list the app's dependencies"
        " (an empty requirements.txt if it has none)"
    )


def _export_lock(project: Path, exported: Path) -> None:
    """The versions ``uv.lock`` pins, as a requirements file (hashes and markers kept; the
    project itself and faas-bridge, copied from this installation, left out)."""
    uv = _uv()
    if uv is None:
        raise ResolverMissingError(
            f"{project} has a uv.lock: install uv (pip install 'faas-bridge[package]') to"
            " package the versions it pins"
        )
    command = [uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--quiet"]
    command += ["--no-emit-package", "faas-bridge", "--output-file", str(exported)]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    completed = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        reason = _reason(completed.stderr + completed.stdout)
        raise RequirementsError(f"uv cannot export {project / 'uv.lock'}: {reason}")


def _load_toml(path: Path) -> dict[str, Any]:
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
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RequirementsError(f"cannot read {path}: {exc}") from exc
    return data


def check_requires_python(project: Path, python: str) -> None:
    """:class:`RequirementsError` when ``pyproject.toml``'s ``requires-python`` excludes
    every CPython ``python`` release (a uv.lock then holds no wheels for it either)."""
    path = project / "pyproject.toml"
    if not path.is_file():
        return
    wanted = _load_toml(path).get("project", {}).get("requires-python")
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
    except ImportError:  # the package extra brings packaging; without it, no check
        return
    if not isinstance(wanted, str):
        return
    try:
        specifier = SpecifierSet(wanted)
    except InvalidSpecifier as exc:
        raise RequirementsError(f"{path}: requires-python {wanted!r} is not valid") from exc
    if not any(specifier.contains(f"{python}.{patch}") for patch in range(50)):
        raise RequirementsError(
            f'{path} says requires-python = "{wanted}", which excludes Python {python}:'
            " choose another --python, or widen it (then uv lock again)"
        )


def _pyproject_dependencies(path: Path) -> list[str]:
    data = _load_toml(path)
    dependencies = data.get("project", {}).get("dependencies")
    if dependencies is None:
        raise RequirementsError(
            f"{path} has no [project] dependencies: add them (dependencies = [] if none)"
            " or write a requirements.txt"
        )
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise RequirementsError(f"{path}: [project] dependencies must be a list of strings")
    return [d.strip() for d in dependencies]


def serve_requirements() -> list[str]:
    """The ``serve`` extra's requirements, from this installation's metadata if present."""
    fallback = ["uvicorn>=0.29", "a2wsgi>=1.10"]
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


def installed_constraints(site: Path, work: Path) -> Path:
    """A constraints file pinning every distribution installed in ``site`` (``name==version``
    from the headers of each ``*.dist-info/METADATA``)."""
    pins = []
    for metadata in sorted(site.glob("*.dist-info/METADATA")):
        text = metadata.read_text(encoding="utf-8", errors="replace")
        headers = text.split("\n\n", 1)[0].splitlines()  # the description follows
        fields = dict(
            line.split(": ", 1) for line in headers if line.startswith(("Name: ", "Version: "))
        )
        if "Name" in fields and "Version" in fields:
            pins.append(f"{fields['Name']}=={fields['Version']}\n")
    path = work / "installed-constraints.txt"
    path.write_text("".join(pins), encoding="utf-8")
    return path


# --- interpreters ----------------------------------------------------------------------------


@functools.cache
def _version_of(executable: str) -> str | None:
    """``"3.10"`` for a CPython interpreter that runs, else None."""
    code = "import sys; print(sys.implementation.name, '%d.%d' % sys.version_info[:2])"
    try:
        completed = subprocess.run(
            [executable, "-I", "-c", code], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    words = completed.stdout.split()
    if completed.returncode != 0 or len(words) != 2 or words[0] != "cpython":
        return None
    return words[1]


def _candidates(python: str) -> list[str]:
    found = [sys.executable]
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    pattern = f"{python}*/bin/python{python}"
    versions = sorted(pyenv.glob(pattern), key=lambda p: _sort_key(p.parent.parent.name))
    found += [str(p) for p in reversed(versions)]
    on_path = shutil.which(f"python{python}")
    if on_path:
        found.append(on_path)
    return found


def _sort_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def find_interpreter(python: str, explicit: str | None = None) -> str | None:
    """A CPython ``python`` (``"3.10"``) interpreter: ``explicit`` (``--python-exe``, which
    must be that version), this one, pyenv's ``~/.pyenv/versions/3.10*/bin/python3.10``,
    or ``python3.10`` on PATH. None when there is none."""
    if explicit is not None:
        found = _version_of(explicit)
        if found != python:
            what = f"Python {found}" if found else "not a CPython interpreter that runs"
            raise ValueError(f"--python-exe {explicit} is {what}, not Python {python}")
        return explicit
    for candidate in _candidates(python):
        if _version_of(candidate) == python:
            return candidate
    return None


# --- resolving and installing ----------------------------------------------------------------


@dataclass(frozen=True)
class Resolver:
    """The tool that installs the requirements: ``uv`` or ``pip`` (under ``python``)."""

    name: str
    command: tuple[str, ...]
    note: str  # what it cannot guarantee, or ""


def _uv() -> str | None:
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found,unused-ignore]

        found: str = find_uv_bin()
        return found
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def find_resolver(python: str, interpreter: str | None) -> Resolver:
    """uv if installed, else pip under ``interpreter`` (of the target version)."""
    uv = _uv()
    if uv is not None:
        return Resolver("uv", (uv, "pip", "install"), "")
    if interpreter is None:
        raise ResolverMissingError(
            "uv is not installed (pip install 'faas-bridge[package]') and no Python"
            f" {python} interpreter was found to run pip under (--python-exe): pip evaluates"
            f" requirement markers for the Python it runs on, so it cannot resolve for {python}"
        )
    probe = subprocess.run(
        [interpreter, "-m", "pip", "--version"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        raise ResolverMissingError(
            f"uv is not installed (pip install 'faas-bridge[package]') and {interpreter}"
            " has no pip: install one of them"
        )
    note = ""
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        note = (
            "pip evaluates platform markers (sys_platform, platform_machine) for this"
            " machine, not Linux x86_64: install uv for an exact resolution"
        )
    return Resolver("pip", (interpreter, "-m", "pip", "install"), note)


_UV_INDEX_SETTINGS = ("UV_DEFAULT_INDEX", "UV_INDEX", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL")
_INDEX_LINE = re.compile(r"^\s*(-i\s|-?-?(extra[-_])?index[-_]url\b)", re.I | re.M)
_UV_INDEX_LINE = re.compile(r"^\s*(\[\[index\]\]|(extra-)?index-url\s*=)", re.M)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _config_files(tool: str, name: str) -> list[Path]:
    """Where ``tool`` (pip, uv) reads its ``name`` config file on Linux: the user's, then
    the system's."""
    user = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [user / tool / name, Path("/etc/xdg") / tool / name, Path("/etc") / tool / name]


def pip_index_note(requirements: list[str]) -> str:
    """A warning naming the pip index settings (``PIP_INDEX_URL``, ``pip.conf``) that uv
    ignores (https://docs.astral.sh/uv/pip/compatibility), when uv has none of its own and
    the requirements name no index; only names, never a URL (it may hold a token)."""
    listed = "".join(_read(Path(arg)) for arg in requirements if arg != "-r")
    if any(os.environ.get(name) for name in _UV_INDEX_SETTINGS) or _INDEX_LINE.search(listed):
        return ""
    if any(_UV_INDEX_LINE.search(_read(path)) for path in _config_files("uv", "uv.toml")):
        return ""
    found = [n for n in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL") if os.environ.get(n)]
    configs = [Path(os.environ["PIP_CONFIG_FILE"])] if os.environ.get("PIP_CONFIG_FILE") else []
    configs += _config_files("pip", "pip.conf")
    configs += [Path("/etc/pip.conf"), Path.home() / ".pip" / "pip.conf"]
    configs.append(Path(sys.prefix) / "pip.conf")
    found += [str(path) for path in configs if _INDEX_LINE.search(_read(path))]
    if not found:
        return ""
    return (
        f"uv does not read pip's index settings ({', '.join(dict.fromkeys(found))}): it uses"
        " PyPI unless UV_DEFAULT_INDEX (UV_INDEX for extra indexes), uv.toml or an"
        " --index-url line in requirements.txt names another"
    )


def _manylinux_tags(level: str) -> list[str]:
    newest = int(level.split("_")[1])
    tags = [f"manylinux_2_{minor}_x86_64" for minor in range(newest, 4, -1)]
    return [*tags, "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]


def _arguments(resolver: Resolver, site: Path, python: str, level: str, links: Path) -> list[str]:
    if resolver.name == "uv":
        return [
            "--target",
            str(site),
            "--python-version",
            python,
            "--python-platform",
            f"x86_64-manylinux_{level}",
            "--only-binary",
            ":all:",
            "--find-links",
            str(links),
            "--link-mode",
            "copy",
            "--no-python-downloads",
        ]
    options = ["--target", str(site), "--python-version", python, "--implementation", "cp"]
    options += ["--abi", "cp" + python.replace(".", ""), "--only-binary=:all:"]
    options += ["--find-links", str(links), "--no-compile", "--upgrade", "--no-input"]
    options += ["--disable-pip-version-check"]
    for tag in _manylinux_tags(level):
        options += ["--platform", tag]
    return options


def install(
    resolver: Resolver,
    requirements: list[str],
    site: Path,
    *,
    python: str,
    level: str,
    cwd: Path,
    work: Path,
    verbose: bool,
    what: str = "the requirements",
) -> None:
    """Install ``requirements`` (resolver arguments) into ``site`` for CPython ``python``
    on Linux x86_64 with glibc ``level`` (``"2_28"``); :class:`RequirementsError` naming
    the resolver's reason when it cannot."""
    links = work / "links"
    if not links.is_dir():
        links.mkdir()
        _stand_in_wheel(links)
    command = [*resolver.command, *_arguments(resolver, site, python, level, links)]
    command += ["--verbose"] if verbose else ["--quiet"]
    env = dict(os.environ, PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1", UV_NO_PROGRESS="1")
    env.pop("PIP_REQUIRE_VIRTUALENV", None)
    env.pop("VIRTUAL_ENV", None)
    try:
        completed = subprocess.run(
            [*command, *requirements],
            cwd=cwd,
            env=env,
            stdout=_stderr() if verbose else subprocess.PIPE,
            stderr=None if verbose else subprocess.PIPE,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise ResolverMissingError(f"cannot run {resolver.name}: {exc.strerror}") from exc
    if completed.returncode != 0:
        output = (completed.stderr or "") + (completed.stdout or "")
        raise RequirementsError(
            f"{resolver.name} cannot install {what} for CPython {python} on"
            f" manylinux_{level} x86_64: {_reason(output)}"
        )
    _tidy(site)


def _stderr() -> int | None:
    """This process's stderr for a child's output (stdout is the summary's)."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _reason(output: str) -> str:
    """The resolver's error as one line."""
    lines = [line.strip(" ×╰─▶│") for line in output.splitlines()]
    lines = [line for line in lines if line and not line.startswith(("hint:", "help:"))]
    start = next((i for i, line in enumerate(lines) if line.lower().startswith(("error", "×"))), 0)
    text = " ".join(lines[start:]) or "no output (run with -v)"
    text = re.sub(r"\s*\(from versions:[^)]*\)", "", re.sub(r"^(ERROR|error):\s*", "", text))
    return text[:400]


def _stand_in_wheel(folder: Path) -> None:
    """An empty ``faas-bridge`` wheel carrying this installation's requirements, so a
    ``faas-bridge`` (or ``faas-bridge[serve]``) requirement resolves."""
    from .. import __version__

    try:
        from importlib.metadata import requires

        declared = requires("faas-bridge") or []
    except Exception:  # not installed as a distribution
        declared = []
    extras = sorted(set(re.findall(r"extra\s*==\s*['\"]([\w-]+)['\"]", " ".join(declared))))
    info = f"faas_bridge-{__version__}.dist-info"
    metadata = "Metadata-Version: 2.1\nName: faas-bridge\nVersion: " + __version__ + "\n"
    metadata += "".join(f"Provides-Extra: {extra}\n" for extra in extras)
    metadata += "".join(f"Requires-Dist: {line}\n" for line in declared)
    wheel = "Wheel-Version: 1.0\nGenerator: faas-bridge\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    path = folder / f"faas_bridge-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{info}/METADATA", metadata)
        archive.writestr(f"{info}/WHEEL", wheel)
        archive.writestr(f"{info}/RECORD", f"{info}/METADATA,,\n{info}/WHEEL,,\n{info}/RECORD,,\n")


def _tidy(site: Path) -> None:
    """Drop what an install into a folder leaves that cannot run on the cloud or is not
    ours to ship: console scripts (this machine's interpreter in their shebang), byte-code
    of this machine's Python, and the stand-in faas-bridge's metadata."""
    shutil.rmtree(site / "bin", ignore_errors=True)
    (site / ".lock").unlink(missing_ok=True)  # uv's lock on the target folder
    for cache in sorted(site.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache, ignore_errors=True)
    for info in site.glob("faas_bridge-*.dist-info"):
        shutil.rmtree(info, ignore_errors=True)

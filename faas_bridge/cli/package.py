"""``faas-bridge package PROJECT_DIR --platform P``: the deployable zip, and deploy configs."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from . import (
    EXIT_BAD_EVENT,
    EXIT_BAD_TARGET,
    EXIT_MISSING_EXTRA,
    EXIT_USAGE,
    CliError,
    add_cloud_arguments,
)

DESCRIPTION = """\
Build the zip a cloud runs: the project's tracked files (.gitignore honoured; version
control, virtualenvs, caches, secrets and the top-level tests/ left out, each named in a
warning), its requirements (requirements.txt or pyproject.toml) installed by uv for the
target runtime (CPython --python, Linux x86_64, the runtime's manylinux level), faas_bridge
itself, an index.py exposing main_handler (Tencent SCF), main (CloudBase) and handler
(Alibaba FC) unless the project has one, in web mode the start file with the servers, and
byte-code compiled by a Python of the target version, which also imports the entry and
answers one sample event. The zip is reproducible. --configs also writes serverless.yml
(scf deploy), cloudbaserc.json (tcb fn deploy) or s.yaml (s deploy) into a deploy
folder beside it. package never overwrites or deletes a file or folder it did not write.

exit codes: 0 written; 2 bad usage, an unsupported runtime, or an output that would lose a
file it did not write or lies in the project; 3 the project, one of its files or --entry
cannot be used (the check included); 4 the requirements are missing, unreadable or cannot
be installed for the target; 5 neither uv nor a Python of the target version with pip, or
the package extra not installed (pip install 'faas-bridge[package]')."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "package",
        help="build the deployable zip (and --configs: the deploy configs)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("project", metavar="PROJECT_DIR", help="the folder holding the app")
    add_cloud_arguments(parser)
    parser.add_argument(
        "--mode",
        default="event",
        choices=("event", "web"),
        help="event: index.py handlers (default); web: a web function started by its start file",
    )
    parser.add_argument(
        "--entry",
        metavar="MODULE:APP",
        help="the WSGI/ASGI app, for the generated index.py (and the web start file)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="ZIP",
        help="where to write the zip (default dist/<project>-<cloud>-<mode>.zip)",
    )
    files = parser.add_argument_group("what goes in")
    files.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="package files matching GLOB (.gitignore syntax) whatever else says; repeatable",
    )
    files.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave out files matching GLOB (.gitignore syntax); repeatable",
    )
    files.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="package what symlinks pointing outside the project point to",
    )
    files.add_argument(
        "--python-exe",
        metavar="PATH",
        help="the Python of the target version that compiles byte-code and runs the check"
        " (default: found in pyenv or as python3.X on PATH)",
    )
    files.add_argument(
        "--no-check",
        action="store_true",
        help="do not import the entry after building (an app that needs the cloud's"
        " environment at import): read its source instead",
    )
    talk = parser.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    talk.add_argument("-v", "--verbose", action="store_true", help="show uv's or pip's output")
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would go in; install and write nothing"
    )
    configs = parser.add_argument_group("deploy configs")
    configs.add_argument(
        "--configs", action="store_true", help="write the platform's deploy config next to the zip"
    )
    configs.add_argument("--name", help="function name (default: the project folder's name)")
    configs.add_argument(
        "--trigger",
        default="url",
        choices=("url", "apigw"),
        help="Tencent: a function URL (default) or an API Gateway trigger",
    )
    configs.add_argument(
        "--region", help="region (default ap-guangzhou for Tencent, cn-hangzhou for Alibaba)"
    )
    configs.add_argument(
        "--env-id", default="your-env-id", help="CloudBase environment id for cloudbaserc.json"
    )
    configs.add_argument(
        "--http-path", default="/", help="CloudBase HTTP access path of the function (default /)"
    )
    configs.add_argument(
        "--domain",
        metavar="DOMAIN",
        help="Alibaba: bind a custom domain in s.yaml (auto: a temporary test domain), without"
        " which browsers download pages from the default *.fcapp.run domain",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..package import (
        MissingExtraError,
        OutputError,
        PackageError,
        ProjectError,
        RequirementsError,
        ResolverMissingError,
        build_package,
    )

    def progress(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    try:
        result = build_package(
            args.project,
            platform=args.platform,
            python=args.python,
            mode=args.mode,
            entry=args.entry,
            output_path=args.output,
            include=args.include,
            exclude=args.exclude,
            follow_symlinks=args.follow_symlinks,
            python_exe=args.python_exe,
            configs=args.configs,
            run_check=not args.no_check,
            dry_run=args.dry_run,
            verbose=args.verbose,
            progress=progress,
        )
    except ProjectError as exc:
        raise CliError(str(exc), EXIT_BAD_TARGET) from None
    except RequirementsError as exc:
        raise CliError(str(exc), EXIT_BAD_EVENT) from None
    except (ResolverMissingError, MissingExtraError) as exc:
        raise CliError(str(exc), EXIT_MISSING_EXTRA) from None
    except (OutputError, PackageError, ValueError) as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise CliError(f"cannot build the package: {_os_error(exc)}", EXIT_USAGE) from None

    for warning in result.warnings:
        print(f"faas-bridge: warning: {warning}", file=sys.stderr)
    if result.dry_run:
        _print_dry_run(result)
        return 0
    _print_summary(result, quiet=args.quiet)
    if args.configs:
        _write_configs(args, result)
    return 0


def _os_error(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _print_dry_run(result: Any) -> None:
    print(
        f"would write {_shown(result.path)}: {result.files} entries from the project"
        f" (requirements from {result.requirements}, not installed):"
    )
    for name in result.names:
        print(f"  {name}")
    for item in result.excluded:
        print(f"  left out {item.name} ({item.reason})")


def _print_summary(result: Any, *, quiet: bool) -> None:
    index = "generated from --entry" if result.generated_index else "the project's"
    print(
        f"wrote {_shown(result.path)}: {_mib(result.zipped_size)} zipped,"
        f" {_mib(result.unzipped_size)} unzipped, {result.files} files"
        f" (Python {result.python}, {result.mode} mode, index.py {index})"
    )
    if quiet:
        return
    bytecode = f"Python {result.python}" if result.bytecode else "none (sources only)"
    print(f"  requirements: {result.requirements}, installed by {result.resolver}")
    print(f"  byte-code: {bytecode}; check: {result.check}")
    largest = ", ".join(f"{name} {_mib(size)}" for name, size in result.largest)
    print(f"  largest: {largest}")
    if result.excluded:
        left = ", ".join(f"{item.name} ({item.reason})" for item in result.excluded)
        print(f"  left out: {left}")


def _write_configs(args: argparse.Namespace, result: Any) -> None:
    from ..clouds import get_cloud
    from ..deploy_configs import function_name, write_deploy_configs
    from ..package import OutputError

    try:
        paths = write_deploy_configs(
            result.path,
            platform=result.platform,
            python=result.python,
            mode=result.mode,
            name=args.name or Path(args.project).resolve().name,
            trigger=args.trigger,
            region=args.region,
            env_id=args.env_id,
            http_path=args.http_path,
            domain=args.domain,
            project=args.project,
        )
    except (OutputError, ValueError) as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise CliError(f"cannot write the deploy config: {_os_error(exc)}", EXIT_USAGE) from None
    config, *folders = paths
    extra = (
        f" and {_shown(folders[0])}/ (the package unpacked, which it deploys)" if folders else ""
    )
    print(f"wrote {_shown(config)}{extra}")
    cloud = get_cloud(result.platform)
    for warning in cloud.config_warnings(result.mode):
        print(f"faas-bridge: warning: {warning}", file=sys.stderr)
    for step in cloud.config_todo({"env_id": args.env_id}):
        print(step)
    command = cloud.deploy_command(
        name=function_name(args.name or Path(args.project).resolve().name),
        mode=result.mode,
        options={"http_path": args.http_path},
    )
    folder = shlex.quote(_shown(config.parent))
    print(f"deploy: {cloud.DEPLOY_INSTALL}; cd {folder} && {command}")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"

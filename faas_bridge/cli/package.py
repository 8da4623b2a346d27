"""``faas-bridge package PROJECT_DIR --platform P``: the deployable zip, and deploy configs."""

from __future__ import annotations

import argparse
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
Build the zip a platform runs: the project's source, its requirements (requirements.txt or
pyproject.toml) installed by pip for the target runtime (Linux x86_64, CPython --python),
faas_bridge itself, an index.py exposing main_handler (Tencent SCF), main (CloudBase) and
handler (Alibaba FC) unless the project has one, and in web mode the start file with the
servers it needs. Caches, tests, .git, virtualenvs, build and dist stay out; the zip is
reproducible. --configs also writes serverless.yml (sls deploy), cloudbaserc.json
(tcb framework deploy) or s.yaml (s deploy) next to it.

exit codes: 0 written; 2 bad usage or the output cannot be written; 3 the project folder
or --entry cannot be used; 4 the requirements are missing, unreadable or cannot be
installed for the target; 5 pip is missing."""


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
        help="where to write the zip (default dist/<project>-<platform>.zip)",
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
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..package import (
        PackageResult,
        PipMissingError,
        ProjectError,
        RequirementsError,
        build_package,
    )

    try:
        result: PackageResult = build_package(
            args.project,
            platform=args.platform,
            python=args.python,
            mode=args.mode,
            entry=args.entry,
            output=args.output,
        )
    except ProjectError as exc:
        raise CliError(str(exc), EXIT_BAD_TARGET) from exc
    except RequirementsError as exc:
        raise CliError(str(exc), EXIT_BAD_EVENT) from exc
    except PipMissingError as exc:
        raise CliError(str(exc), EXIT_MISSING_EXTRA) from exc
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    except OSError as exc:
        raise CliError(f"cannot write the package: {exc}", EXIT_USAGE) from exc

    index = "generated from --entry" if result.generated_index else "the project's"
    print(
        f"wrote {_shown(result.path)}: {_mib(result.zipped_size)} zipped,"
        f" {_mib(result.unzipped_size)} unzipped, {result.files} files"
        f" (Python {result.python}, {result.mode} mode, index.py {index})"
    )
    for warning in result.warnings:
        print(f"faas-bridge: warning: {warning}", file=sys.stderr)
    if args.configs:
        _write_configs(args, result)
    return 0


def _write_configs(args: argparse.Namespace, result: Any) -> None:
    from ..clouds import get_cloud
    from ..deploy_configs import runtime_name, write_deploy_configs

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
        )
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    except OSError as exc:
        raise CliError(f"cannot write the deploy config: {exc}", EXIT_USAGE) from exc
    config, *folders = paths
    extra = (
        f" and {_shown(folders[0])}/ (the package unpacked, which it deploys)" if folders else ""
    )
    print(f"wrote {_shown(config)}{extra}")
    if result.mode == "event":
        runtime = runtime_name(result.platform, result.python)
        if not runtime.verified:
            print(
                f"faas-bridge: warning: runtime name {runtime.name!r} is not confirmed by the"
                " platform's documentation: check it in the console",
                file=sys.stderr,
            )
    cloud = get_cloud(result.platform)
    for warning in cloud.config_warnings(result.mode):
        print(f"faas-bridge: warning: {warning}", file=sys.stderr)
    for step in cloud.config_todo({"env_id": args.env_id}):
        print(step)
    print(f"deploy: cd {_shown(config.parent)} && {cloud.DEPLOY_COMMAND}")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"

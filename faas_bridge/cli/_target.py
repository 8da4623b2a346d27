"""Loading the TARGET argument shared by the subcommands: ``module:attr`` or ``file.py:attr``.

``module:create_app()`` (or ``--factory``) calls an app factory without arguments, as
``flask --app`` and ``uvicorn --factory`` do.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Callable

from . import EXIT_BAD_TARGET, EXIT_USAGE, CliError

__all__ = ["add_factory_argument", "handler_for", "is_handler", "load_target", "target_spec"]

DEFAULT_ATTRS = ("main_handler", "handler", "main", "app", "application")


def load_target(spec: str, *, factory: bool = False) -> Any:
    """The object a TARGET names. Without ``:attr`` the usual entry names are tried in turn.

    The current directory (or the file's own folder) goes on ``sys.path`` first, as it would
    on the cloud, so ``index.py`` can import its neighbours. ``attr()`` or ``factory=True``
    calls what ``attr`` names without arguments and returns the result (an app factory).
    """
    location, _, attr = spec.partition(":")
    if attr.endswith("()"):
        attr, factory = attr[:-2], True
    obj = _find(location, attr, spec)
    return _call_factory(obj, attr or "the target") if factory else obj


def add_factory_argument(parser: Any) -> None:
    """``--factory``: TARGET names a function returning the app (uvicorn's flag)."""
    parser.add_argument(
        "--factory",
        action="store_true",
        help="TARGET is an app factory: call it without arguments for the app "
        "(same as writing module:create_app())",
    )


def target_spec(args: Any) -> str:
    """The TARGET argument, with ``()`` appended under ``--factory``."""
    spec: str = args.target
    if getattr(args, "factory", False) and not spec.endswith("()"):
        spec += "()"
    return spec


def _call_factory(factory: Any, name: str) -> Any:
    if not callable(factory):
        raise CliError(f"{name} is a {type(factory).__name__}, not an app factory", EXIT_BAD_TARGET)
    try:
        return factory()
    except Exception as exc:  # the user's code: one line, no traceback
        raise CliError(
            f"the app factory {name}() raised {type(exc).__name__}: {exc}", EXIT_BAD_TARGET
        ) from exc


def _find(location: str, attr: str, spec: str) -> Any:
    if not location:
        raise CliError(f"target {spec!r} names no module or file", EXIT_BAD_TARGET)
    try:
        if location.endswith(".py") or os.sep in location or "/" in location:
            module = _load_file(Path(location))
        else:
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(location)
    except CliError:
        raise
    except ImportError as exc:
        if "relative import" in str(exc) and location.endswith(".py"):
            raise CliError(_relative_import_hint(Path(location), attr), EXIT_BAD_TARGET) from exc
        raise CliError(
            f"cannot import {location!r}: {type(exc).__name__}: {exc}", EXIT_BAD_TARGET
        ) from exc
    except Exception as exc:  # an import error of the user's code: one line, no traceback
        raise CliError(
            f"cannot import {location!r}: {type(exc).__name__}: {exc}", EXIT_BAD_TARGET
        ) from exc
    names = [attr] if attr else list(DEFAULT_ATTRS)
    for name in names:
        obj = module
        try:
            for part in name.split("."):
                obj = getattr(obj, part)
        except AttributeError:
            continue
        return obj
    wanted = repr(attr) if attr else "any of " + ", ".join(DEFAULT_ATTRS)
    raise CliError(f"{location!r} has no attribute {wanted}", EXIT_BAD_TARGET)


def _relative_import_hint(path: Path, attr: str) -> str:
    """The one line for a file that uses relative imports: it must be loaded as a module of
    its package, ``pkg.module:attr``, from the folder above the package."""
    parts = [path.stem]
    folder = path.resolve().parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    if len(parts) == 1:
        return (
            f"{path} uses relative imports (from . import ...), which need a package: "
            "add __init__.py beside it and name it as package.module:attr"
        )
    dotted = ".".join(parts) + (f":{attr}" if attr else "")
    return (
        f"{path} uses relative imports (from . import ...), so it cannot be loaded as a file; "
        f"name it as a module of its package instead: {dotted!r}, run from {folder}"
    )


def _load_file(path: Path) -> Any:
    if not path.is_file():
        raise CliError(f"no such file: {path}", EXIT_BAD_TARGET)
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = path.stem if path.stem not in sys.modules else f"_faas_target_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CliError(f"cannot load {path} as a Python module", EXIT_BAD_TARGET)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def is_handler(obj: Any) -> bool:
    """Whether ``obj`` is a cloud handler ``(event, context)`` rather than a WSGI/ASGI app."""
    from ..testing import is_handler as looks_like_handler

    return looks_like_handler(obj)


def handler_for(obj: Any, **options: Any) -> Callable[[Any, Any], Any]:
    """A handler for a TARGET object: handlers as they are, apps wrapped with make_handler."""
    if not callable(obj):
        raise CliError(
            f"target is a {type(obj).__name__}, not a handler or a WSGI/ASGI app", EXIT_BAD_TARGET
        )
    from ..errors import BridgeError
    from ..testing import as_handler

    try:
        return as_handler(obj, **options)
    except BridgeError as exc:  # e.g. an app kind this installation cannot run
        raise CliError(f"cannot run the target: {exc}", EXIT_BAD_TARGET) from exc


def check_events_path_option(path: str | None) -> None:
    """Refuse an ``--events-path`` that is no absolute path as bad usage (exit 2), before
    the target is imported."""
    if path is None:
        return
    from ..errors import ConfigurationError
    from ..nonhttp import check_events_path

    try:
        check_events_path(path)
    except ConfigurationError:
        raise CliError(
            f"--events-path must be an absolute path like '/_events', not {path!r}", EXIT_USAGE
        ) from None

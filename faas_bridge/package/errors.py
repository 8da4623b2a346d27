"""The errors ``faas-bridge package`` raises; each message is one line, and the CLI maps
each class to its exit code."""

from __future__ import annotations

from ..errors import BridgeError

__all__ = [
    "MissingExtraError",
    "OutputError",
    "PackageError",
    "PipMissingError",
    "ProjectError",
    "RequirementsError",
    "ResolverMissingError",
]


class PackageError(BridgeError):
    """Building a package failed; the message says what to fix."""


class ProjectError(PackageError):
    """The project folder, one of its files or its entry point cannot be packaged (exit 3)."""


class RequirementsError(PackageError):
    """The requirements are missing, unreadable, or cannot be installed for the target (exit 4)."""


class ResolverMissingError(PackageError):
    """Nothing here can resolve the requirements for the target: no uv, and no interpreter of
    the target version to run pip under (exit 5)."""


class MissingExtraError(PackageError):
    """A library of the ``package`` extra (pathspec, a TOML reader) is not installed (exit 5)."""


PipMissingError = ResolverMissingError  # the name before uv became the resolver


class OutputError(PackageError):
    """The output would overwrite or delete something ``package`` did not write, or lies in
    the project it reads (exit 2)."""

"""Errors a user can cause.

Every message names the entity, node and variable involved and says what to do; the CLI prints
it on one line and exits with `exit_code`.
"""


class SkiffError(Exception):
    """Base of every error caused by user input; the CLI shows only the message."""

    exit_code = 2


class TypeTransformerError(SkiffError):
    """A Python value or type hint the type engine cannot turn into a literal, or back."""


class CompileError(SkiffError):
    """A task, workflow or launch plan that Flyte admin would reject."""


class PackageError(SkiffError):
    """A package file that is missing, unreadable or not laid out as `pyflyte package` does."""


class LoadError(SkiffError):
    """A workflow file or entity name that cannot be loaded."""


class SandboxError(SkiffError):
    """The sandbox (Docker engine, MinIO, store) is not usable; the message says how to fix it."""

    exit_code = 1


class ExecutionFailed(SkiffError):
    """An execution ended in failure; the message names the node, attempt and the task's error."""

    exit_code = 1

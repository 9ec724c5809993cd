"""Skiff SDK: typed Flyte tasks and workflows (the public names are re-exported here)."""
from typing import Any

from sdk.authoring import LaunchPlan, PythonFunctionTask, Resources, Secret, WorkflowEntity, task, workflow

__all__ = ["Directory", "File", "LaunchPlan", "PythonFunctionTask", "Resources", "Secret", "WorkflowEntity", "task", "workflow"]


def __getattr__(name: str) -> Any:
    # File and Directory live with the type engine; imported on first use so that importing
    # the SDK does not load the type engine's dependencies.
    if name in ("File", "Directory"):
        from sdk import types

        return getattr(types, name)
    raise AttributeError(f"module 'sdk' has no attribute {name!r}")

"""Skiff SDK: typed Flyte tasks and workflows (the public names are re-exported here)."""
from typing import Any

from sdk.authoring import (
    DynamicTask,
    GateAnswers,
    LaunchPlan,
    MapTask,
    PythonFunctionTask,
    Resources,
    Secret,
    WorkflowEntity,
    WorkflowFailurePolicy,
    approve,
    conditional,
    dynamic,
    map_task,
    run_locally,
    sleep,
    task,
    wait_for_input,
    workflow,
)

__all__ = [
    "Directory", "DynamicTask", "File", "GateAnswers", "LaunchPlan", "MapTask", "PythonFunctionTask", "Resources",
    "Secret", "WorkflowEntity", "WorkflowFailurePolicy", "approve", "conditional", "dynamic", "map_task",
    "run_locally", "sleep", "task", "wait_for_input", "workflow",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    # File and Directory live with the type engine; imported on first use so that importing
    # the SDK does not load the type engine's dependencies.
    if name in ("File", "Directory"):
        from sdk import types

        return getattr(types, name)
    raise AttributeError(f"module 'sdk' has no attribute {name!r}")

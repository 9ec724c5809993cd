"""Skiff SDK: typed Flyte tasks and workflows (the public names are re-exported here).

Names are imported on first use (PEP 562): a task container imports `sdk.entrypoint` and the
user's module, which needs `task` and `workflow` but not the compiler, control flow or the type
engine's optional parts, and every millisecond of import is paid once per task container.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> the module that defines it
_EXPORTS = {
    "DynamicTask": "sdk.authoring.dynamic",
    "dynamic": "sdk.authoring.dynamic",
    "GateAnswers": "sdk.authoring.local_run",
    "run_locally": "sdk.authoring.local_run",
    "LaunchPlan": "sdk.authoring.launch_plan",
    "MapTask": "sdk.authoring.map_task",
    "map_task": "sdk.authoring.map_task",
    "PythonFunctionTask": "sdk.authoring.task",
    "task": "sdk.authoring.task",
    "Resources": "sdk.authoring.resources",
    "Secret": "sdk.authoring.resources",
    "WorkflowEntity": "sdk.authoring.workflow",
    "WorkflowFailurePolicy": "sdk.authoring.workflow",
    "workflow": "sdk.authoring.workflow",
    "approve": "sdk.authoring.gates",
    "sleep": "sdk.authoring.gates",
    "wait_for_input": "sdk.authoring.gates",
    "conditional": "sdk.authoring.condition",
    "File": "sdk.types.blobs",
    "Directory": "sdk.types.blobs",
    "FlyteError": "sdk.types.error",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:  # for type checkers and IDEs; at run time __getattr__ below does the work
    from sdk.authoring import (  # noqa: F401
        DynamicTask, GateAnswers, LaunchPlan, MapTask, PythonFunctionTask, Resources, Secret,
        WorkflowEntity, WorkflowFailurePolicy, approve, conditional, dynamic, map_task,
        run_locally, sleep, task, wait_for_input, workflow,
    )
    from sdk.types.blobs import Directory, File  # noqa: F401
    from sdk.types.error import FlyteError  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sdk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

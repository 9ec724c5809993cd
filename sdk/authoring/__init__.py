"""What a workflow author writes: tasks, workflows, launch plans, control flow and their options.

Names are imported from their modules on first use (PEP 562), so code that needs only `task`
and `workflow` (a task container importing the user's module) does not load control flow,
launch plans or the local runner.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Names shared with a submodule (`sdk.authoring.task` the module, `task` the decorator) are bound
# here at import: loading a submodule later would otherwise set the package attribute to it.
from sdk.authoring.dynamic import DynamicTask, dynamic
from sdk.authoring.map_task import MapTask, map_task
from sdk.authoring.task import PythonFunctionTask, TaskMetadata, task
from sdk.authoring.workflow import WorkflowEntity, WorkflowFailurePolicy, workflow

_EXPORTS = {
    "conditional": "condition",
    "approve": "gates",
    "sleep": "gates",
    "wait_for_input": "gates",
    "LaunchPlan": "launch_plan",
    "GateAnswers": "local_run",
    "run_locally": "local_run",
    "Resources": "resources",
    "Secret": "resources",
}

__all__ = sorted([*_EXPORTS, "DynamicTask", "dynamic", "MapTask", "map_task", "PythonFunctionTask",
                  "TaskMetadata", "task", "WorkflowEntity", "WorkflowFailurePolicy", "workflow"])

if TYPE_CHECKING:
    from sdk.authoring.condition import conditional  # noqa: F401
    from sdk.authoring.gates import approve, sleep, wait_for_input  # noqa: F401
    from sdk.authoring.launch_plan import LaunchPlan  # noqa: F401
    from sdk.authoring.local_run import GateAnswers, run_locally  # noqa: F401
    from sdk.authoring.resources import Resources, Secret  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sdk.authoring' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"sdk.authoring.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

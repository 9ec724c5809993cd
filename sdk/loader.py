"""Loading workflow code: a .py file (by path) or a dotted module, and the entities it defines.

A file is imported under the module name flytekit would give it (its dotted path from the
source root), with the source root on sys.path, so entity names match between the SDKs.
"""
from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Union

from sdk.authoring.launch_plan import LaunchPlan, all_launch_plans
from sdk.authoring.naming import module_name_for_path, source_root
from sdk.authoring.task import PythonFunctionTask
from sdk.authoring.workflow import WorkflowEntity
from sdk.errors import LoadError, SkiffError

Entity = Union[PythonFunctionTask, WorkflowEntity, LaunchPlan]


@dataclass
class ModuleEntities:
    module: str
    tasks: list[PythonFunctionTask] = field(default_factory=list)
    workflows: list[WorkflowEntity] = field(default_factory=list)
    launch_plans: list[LaunchPlan] = field(default_factory=list)

    def all(self) -> list[Entity]:
        return [*self.tasks, *self.workflows, *self.launch_plans]


def _is_path(target: str) -> bool:
    return target.endswith(".py") or os.sep in target or os.path.exists(target)


def _same_file(module: ModuleType, path: str) -> bool:
    file = getattr(module, "__file__", None)
    return bool(file) and os.path.realpath(file) == os.path.realpath(path)


def _import(name: str, description: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except SkiffError:
        raise
    except ModuleNotFoundError as error:
        if error.name and name.startswith(error.name):
            raise LoadError(f"{description}: no module named '{error.name}'; check the name and the path") from error
        raise LoadError(f"{description}: importing it failed: {error}") from error
    except Exception as error:  # the user's module raised while importing
        raise LoadError(f"{description}: importing it failed: {type(error).__name__}: {error}") from error


def load_module(target: str) -> ModuleType:
    """Import a .py file by path, or a dotted module name; LoadError when it is missing."""
    if not _is_path(target):
        return _import(target, f"module {target}")
    path = os.path.abspath(target)
    if not os.path.isfile(path):
        raise LoadError(f"workflow file {target} does not exist; check the path")
    root = source_root(path)
    name = module_name_for_path(path)
    if root not in sys.path:
        sys.path.insert(0, root)
    existing = sys.modules.get(name)
    if existing is not None:
        if _same_file(existing, path):
            return existing
        # Another file with the same module name was loaded before (e.g. from another root).
        del sys.modules[name]
        importlib.invalidate_caches()
    module = _import(name, f"workflow file {target}")
    if not _same_file(module, path):
        raise LoadError(
            f"workflow file {target}: module '{name}' resolves to {getattr(module, '__file__', '?')} instead; "
            "rename the file or run from its own directory"
        )
    return module


def entities_in(module: ModuleType) -> ModuleEntities:
    """Tasks, workflows and launch plans defined by the module, in definition order."""
    found = ModuleEntities(module.__name__)
    for value in list(vars(module).values()):
        if isinstance(value, PythonFunctionTask) and value.function.__module__ == module.__name__:
            found.tasks.append(value)
        elif isinstance(value, WorkflowEntity) and value.function.__module__ == module.__name__:
            found.workflows.append(value)
    workflow_names = {wf.name for wf in found.workflows}
    seen: set[str] = set()
    candidates = [v for v in vars(module).values() if isinstance(v, LaunchPlan)] + all_launch_plans()
    for plan in candidates:
        if plan.workflow.name in workflow_names and plan.name not in seen:
            seen.add(plan.name)
            found.launch_plans.append(plan)
    return found


def _names(found: ModuleEntities) -> list[str]:
    return [e.name for e in found.all()]


def load_entity(target: str, name: str) -> Entity:
    """The task, workflow or launch plan called `name` (full or short name) in `target`."""
    found = entities_in(load_module(target))
    matches = [e for e in found.all() if e.name == name]
    if not matches:
        matches = [e for e in found.all() if e.name.rsplit(".", 1)[-1] == name]
    if not matches:
        available = ", ".join(_names(found)) or "nothing"
        raise LoadError(f"{target} defines no task, workflow or launch plan named '{name}'; it defines: {available}")
    # A workflow and its default launch plan share a name: the workflow is meant.
    for kind in (WorkflowEntity, PythonFunctionTask, LaunchPlan):
        for entity in matches:
            if isinstance(entity, kind):
                return entity
    return matches[0]

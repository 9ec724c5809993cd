"""Gathering what a package holds, in the order `pyflyte package` writes it.

pyflyte walks the entities in definition order and writes what each one calls before it (the
tasks, subworkflows and launch plans of its nodes, depth first, then its failure node), and a
workflow's default launch plan right after the workflow. Registering in that order never sends a
workflow before something it references. Tasks and subworkflows a workflow calls are included
even when another module defines them; two different entities of the same kind under one name
are an error, as Flyte admin would register only one of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sdk.authoring.launch_plan import LaunchPlan, launch_plans_for
from sdk.authoring.map_task import MapTask
from sdk.authoring.task import PythonFunctionTask
from sdk.authoring.workflow import WorkflowEntity
from sdk.compile.workflow_spec import all_nodes
from sdk.errors import CompileError


@dataclass
class PackageEntities:
    tasks: dict[str, Any] = field(default_factory=dict)
    workflows: dict[str, WorkflowEntity] = field(default_factory=dict)
    launch_plans: dict[str, LaunchPlan] = field(default_factory=dict)
    # (kind, entity) in registration order: what an entity calls comes before it.
    order: list[tuple[str, Any]] = field(default_factory=list)

    def _add(self, kind: str, table: dict[str, Any], entity: Any) -> bool:
        existing = table.get(entity.name)
        if existing is None:
            table[entity.name] = entity
            self.order.append((kind, entity))
            return True
        if existing is not entity and _origin(existing) != _origin(entity):
            raise CompileError(
                f"{kind} name '{entity.name}' is defined twice ({_origin(existing)} and {_origin(entity)}); "
                "rename one of them"
            )
        return False

    def add_task(self, task: Any) -> None:
        self._add("task", self.tasks, task)

    def add_workflow(self, workflow: WorkflowEntity, default_plan: bool = False) -> None:
        """The workflow after everything it calls; with `default_plan`, its default launch
        plan right after it (pyflyte does so for the workflows a module defines)."""
        if workflow.name not in self.workflows:
            for node in all_nodes(workflow):
                self._add_called(node.entity)
        self._add("workflow", self.workflows, workflow)
        if default_plan:
            self._add("launch plan", self.launch_plans, launch_plans_for(workflow)[0])

    def _add_called(self, entity: Any) -> None:
        if isinstance(entity, (PythonFunctionTask, MapTask)):
            self.add_task(entity)
        elif isinstance(entity, LaunchPlan):
            self.add_launch_plan(entity)
        elif isinstance(entity, WorkflowEntity):
            self.add_workflow(entity)
        # branches and gates are not entities of their own: their nodes are walked by all_nodes

    def add_launch_plan(self, plan: LaunchPlan) -> None:
        self.add_workflow(plan.workflow)
        self._add("launch plan", self.launch_plans, plan)

    def finish(self) -> None:
        """Give every workflow reached only through another its launch plans (the default one
        first), after everything else."""
        for workflow in list(self.workflows.values()):
            for plan in launch_plans_for(workflow):
                self._add("launch plan", self.launch_plans, plan)


def _origin(entity: Any) -> str:
    function = getattr(entity, "function", None) or getattr(getattr(entity, "workflow", None), "function", None)
    code = getattr(function, "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code else repr(entity)

"""The tasks, workflows and launch plans a workflow file defines, as `skiff run` shows them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sdk.errors import LoadError


@dataclass(frozen=True)
class Entity:
    """One runnable thing in a file: `short` is what the user types, `obj` the SDK object."""

    short: str
    kind: str
    obj: Any

    @property
    def name(self) -> str:
        return self.obj.name

    @property
    def interface(self):
        return self.obj.interface

    @property
    def fixed_inputs(self) -> dict:
        return dict(getattr(self.obj, "fixed_inputs", {}) or {})

    @property
    def description(self) -> str:
        doc = getattr(self.interface, "docstring", None)
        short = getattr(doc, "short_description", "") if doc is not None else ""
        long = getattr(doc, "long_description", "") if doc is not None else ""
        if self.kind == "launch plan":
            wf = self.obj.workflow
            lead = f"Launch plan of workflow {wf.name}."
            fixed = ", ".join(f"{k}={v!r}" for k, v in self.fixed_inputs.items())
            return f"{lead} Fixed inputs: {fixed}." if fixed else lead
        return "\n\n".join(part for part in (short, long) if part)


def load_entities(path: str) -> dict[str, Entity]:
    """Everything runnable in `path`, keyed by the name `skiff run FILE NAME` accepts:
    tasks and workflows by function name, launch plans by their own name."""
    from sdk.loader import entities_in, load_module

    if not os.path.isfile(path):
        raise LoadError(f"workflow file {path} not found; give the path of a .py file")
    found = entities_in(load_module(path))
    entities: dict[str, Entity] = {}
    for task in found.tasks:
        entities.setdefault(task.short_name, Entity(task.short_name, "task", task))
    for workflow in found.workflows:
        entities.setdefault(workflow.short_name, Entity(workflow.short_name, "workflow", workflow))
    for plan in found.launch_plans:
        # A workflow's default launch plan carries its name and adds nothing to list.
        if plan.name != plan.workflow.name:
            entities.setdefault(plan.name, Entity(plan.name, "launch plan", plan))
    return entities


def find_entity(path: str, name: str) -> Entity:
    """The entity called `name` (short or full name) in `path`; LoadError listing what exists."""
    entities = load_entities(path)
    if name in entities:
        return entities[name]
    for entity in entities.values():
        if entity.name == name:
            return entity
    listing = ", ".join(entities) or "nothing runnable"
    raise LoadError(f"{path} has no task, workflow or launch plan named {name!r}; it defines: {listing}")

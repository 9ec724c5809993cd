"""Launch plans: a workflow with default and fixed inputs, registered under its own name.

Every workflow has a default launch plan named as the workflow. The registry below keeps the
launch plans created in this process, by workflow and name, so the packager finds them. Two
workflows of different modules may each have a launch plan of the same name in one process (a
test session loads many files); the packager refuses to put both into one package, as Flyte admin
would keep only one.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional

from flyteidl.core import literals_pb2

from sdk.authoring.tracing import current_scope
from sdk.errors import CompileError

_registry: dict[tuple[str, str], "LaunchPlan"] = {}


class LaunchPlan:
    def __init__(self, name: str, workflow: Any, default_inputs: dict[str, Any], fixed_inputs: dict[str, Any]):
        self.name = name
        self.workflow = workflow
        self.default_inputs = dict(default_inputs)
        self.fixed_inputs = dict(fixed_inputs)
        for var in [*self.default_inputs, *self.fixed_inputs]:
            if var not in workflow.interface.inputs:
                raise CompileError(
                    f"launch plan {name}: '{var}' is not an input of workflow {workflow.name}; "
                    f"its inputs are {', '.join(workflow.interface.inputs) or 'none'}"
                )
        base = workflow.interface
        # What a caller of the launch plan may pass: fixed inputs are gone, defaults are merged in.
        self.interface = replace(
            base,
            inputs={k: v for k, v in base.inputs.items() if k not in self.fixed_inputs},
            defaults={
                k: v for k, v in {**base.defaults, **self.default_inputs}.items() if k not in self.fixed_inputs
            },
        )

    @property
    def short_name(self) -> str:
        return self.name

    @classmethod
    def get_or_create(
        cls,
        workflow: Any,
        name: Optional[str] = None,
        default_inputs: Optional[dict[str, Any]] = None,
        fixed_inputs: Optional[dict[str, Any]] = None,
    ) -> "LaunchPlan":
        """The launch plan `name` (default: the workflow's own name), created on first use."""
        name = name or workflow.name
        default_inputs = default_inputs or {}
        fixed_inputs = fixed_inputs or {}
        key = (workflow.name, name)
        existing = _registry.get(key)
        if existing is not None:
            asked_for_inputs = bool(default_inputs or fixed_inputs)
            differs = (existing.default_inputs, existing.fixed_inputs) != (default_inputs, fixed_inputs)
            if asked_for_inputs and differs:
                raise CompileError(
                    f"launch plan {name}: already exists for workflow {existing.workflow.name} with other "
                    "inputs; give the new launch plan another name"
                )
            if existing.workflow is workflow:
                return existing
            default_inputs, fixed_inputs = existing.default_inputs, existing.fixed_inputs
        # Rebuilt even when it exists, so a reloaded module's workflow object is the one used.
        plan = cls(name, workflow, default_inputs, fixed_inputs)
        _registry[key] = plan
        return plan

    def fixed_literals(self) -> dict[str, literals_pb2.Literal]:
        from sdk.authoring.local_run import to_literal_at

        where = f"launch plan {self.name}"
        return {
            k: to_literal_at(where, k, v, self.workflow.interface.inputs[k]) for k, v in self.fixed_inputs.items()
        }

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        scope = current_scope()
        if scope is not None:
            return scope.add_call(self, args, kwargs)
        from sdk.authoring.local_run import run_call

        return run_call("launch plan", self, args, kwargs)

    def __repr__(self) -> str:
        return f"LaunchPlan({self.name} -> {self.workflow.name})"


def launch_plans_for(workflow: Any) -> list[LaunchPlan]:
    """The workflow's default launch plan first, then the others created for it, in creation order."""
    default = LaunchPlan.get_or_create(workflow)
    others = [lp for lp in _registry.values() if lp.workflow.name == workflow.name and lp is not default]
    return [default, *others]


def all_launch_plans() -> list[LaunchPlan]:
    return list(_registry.values())

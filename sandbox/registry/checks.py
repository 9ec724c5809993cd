"""Checking a whole hydrated package before anything of it is stored, as flyteadmin would check
each entity (sdk.compile.admission): every launch plan's workflow exists and its inputs match,
every task passes flyteadmin's task validator, and every workflow compiles (its tasks and
launch plans are in the package or registered; no cycles, unbound or unknown inputs,
mismatched types, bad branches). The only difference from flyteadmin: conditions comparing
with None (`is_none()`) are accepted, since the sandbox runs them.
"""
from __future__ import annotations

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

from sdk.compile.admission import expected_inputs, package_problems
from sdk.compile.closure import LaunchPlanInterface, key
from sdk.compile.package_reader import LAUNCH_PLAN, TASK, WORKFLOW
from sdk.errors import PackageError


class _Store:
    """What the store holds already, for references outside the package."""

    def __init__(self, store):
        self.store = store

    def _spec(self, kind: int, ident):
        data = self.store.entity_spec(kind, ident.project, ident.domain, ident.name,
                                      ident.version or None)
        if data is None:
            return None
        parser = {TASK: task_pb2.TaskSpec, WORKFLOW: workflow_pb2.WorkflowSpec,
                  LAUNCH_PLAN: launch_plan_pb2.LaunchPlan}[kind]
        return parser.FromString(data)

    def task(self, ident):
        spec = self._spec(TASK, ident)
        return spec.template if spec is not None else None

    def workflow_interface(self, ident):
        spec = self._spec(WORKFLOW, ident)
        return spec.template.interface if spec is not None else None

    def plan(self, ident):
        plan = self._spec(LAUNCH_PLAN, ident)
        if plan is None:
            return None
        interface = self.workflow_interface(plan.spec.workflow_id)
        if interface is None:
            return None
        return LaunchPlanInterface(expected_inputs(plan.spec, interface.inputs),
                                   interface.outputs)


def check_package(package, hydrated: list, store) -> None:
    """Raise PackageError, naming every entity that would be refused and why, when any entity
    of `package` (whose hydrated specs are `hydrated`, (entity, spec) in package order) would
    be refused; `store` holds what the package may reference besides itself."""
    specs = [(entity.kind, spec) for entity, spec in hydrated]
    registered = _Store(store)
    own_workflows = {key(spec.template.id) for kind, spec in specs if kind == WORKFLOW}
    problems = []
    for kind, spec in specs:
        if kind == LAUNCH_PLAN and key(spec.spec.workflow_id) not in own_workflows \
                and registered.workflow_interface(spec.spec.workflow_id) is None:
            problems.append(f"launch plan {spec.id.name!r} runs workflow "
                            f"{spec.spec.workflow_id.name!r}, which is neither in the package "
                            "nor registered; add it to the package")
    problems += package_problems(specs, registered.task, registered.plan,
                                 registered.workflow_interface, scalar_operands=True)
    if problems:
        raise PackageError(f"package {package.path}: {'; '.join(problems)}; nothing was "
                           "registered: fix the package and register it again")

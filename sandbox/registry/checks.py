"""Checking a whole hydrated package before anything of it is stored, as flyteadmin would check
each entity: every launch plan's workflow exists, and every workflow compiles (its tasks and
launch plans are in the package or registered; no cycles, unbound inputs or mismatched types).
"""
from __future__ import annotations

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

from sdk.compile.closure import (LaunchPlanInterface, WorkflowCompileError, compile_closure, key,
                                 required_references)
from sdk.compile.package_reader import LAUNCH_PLAN, TASK, WORKFLOW, kind_name
from sdk.errors import PackageError


class _Catalog:
    """The package's entities first, then what the store holds, by identifier key."""

    def __init__(self, hydrated, store):
        self.store = store
        self.own = {(kind, key(_own_id(kind, spec))): spec for kind, spec in hydrated}

    def get(self, kind: int, ident):
        spec = self.own.get((kind, key(ident)))
        if spec is not None:
            return spec
        data = self.store.entity_spec(kind, ident.project, ident.domain, ident.name,
                                      ident.version or None)
        if data is None:
            return None
        parser = {TASK: task_pb2.TaskSpec, WORKFLOW: workflow_pb2.WorkflowSpec,
                  LAUNCH_PLAN: launch_plan_pb2.LaunchPlan}[kind]
        return parser.FromString(data)


def _own_id(kind: int, spec):
    return spec.id if kind == LAUNCH_PLAN else spec.template.id


def _where(package_path: str, kind: int, name: str, entry: str) -> str:
    return f"package {package_path}: {kind_name(kind)} {name!r} ({entry})"


def check_package(package, hydrated: list, store) -> None:
    """Raise PackageError, naming the entity and what to do, when any entity of `package`
    (whose hydrated specs are `hydrated`, in package order) would be refused."""
    catalog = _Catalog([(e.kind, spec) for e, spec in hydrated], store)
    for entity, spec in hydrated:
        where = _where(package.path, entity.kind, entity.name, entity.entry)
        if entity.kind == LAUNCH_PLAN:
            if catalog.get(WORKFLOW, spec.spec.workflow_id) is None:
                raise PackageError(f"{where} runs workflow {spec.spec.workflow_id.name!r}, which "
                                   "is neither in the package nor registered; add it to the "
                                   "package")
        elif entity.kind == WORKFLOW:
            _check_workflow(where, spec, catalog)


def _check_workflow(where: str, spec, catalog: _Catalog) -> None:
    task_ids, plan_ids = required_references(spec)
    tasks = []
    for ident in task_ids:
        task = catalog.get(TASK, ident)
        if task is None:
            raise PackageError(f"{where} runs task {ident.name!r}, which is neither in the "
                               "package nor registered; add the task to the package")
        tasks.append(task.template)
    plans = {}
    for ident in plan_ids:
        plan = catalog.get(LAUNCH_PLAN, ident)
        if plan is None:
            raise PackageError(f"{where} calls launch plan {ident.name!r}, which is neither in "
                               "the package nor registered; add it to the package")
        called = catalog.get(WORKFLOW, plan.spec.workflow_id)
        outputs = called.template.interface.outputs if called is not None else None
        plans[key(ident)] = LaunchPlanInterface(plan.spec.default_inputs, outputs)
    try:
        # The sandbox runs conditions that compare with None; a real admin may refuse them,
        # which `skiff register` reports.
        compile_closure(spec, tasks, plans, scalar_operands=True)
    except WorkflowCompileError as error:
        raise PackageError(f"{where} does not compile: {'; '.join(error.problems)}") from None

"""Checking a whole hydrated package before anything of it is stored, as flyteadmin would check
each entity: every launch plan's workflow exists, and every workflow compiles (its tasks and
launch plans are in the package or registered; no cycles, unbound inputs or mismatched types).
"""
from __future__ import annotations

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

from sdk.compile.closure import (LaunchPlanInterface, WorkflowCompileError, compile_closure, key,
                                 required_references)
from sdk.compile.idl_walk import template_nodes
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


def _node_using(spec, ident) -> str:
    """The id of the first node (subworkflows included) that calls `ident`."""
    for template in [spec.template, *spec.sub_workflows]:
        for node in template_nodes(template):
            target = node.WhichOneof("target")
            ref = node.task_node.reference_id if target == "task_node" else (
                node.workflow_node.launchplan_ref if target == "workflow_node" else None)
            if ref is not None and key(ref) == key(ident):
                return node.id
    return "?"


def _check_workflow(where: str, spec, catalog: _Catalog) -> None:
    task_ids, plan_ids = required_references(spec)
    tasks = []
    for ident in task_ids:
        task = catalog.get(TASK, ident)
        if task is None:
            raise PackageError(f"{where} node {_node_using(spec, ident)!r} uses task "
                               f"{ident.name!r}, which is neither in the package nor "
                               "registered; add the task to the package")
        tasks.append(task.template)
    plans = {}
    for ident in plan_ids:
        plan = catalog.get(LAUNCH_PLAN, ident)
        if plan is None:
            raise PackageError(f"{where} node {_node_using(spec, ident)!r} calls launch plan "
                               f"{ident.name!r}, which is neither in the package nor "
                               "registered; add it to the package")
        called = catalog.get(WORKFLOW, plan.spec.workflow_id)
        outputs = called.template.interface.outputs if called is not None else None
        plans[key(ident)] = LaunchPlanInterface(plan.spec.default_inputs, outputs)
    try:
        # The sandbox runs conditions that compare with None; a real admin may refuse them,
        # which `skiff register` reports.
        compile_closure(spec, tasks, plans, scalar_operands=True)
    except WorkflowCompileError as error:
        # Refused here: a graph that can never run (cycles, unreachable nodes). Binding and
        # type problems of hand-built packages are left to the run, as before: Skiff's own and
        # pyflyte's packages have none, and the admin's CreateWorkflow refuses them.
        if error.graph_problems:
            raise PackageError(f"{where} does not compile: "
                               f"{'; '.join(error.graph_problems)}") from None

"""Compiling a registered workflow's closure from the store, as flyteadmin compiles it: the
tasks and launch plans it calls are read from the registry. Used by AdminService (create and
get) and by the console's graph."""
from __future__ import annotations

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

from sandbox.admin import convert
from sandbox.admin.errors import invalid
from sandbox.registry import LAUNCH_PLAN, TASK, WORKFLOW
from sdk.compile.closure import (LaunchPlanInterface, MissingReference, WorkflowCompileError,
                                 compile_closure, required_references)


def _registered_task(store, ident, workflow_id):
    data = store.entity_spec(TASK, ident.project or workflow_id.project,
                             ident.domain or workflow_id.domain, ident.name, ident.version or None)
    if data is None:
        raise invalid(f"workflow {convert.describe_id(workflow_id)} runs task "
                      f"{convert.describe_id(ident)}, which is not registered (missing "
                      "entity of type TASK); register the task first")
    return task_pb2.TaskSpec.FromString(data).template


def _launch_plan_interface(store, ident, workflow_id) -> LaunchPlanInterface:
    data = store.entity_spec(LAUNCH_PLAN, ident.project or workflow_id.project,
                             ident.domain or workflow_id.domain, ident.name, ident.version or None)
    if data is None:
        raise invalid(f"workflow {convert.describe_id(workflow_id)} calls launch plan "
                      f"{convert.describe_id(ident)}, which is not registered (missing "
                      "entity of type LAUNCH_PLAN); register the launch plan first")
    plan = launch_plan_pb2.LaunchPlan.FromString(data)
    wf = plan.spec.workflow_id
    wf_data = store.entity_spec(WORKFLOW, wf.project or ident.project, wf.domain or ident.domain,
                                wf.name, wf.version or None)
    outputs = (workflow_pb2.WorkflowSpec.FromString(wf_data).template.interface.outputs
               if wf_data is not None else None)
    return LaunchPlanInterface(plan.spec.default_inputs, outputs)


def registered_closure(store, spec: workflow_pb2.WorkflowSpec, ident, scalar_operands=True):
    """The closure flyteadmin compiles, from the registered tasks and launch plans the
    workflow calls; INVALID_ARGUMENT when a reference is missing or the compiler refuses.
    A stored workflow is always served: the local registry accepts conditions comparing
    with None (`scalar_operands`), which the sandbox runs."""
    task_ids, plan_ids = required_references(spec)
    tasks = [_registered_task(store, t, ident) for t in task_ids]
    plans = {}
    for plan_id in plan_ids:
        plans[(plan_id.project, plan_id.domain, plan_id.name, plan_id.version)] = \
            _launch_plan_interface(store, plan_id, ident)
    try:
        return compile_closure(spec, tasks, plans, scalar_operands)
    except MissingReference as error:
        raise invalid(f"failed to compile workflow {convert.describe_id(ident)}: {error}")
    except WorkflowCompileError as error:
        raise invalid(f"failed to compile workflow {convert.describe_id(ident)}: "
                      + "; ".join(error.problems))

"""What a remote execution ran and computed, fetched through an admin's API and data proxy:
the target, every task template, workflow spec and launch plan it needs, its inputs and
outputs, and each node's outputs. Reproduction runs this again elsewhere and compares."""
from __future__ import annotations

import dataclasses

import grpc
from flyteidl.admin import common_pb2, launch_plan_pb2, node_execution_pb2
from flyteidl.core import literals_pb2

from sdk.compile.idl_walk import template_nodes
from sdk.compile.uncompile import workflow_spec_from_closure
from sdk.remote.data import literal_map
from sdk.remote.executions import execution_data, get_execution
from sdk.remote.specs import TASK, WORKFLOW


@dataclasses.dataclass
class RemoteRun:
    ident: object  # core.WorkflowExecutionIdentifier
    kind: int  # TASK or WORKFLOW: what the execution ran
    entity: object  # admin.Task or admin.Workflow
    inputs: literals_pb2.LiteralMap
    outputs: literals_pb2.LiteralMap
    templates: list  # core.TaskTemplate of every task the run may start
    workflows: list  # admin.WorkflowSpec: the target's first, then those launch plans call
    plans: list  # admin.LaunchPlan its launch plan nodes call

    @property
    def reference(self) -> str:
        return f"{self.ident.project}/{self.ident.domain}/{self.ident.name}"


def _target(conn, execution):
    """(kind, admin.Workflow or admin.Task) the execution ran."""
    target = execution.spec.launch_plan
    if target.resource_type == TASK:
        task = conn.admin.call("GetTask", common_pb2.ObjectGetRequest(id=target),
                               f"fetch task {target.name!r} version {target.version!r}")
        return TASK, task
    wf_id = execution.closure.workflow_id
    if not wf_id.name:
        plan = conn.admin.call("GetLaunchPlan", common_pb2.ObjectGetRequest(id=target),
                               f"fetch launch plan {target.name!r} version {target.version!r}")
        wf_id = plan.spec.workflow_id
    workflow = conn.admin.call("GetWorkflow", common_pb2.ObjectGetRequest(id=wf_id),
                               f"fetch workflow {wf_id.name!r} version {wf_id.version!r}")
    return WORKFLOW, workflow


def _launch_plan_refs(closure):
    """Identifiers of the launch plans a compiled workflow's nodes call."""
    for template in [closure.primary.template, *[sub.template for sub in closure.sub_workflows]]:
        for node in template_nodes(template):
            if node.WhichOneof("target") == "workflow_node" and \
                    node.workflow_node.WhichOneof("reference") == "launchplan_ref":
                yield node.workflow_node.launchplan_ref


def _key(ident) -> tuple:
    return (ident.project, ident.domain, ident.name, ident.version)


def _gather(conn, kind, entity):
    """(task templates, workflow specs, launch plans) the run needs: the target and, through
    launch plan nodes, every launch plan and workflow it calls (Flyte runs those as separate
    executions; a sandbox that inlines them must register them too)."""
    if kind == TASK:
        return [entity.closure.compiled_task.template], [], []
    tasks, workflows, plans = {}, {}, {}
    queue = [entity]
    while queue:
        workflow = queue.pop()
        if _key(workflow.id) in workflows:
            continue
        closure = workflow.closure.compiled_workflow
        workflows[_key(workflow.id)] = workflow_spec_from_closure(closure)
        for task in closure.tasks:
            tasks[_key(task.template.id)] = task.template
        for ref in _launch_plan_refs(closure):
            if _key(ref) in plans:
                continue
            plan = conn.admin.call("GetLaunchPlan", common_pb2.ObjectGetRequest(id=ref),
                                   f"fetch launch plan {ref.name!r} version {ref.version!r}")
            plans[_key(ref)] = launch_plan_pb2.LaunchPlan(id=plan.id, spec=plan.spec)
            queue.append(conn.admin.call(
                "GetWorkflow", common_pb2.ObjectGetRequest(id=plan.spec.workflow_id),
                f"fetch workflow {plan.spec.workflow_id.name!r}"))
    return list(tasks.values()), list(workflows.values()), list(plans.values())


def fetch_remote_run(conn, ident) -> RemoteRun:
    """Everything `ident` (a core.WorkflowExecutionIdentifier) ran, with its inputs/outputs."""
    kind, entity = _target(conn, get_execution(conn, ident))
    inputs, outputs = execution_data(conn, ident)
    templates, workflows, plans = _gather(conn, kind, entity)
    return RemoteRun(ident, kind, entity, inputs, outputs, templates, workflows, plans)


def remote_node_outputs(conn, ident) -> dict:
    """{top-level node id: outputs} of every node the admin keeps data for."""
    outputs, token = {}, ""
    while True:
        page = conn.admin.call("ListNodeExecutions", node_execution_pb2.NodeExecutionListRequest(
            workflow_execution_id=ident, limit=200, token=token),
            f"list the nodes of execution {ident.name!r}")
        for node in page.node_executions:
            if node.id.node_id in ("start-node", "end-node"):
                continue
            data = conn.admin.call("GetNodeExecutionData",
                                   node_execution_pb2.NodeExecutionGetDataRequest(id=node.id),
                                   f"get the outputs of node {node.id.node_id!r}",
                                   allow=(grpc.StatusCode.NOT_FOUND,))
            if isinstance(data, grpc.RpcError):
                continue  # an admin may keep no data for subworkflow or launch plan nodes
            outputs[node.id.node_id] = literal_map(conn, data.full_outputs, data.outputs)
        if not page.token or not page.node_executions:
            return outputs
        token = page.token

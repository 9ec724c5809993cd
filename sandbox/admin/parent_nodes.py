"""Subworkflow and launch plan nodes, which the engine inlines (their nodes are stored as
"<node>-<inner id>"), summarised for clients that expect one node execution per node."""
from __future__ import annotations

from flyteidl.admin import launch_plan_pb2, workflow_pb2
from flyteidl.core import literals_pb2

from sandbox.admin import convert
from sandbox.registry import LAUNCH_PLAN, WORKFLOW
from sandbox.store.records import NodeRecord
from sdk.errors import SkiffError


def parent_row(execution_id: str, node_id: str, rows):
    """A stand-in row (id 0: not stored) for an inlined subworkflow or launch plan node, from
    its inner rows:
    failed when one failed, succeeded when all did, running once one started."""
    inner = [r for r in rows if r.node_id.startswith(node_id + "-")]
    if not inner:
        return None
    states = {r.state for r in inner}
    if "failed" in states:
        state = "failed"
    elif states <= {"succeeded", "cached", "skipped"}:
        state = "succeeded"
    elif states == {"queued"}:
        state = "queued"
    else:
        state = "running"
    starts = [convert.as_datetime(r.started_at) for r in inner if r.started_at]
    ends = [convert.as_datetime(r.ended_at) for r in inner if r.ended_at]
    failed = next((r for r in inner if r.state == "failed"), None)
    return NodeRecord(
        id=0, execution_id=execution_id, node_id=node_id, task=None, state=state, attempt=0,
        user_failures=0, system_failures=0, input_uri=None, output_uri=None, outputs=None,
        error=f"{failed.node_id}: {failed.error}" if failed else None, container_id=None,
        logs=None, started_at=min(starts) if starts else None,
        ended_at=max(ends) if ends and state in ("succeeded", "failed") else None,
        duration=None)


def _outputs_by_node(rows, prefix: str = "") -> dict[str, literals_pb2.LiteralMap]:
    """Inner node id -> outputs of the completed rows directly under `prefix`."""
    found = {}
    for row in rows:
        if row.outputs is None or not row.node_id.startswith(prefix):
            continue
        inner = row.node_id[len(prefix):]
        if "-" not in inner:
            found[inner] = literals_pb2.LiteralMap.FromString(row.outputs)
    return found


def _called_template(store, record, spec_node, sub_workflows):
    """The template a workflow node runs: its subworkflow, or its launch plan's workflow."""
    ref = spec_node.workflow_node
    if ref.WhichOneof("reference") == "sub_workflow_ref":
        wanted = ref.sub_workflow_ref
        return next((t for t in sub_workflows if t.id.name == wanted.name), None)
    lp_id = ref.launchplan_ref
    data = store.entity_spec(LAUNCH_PLAN, lp_id.project or record.project,
                             lp_id.domain or record.domain, lp_id.name, lp_id.version or None)
    if data is None:
        return None
    wf_id = launch_plan_pb2.LaunchPlan.FromString(data).spec.workflow_id
    data = store.entity_spec(WORKFLOW, wf_id.project, wf_id.domain, wf_id.name,
                             wf_id.version or None)
    return workflow_pb2.WorkflowSpec.FromString(data).template if data else None


def parent_data(store, record, template, node_id: str):
    """(inputs, outputs) of a top-level subworkflow or launch plan node, bound as the engine
    bound them; (None, None) when they cannot be bound from what is recorded."""
    from sandbox.engine.bindings import resolve_all

    if template is None or node_id not in {n.id for n in template.nodes}:
        return None, None
    rows = store.nodes(record.id)
    workflow_inputs = literals_pb2.LiteralMap.FromString(record.inputs or b"")
    data = store.entity_spec(WORKFLOW, record.project, record.domain, record.workflow,
                             record.version)
    sub_workflows = workflow_pb2.WorkflowSpec.FromString(data).sub_workflows if data else []
    node_outputs = _outputs_by_node(rows)
    # Template order is a topological order: each workflow node's inputs are bound from nodes
    # before it, including earlier inlined ones whose outputs are bound here first.
    for spec_node in template.nodes:
        if spec_node.WhichOneof("target") != "workflow_node":
            continue
        try:
            inputs = resolve_all(spec_node.inputs, workflow_inputs, node_outputs,
                                 f"node {spec_node.id!r}")
        except SkiffError:
            inputs = None
        outputs = None
        called = _called_template(store, record, spec_node, sub_workflows)
        if inputs is not None and called is not None:
            try:
                outputs = resolve_all(called.outputs, inputs,
                                      _outputs_by_node(rows, spec_node.id + "-"),
                                      f"node {spec_node.id!r} outputs")
            except SkiffError:
                outputs = None
        if spec_node.id == node_id:
            return inputs, outputs
        if outputs is not None:
            node_outputs[spec_node.id] = outputs
    return None, None

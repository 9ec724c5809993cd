"""A compiled workflow closure, as Flyte admin returns it for a registered workflow.

Pure IDL in, pure IDL out (no user code), so the sandbox's admin can serve what flytekit's
FlyteRemote expects. Following Flyte's compiler: the template gains a `start-node` (the
workflow inputs) and an `end-node` (bound to the workflow outputs); promises to the workflow
inputs name `start-node`; connections list each node's upstream and downstream ids, sorted,
and a node with no upstream hangs off `start-node`, one with no downstream feeds `end-node`.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from flyteidl.admin import workflow_pb2 as admin_workflow_pb2
from flyteidl.core import compiler_pb2, literals_pb2, tasks_pb2, workflow_pb2

from sdk.compile.idl_walk import binding_promises, child_nodes, nested_nodes, template_nodes

START_NODE = "start-node"
END_NODE = "end-node"


def _bind_to_start_node(bindings: Iterable[literals_pb2.Binding]) -> set[str]:
    """Rewrite promises to the workflow inputs to name start-node; return the nodes referenced."""
    sources: set[str] = set()
    for binding in bindings:
        for data in binding_promises(binding.binding):
            if not data.promise.node_id:
                data.promise.node_id = START_NODE
            sources.add(data.promise.node_id)
    return sources


def compile_workflow(template: workflow_pb2.WorkflowTemplate) -> compiler_pb2.CompiledWorkflow:
    compiled = workflow_pb2.WorkflowTemplate()
    compiled.CopyFrom(template)
    del compiled.nodes[:]
    compiled.nodes.add(id=START_NODE)
    end = compiled.nodes.add(id=END_NODE)
    end.inputs.extend(template.outputs)

    upstream: dict[str, set[str]] = {}
    for original in template.nodes:
        node = compiled.nodes.add()
        node.CopyFrom(original)
        upstream[node.id] = set(node.upstream_node_ids) | _bind_to_start_node(node.inputs)
        # As Flyte's compiler: a branch waits also for what its cases read (flytekit lists only
        # what the conditions read), and nested nodes name the start node too.
        for inner in nested_nodes(child_nodes(node)):
            upstream[node.id] |= _bind_to_start_node(inner.inputs)
    if compiled.HasField("failure_node"):
        _bind_to_start_node(compiled.failure_node.inputs)
    _bind_to_start_node(compiled.outputs)
    ends = _bind_to_start_node(end.inputs)

    downstream: dict[str, set[str]] = {}
    for node_id, sources in upstream.items():
        for source in sources:
            downstream.setdefault(source, set()).add(node_id)
    for source in ends:
        downstream.setdefault(source, set()).add(END_NODE)
    for node_id in list(upstream):
        if not upstream[node_id]:
            upstream[node_id].add(START_NODE)
            downstream.setdefault(START_NODE, set()).add(node_id)
        if not downstream.get(node_id):
            ends.add(node_id)
            downstream.setdefault(node_id, set()).add(END_NODE)
    if ends:
        upstream[END_NODE] = ends

    connections = compiler_pb2.ConnectionSet()
    for node_id, ids in upstream.items():
        connections.upstream[node_id].ids.extend(sorted(ids))
    for node_id, ids in downstream.items():
        connections.downstream[node_id].ids.extend(sorted(ids))
    return compiler_pb2.CompiledWorkflow(template=compiled, connections=connections)


def compile_closure(
    spec: admin_workflow_pb2.WorkflowSpec, tasks: Mapping[str, tasks_pb2.TaskTemplate]
) -> compiler_pb2.CompiledWorkflowClosure:
    """The closure of a workflow spec; `tasks` maps task names to templates (extra ones are ignored)."""
    templates = [spec.template, *spec.sub_workflows]
    used = sorted({node.task_node.reference_id.name for t in templates for node in template_nodes(t)
                   if node.WhichOneof("target") == "task_node"})
    return compiler_pb2.CompiledWorkflowClosure(
        primary=compile_workflow(spec.template),
        sub_workflows=[compile_workflow(sub) for sub in spec.sub_workflows],
        tasks=[compiler_pb2.CompiledTask(template=tasks[name]) for name in used if name in tasks],
    )

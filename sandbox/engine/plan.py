"""The DAG an execution walks: nodes, their dependencies, and the task each node runs.

Built from registered specs only. A lone task is wrapped in a one-node workflow so that
`skiff run` of a task goes through the same engine path.
"""
from __future__ import annotations

import dataclasses

from flyteidl.core import identifier_pb2, interface_pb2, literals_pb2, workflow_pb2

from sandbox.registry import TASK, get_spec
from sdk.errors import SandboxError

START_NODE = "start-node"
END_NODE = "end-node"
# flytekit binds workflow inputs to node id "" (its GLOBAL_INPUT_NODE_ID); admin reads it as
# the start node, and so do we.
WORKFLOW_INPUT_NODES = (START_NODE, "")


@dataclasses.dataclass
class Plan:
    workflow_name: str
    interface: interface_pb2.TypedInterface
    nodes: dict[str, workflow_pb2.Node]  # in template order, start/end excluded
    upstream: dict[str, set[str]]
    tasks: dict[str, object]  # node id -> core.TaskTemplate
    outputs: list[literals_pb2.Binding]


def _promise_sources(binding_data: literals_pb2.BindingData, into: set[str]) -> None:
    kind = binding_data.WhichOneof("value")
    if kind == "promise":
        into.add(binding_data.promise.node_id)
    elif kind == "collection":
        for item in binding_data.collection.bindings:
            _promise_sources(item, into)
    elif kind == "map":
        for item in binding_data.map.bindings.values():
            _promise_sources(item, into)


def _task_key(ref: identifier_pb2.Identifier) -> tuple:
    return (ref.project, ref.domain, ref.name, ref.version)


def plan_workflow(store, template: workflow_pb2.WorkflowTemplate) -> Plan:
    nodes: dict[str, workflow_pb2.Node] = {}
    upstream: dict[str, set[str]] = {}
    tasks: dict[str, object] = {}
    loaded: dict[tuple, object] = {}
    for node in template.nodes:
        if node.id in (START_NODE, END_NODE):
            continue
        target = node.WhichOneof("target")
        if target != "task_node":
            raise SandboxError(
                f"workflow {template.id.name!r} node {node.id!r} is a {target}; the sandbox "
                "engine runs task nodes only so far; run this workflow on a Flyte cluster")
        ref = node.task_node.reference_id
        key = _task_key(ref)
        if key not in loaded:
            loaded[key] = get_spec(store, TASK, ref.project, ref.domain, ref.name,
                                   ref.version or None).template
        tasks[node.id] = loaded[key]
        deps = set(node.upstream_node_ids)
        for binding in node.inputs:
            _promise_sources(binding.binding, deps)
        deps.difference_update(WORKFLOW_INPUT_NODES)
        nodes[node.id] = node
        upstream[node.id] = deps
    for node_id, deps in upstream.items():
        unknown = deps - nodes.keys()
        if unknown:
            raise SandboxError(f"workflow {template.id.name!r} node {node_id!r} depends on "
                               f"unknown node(s) {sorted(unknown)}; recompile the workflow")
    return Plan(template.id.name, template.interface, nodes, upstream, tasks,
                list(template.outputs))


def plan_task(task_template) -> Plan:
    """A one-node plan running `task_template` with the execution's inputs."""
    node = workflow_pb2.Node(id="n0")
    node.task_node.reference_id.CopyFrom(task_template.id)
    for name in task_template.interface.inputs.variables:
        binding = node.inputs.add(var=name)
        binding.binding.promise.node_id = START_NODE
        binding.binding.promise.var = name
    outputs = []
    for name in task_template.interface.outputs.variables:
        binding = literals_pb2.Binding(var=name)
        binding.binding.promise.node_id = "n0"
        binding.binding.promise.var = name
        outputs.append(binding)
    return Plan(task_template.id.name, task_template.interface, {"n0": node}, {"n0": set()},
                {"n0": task_template}, outputs)

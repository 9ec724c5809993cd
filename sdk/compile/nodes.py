"""Traced nodes -> core.Node, one function per node kind, laid out as flytekit 1.16 writes them."""
from __future__ import annotations

from typing import Any

from flyteidl.core import literals_pb2, workflow_pb2

from sdk.authoring.condition import BranchEntity
from sdk.authoring.gates import Gate
from sdk.authoring.launch_plan import LaunchPlan
from sdk.authoring.map_task import MapTask
from sdk.authoring.overrides import NodeOverrides
from sdk.authoring.task import PythonFunctionTask
from sdk.authoring.tracing import Node
from sdk.compile.bindings import binding
from sdk.compile.conditions import boolean_expression
from sdk.compile.identifiers import launch_plan_identifier, task_identifier, workflow_identifier
from sdk.compile.task_spec import node_metadata, resource_entries
from sdk.errors import CompileError


def _bindings(node: Node) -> list[literals_pb2.Binding]:
    where = node.where()
    inputs = node.entity.interface.inputs
    return [binding(where, name, node.bindings[name], inputs[name]) for name in sorted(node.bindings)]


def _apply_metadata_overrides(metadata: workflow_pb2.NodeMetadata, overrides: NodeOverrides) -> None:
    if overrides.name is not None:
        metadata.name = overrides.name
    if overrides.timeout is not None:
        metadata.timeout.FromTimedelta(overrides.timeout)
    if overrides.retries is not None:
        metadata.retries.retries = overrides.retries
    if overrides.interruptible is not None:
        metadata.interruptible = overrides.interruptible
    if overrides.cache is not None:
        metadata.cacheable = overrides.cache
    if overrides.cache_version is not None:
        metadata.cache_version = overrides.cache_version
    if overrides.cache_serialize is not None:
        metadata.cache_serializable = overrides.cache_serialize


def _task_node_overrides(overrides: NodeOverrides) -> workflow_pb2.TaskNodeOverrides:
    out = workflow_pb2.TaskNodeOverrides()
    if overrides.has_resources:
        from sdk.authoring.resources import Resources

        out.resources.requests.extend(resource_entries(overrides.requests or Resources()))
        out.resources.limits.extend(resource_entries(overrides.limits or Resources()))
    if overrides.container_image is not None:
        out.container_image = overrides.container_image
    return out


def _workflow_node_metadata(workflow: Any) -> workflow_pb2.NodeMetadata:
    # As flytekit: named after the workflow (also for a launch plan), no retries, not interruptible.
    return workflow_pb2.NodeMetadata(name=workflow.short_name, retries=literals_pb2.RetryStrategy(), interruptible=False)


def _base(node: Node) -> workflow_pb2.Node:
    return workflow_pb2.Node(id=node.id, inputs=_bindings(node), upstream_node_ids=node.upstream_ids)


def _task_node(node: Node) -> workflow_pb2.Node:
    out = _base(node)
    out.metadata.CopyFrom(node_metadata(node.short_name, node.entity))
    _apply_metadata_overrides(out.metadata, node.overrides)
    out.task_node.reference_id.CopyFrom(task_identifier(node.entity.name))
    out.task_node.overrides.CopyFrom(_task_node_overrides(node.overrides))
    return out


def _array_node(node: Node) -> workflow_pb2.Node:
    """flytekit's ArrayNode map task: the outer node names the map task; the inner node runs it."""
    mapped: MapTask = node.entity
    out = _base(node)
    out.metadata.CopyFrom(workflow_pb2.NodeMetadata(name=mapped.name, retries=literals_pb2.RetryStrategy()))
    inner = workflow_pb2.Node(id=mapped.name, inputs=_bindings(node))
    inner.metadata.CopyFrom(node_metadata(mapped.name, mapped.task))
    # Overrides on a map task's node change what each item runs with, as in flytekit.
    _apply_metadata_overrides(inner.metadata, node.overrides)
    inner.task_node.reference_id.CopyFrom(task_identifier(mapped.name))
    inner.task_node.overrides.CopyFrom(_task_node_overrides(node.overrides))
    array = out.array_node
    array.node.CopyFrom(inner)
    if mapped.concurrency is not None:
        array.parallelism = mapped.concurrency
    if mapped.min_successes is not None:
        array.min_successes = mapped.min_successes
    elif mapped.min_success_ratio is not None:
        array.min_success_ratio = mapped.min_success_ratio
    array.execution_mode = workflow_pb2.ArrayNode.MINIMAL_STATE
    array.bound_inputs.extend(mapped.bound_inputs)
    array.is_original_sub_node_interface.value = False
    return out


def _branch_node(node: Node) -> workflow_pb2.Node:
    branch: BranchEntity = node.entity
    where = f"workflow {node.workflow_name}, conditional '{branch.name}' (node {node.id})"
    out = _base(node)
    out.metadata.CopyFrom(workflow_pb2.NodeMetadata(name=branch.name, retries=literals_pb2.RetryStrategy()))
    if not node.overrides.is_empty():
        _apply_metadata_overrides(out.metadata, node.overrides)
    if_else = out.branch_node.if_else
    first, *middle, last = branch.cases
    if_else.case.condition.CopyFrom(boolean_expression(where, first.condition))
    if_else.case.then_node.CopyFrom(compile_node(first.node))
    for case in middle:
        block = if_else.other.add()
        block.condition.CopyFrom(boolean_expression(where, case.condition))
        block.then_node.CopyFrom(compile_node(case.node))
    if last.error is not None:
        if_else.error.failed_node_id = branch.name
        if_else.error.message = last.error
    else:
        if_else.else_node.CopyFrom(compile_node(last.node))
    return out


def _gate_node(node: Node) -> workflow_pb2.Node:
    gate: Gate = node.entity
    out = _base(node)
    out.metadata.CopyFrom(workflow_pb2.NodeMetadata(name=gate.name, retries=literals_pb2.RetryStrategy()))
    out.metadata.timeout.FromTimedelta(gate.timeout)
    _apply_metadata_overrides(out.metadata, node.overrides)
    if gate.kind == "sleep":
        out.gate_node.sleep.duration.FromTimedelta(gate.duration)
    elif gate.kind == "signal":
        from sdk.compile.types_bridge import literal_type

        signal = out.gate_node.signal
        signal.signal_id = gate.name
        signal.type.CopyFrom(literal_type(node.where(), "o0", gate.expected_type))
        signal.output_variable_name = "o0"
    else:
        out.gate_node.approve.signal_id = gate.name
    return out


def _workflow_node(node: Node) -> workflow_pb2.Node:
    entity = node.entity
    out = _base(node)
    if isinstance(entity, LaunchPlan):
        out.metadata.CopyFrom(_workflow_node_metadata(entity.workflow))
        out.workflow_node.launchplan_ref.CopyFrom(launch_plan_identifier(entity.name))
    else:
        out.metadata.CopyFrom(_workflow_node_metadata(entity))
        out.workflow_node.sub_workflow_ref.CopyFrom(workflow_identifier(entity.name))
    _apply_metadata_overrides(out.metadata, node.overrides)
    if node.overrides.has_resources or node.overrides.container_image is not None:
        raise CompileError(
            f"{node.where()}: resources and container_image can be overridden on task nodes only"
        )
    return out


def compile_node(node: Node) -> workflow_pb2.Node:
    entity = node.entity
    if isinstance(entity, PythonFunctionTask):
        return _task_node(node)
    if isinstance(entity, MapTask):
        return _array_node(node)
    if isinstance(entity, BranchEntity):
        return _branch_node(node)
    if isinstance(entity, Gate):
        return _gate_node(node)
    return _workflow_node(node)

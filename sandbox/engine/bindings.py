"""Turning a node's input bindings into the LiteralMap its task receives."""
from __future__ import annotations

from flyteidl.core import literals_pb2

from sandbox.engine import attr_path
from sandbox.engine.plan import WORKFLOW_INPUT_NODES
from sdk.errors import SandboxError


def resolve(binding_data: literals_pb2.BindingData, workflow_inputs, node_outputs,
            where: str) -> literals_pb2.Literal:
    """`node_outputs`: node id -> LiteralMap of nodes that completed."""
    kind = binding_data.WhichOneof("value")
    if kind == "scalar":
        return literals_pb2.Literal(scalar=binding_data.scalar)
    if kind == "promise":
        ref = binding_data.promise
        from_workflow = ref.node_id in WORKFLOW_INPUT_NODES
        source = workflow_inputs if from_workflow else node_outputs.get(ref.node_id)
        if source is None or ref.var not in source.literals:
            origin = "workflow input" if from_workflow else f"node {ref.node_id!r} output"
            raise SandboxError(f"{where}: {origin} {ref.var!r} has no value; provide it "
                               "or check the workflow's bindings")
        literal = source.literals[ref.var]
        if ref.attr_path:
            literal = attr_path.follow(literal, ref.attr_path, where)
        return literal
    if kind == "collection":
        items = [resolve(b, workflow_inputs, node_outputs, where)
                 for b in binding_data.collection.bindings]
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))
    if kind == "map":
        items = {k: resolve(b, workflow_inputs, node_outputs, where)
                 for k, b in binding_data.map.bindings.items()}
        return literals_pb2.Literal(map=literals_pb2.LiteralMap(literals=items))
    raise SandboxError(f"{where}: binding kind {kind!r} is not supported by the sandbox")


def resolve_all(bindings, workflow_inputs, node_outputs, where: str) -> literals_pb2.LiteralMap:
    result = literals_pb2.LiteralMap()
    for binding in bindings:
        result.literals[binding.var].CopyFrom(
            resolve(binding.binding, workflow_inputs, node_outputs,
                    f"{where} input {binding.var!r}"))
    return result

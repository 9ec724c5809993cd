"""Walking compiled IDL: the promises inside a binding and the nodes nested in a workflow.

Pure flyteidl, no user code, so the sandbox and the remote client use it as the compiler does.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from flyteidl.core import literals_pb2, workflow_pb2


def binding_promises(data: literals_pb2.BindingData) -> Iterator[literals_pb2.BindingData]:
    """Every BindingData holding a promise, also inside collections and maps."""
    kind = data.WhichOneof("value")
    if kind == "promise":
        yield data
    elif kind == "collection":
        for item in data.collection.bindings:
            yield from binding_promises(item)
    elif kind == "map":
        for item in data.map.bindings.values():
            yield from binding_promises(item)


def child_nodes(node: workflow_pb2.Node) -> Iterator[workflow_pb2.Node]:
    """Nodes nested directly in an array node or in a branch's cases."""
    kind = node.WhichOneof("target")
    if kind == "array_node":
        yield node.array_node.node
    elif kind == "branch_node":
        if_else = node.branch_node.if_else
        for block in [if_else.case, *if_else.other]:
            yield block.then_node
        if if_else.HasField("else_node"):
            yield if_else.else_node


def nested_nodes(nodes: Iterable[workflow_pb2.Node]) -> Iterator[workflow_pb2.Node]:
    """Each node and, depth first, every node nested in it."""
    for node in nodes:
        yield node
        yield from nested_nodes(child_nodes(node))


def template_nodes(template: workflow_pb2.WorkflowTemplate) -> Iterator[workflow_pb2.Node]:
    """All nodes of a workflow template, its failure node and nested nodes included."""
    nodes = list(template.nodes)
    if template.HasField("failure_node"):
        nodes.append(template.failure_node)
    return nested_nodes(nodes)

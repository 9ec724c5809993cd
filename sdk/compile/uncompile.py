"""Un-compiling a closure: the WorkflowSpec that was registered, from the compiled closure an
admin returns (admin.WorkflowClosure.compiled_workflow).

Flyte's compiler adds `start-node`/`end-node` to a workflow template and renames promises to
the workflow inputs to `start-node`; undoing exactly that gives back the registered
WorkflowSpec (flytekit writes those promises with an empty node id). The inverse of
sdk.compile.closure, used by promotion, registration checks and reproduction.
"""
from __future__ import annotations

from flyteidl.admin import workflow_pb2 as admin_workflow_pb2
from flyteidl.core import workflow_pb2

from sdk.compile.closure import END_NODE, START_NODE
from sdk.compile.idl_walk import binding_promises, child_nodes, template_nodes


def _unprefix_branches(node) -> None:
    """Undo the compiler's renaming of a branch's case nodes to `<branch id>-<node id>`
    (propeller's branchNodeIDFormatter), for nested branches too."""
    if node.WhichOneof("target") != "branch_node":
        return
    prefix = node.id + "-"
    for child in child_nodes(node):
        _unprefix_branches(child)  # inner prefixes are built on the compiled child id
        if child.id.startswith(prefix):
            child.id = child.id[len(prefix):]


def _uncompile(template) -> workflow_pb2.WorkflowTemplate:
    plain = workflow_pb2.WorkflowTemplate()
    plain.CopyFrom(template)
    del plain.nodes[:]
    for node in template.nodes:
        if node.id not in (START_NODE, END_NODE):
            copy = plain.nodes.add()
            copy.CopyFrom(node)
            # Packages never list the start node as upstream; a compiler may.
            kept = [n for n in copy.upstream_node_ids if n != START_NODE]
            if len(kept) != len(copy.upstream_node_ids):
                del copy.upstream_node_ids[:]
                copy.upstream_node_ids.extend(kept)
    for node in [*plain.nodes, *([plain.failure_node] if plain.HasField("failure_node") else [])]:
        _unprefix_branches(node)
    bindings = [b for n in template_nodes(plain) for b in n.inputs] + list(plain.outputs)
    for binding in bindings:
        for data in binding_promises(binding.binding):
            if data.promise.node_id == START_NODE:
                data.promise.node_id = ""
    return plain


def normalize_template(template) -> None:
    """In place: upstream node ids sorted (the compiler sorts them) and promises to the workflow
    inputs without a node id (the compiler names them `start-node`, packages may either way)."""
    for node in template_nodes(template):
        upstream = sorted(node.upstream_node_ids)
        del node.upstream_node_ids[:]
        node.upstream_node_ids.extend(upstream)
    bindings = [b for n in template_nodes(template) for b in n.inputs] + list(template.outputs)
    for binding in bindings:
        for data in binding_promises(binding.binding):
            if data.promise.node_id == START_NODE:
                data.promise.node_id = ""


def workflow_spec_from_closure(closure) -> admin_workflow_pb2.WorkflowSpec:
    """The WorkflowSpec a compiled closure (admin.WorkflowClosure.compiled_workflow) came from."""
    return admin_workflow_pb2.WorkflowSpec(
        template=_uncompile(closure.primary.template),
        sub_workflows=[_uncompile(sub.template) for sub in closure.sub_workflows])

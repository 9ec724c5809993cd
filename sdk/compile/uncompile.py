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
from sdk.compile.idl_walk import binding_promises, template_nodes


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
    bindings = [b for n in template_nodes(plain) for b in n.inputs] + list(plain.outputs)
    for binding in bindings:
        for data in binding_promises(binding.binding):
            if data.promise.node_id == START_NODE:
                data.promise.node_id = ""
    return plain


def workflow_spec_from_closure(closure) -> admin_workflow_pb2.WorkflowSpec:
    """The WorkflowSpec a compiled closure (admin.WorkflowClosure.compiled_workflow) came from."""
    return admin_workflow_pb2.WorkflowSpec(
        template=_uncompile(closure.primary.template),
        sub_workflows=[_uncompile(sub.template) for sub in closure.sub_workflows])

"""Spec plumbing for the bridge: identifiers, and the registered specs recovered from what an
admin returns (a compiled closure for workflows, a template for tasks).

Flyte's compiler adds `start-node`/`end-node` to a workflow template and renames promises to
the workflow inputs to `start-node`; undoing exactly that gives back the registered
WorkflowSpec (flytekit writes those promises with an empty node id).
"""
from __future__ import annotations

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2 as admin_workflow_pb2
from flyteidl.core import identifier_pb2, workflow_pb2

TASK, WORKFLOW, LAUNCH_PLAN = (identifier_pb2.TASK, identifier_pb2.WORKFLOW,
                               identifier_pb2.LAUNCH_PLAN)
KIND_NAMES = {TASK: "task", WORKFLOW: "workflow", LAUNCH_PLAN: "launch plan"}
_START, _END = "start-node", "end-node"


def describe(ident) -> str:
    return (f"{KIND_NAMES.get(ident.resource_type, 'entity')} {ident.name!r} version "
            f"{ident.version!r} in {ident.project}/{ident.domain}")


def spec_id(kind: int, spec):
    return spec.id if kind == LAUNCH_PLAN else spec.template.id


def _promises(binding_data):
    kind = binding_data.WhichOneof("value")
    if kind == "promise":
        yield binding_data.promise
    elif kind == "collection":
        for item in binding_data.collection.bindings:
            yield from _promises(item)
    elif kind == "map":
        for item in binding_data.map.bindings.values():
            yield from _promises(item)


def child_nodes(node):
    """Nodes nested in an array node or in a branch's cases."""
    kind = node.WhichOneof("target")
    if kind == "array_node":
        yield node.array_node.node
    elif kind == "branch_node":
        if_else = node.branch_node.if_else
        for block in [if_else.case, *if_else.other]:
            yield block.then_node
        if if_else.HasField("else_node"):
            yield if_else.else_node


def _all_nodes(template):
    stack = list(template.nodes)
    if template.HasField("failure_node"):
        stack.append(template.failure_node)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(child_nodes(node))


def _uncompile(template) -> workflow_pb2.WorkflowTemplate:
    plain = workflow_pb2.WorkflowTemplate()
    plain.CopyFrom(template)
    del plain.nodes[:]
    for node in template.nodes:
        if node.id not in (_START, _END):
            copy = plain.nodes.add()
            copy.CopyFrom(node)
            # Packages never list the start node as upstream; a compiler may.
            kept = [n for n in copy.upstream_node_ids if n != _START]
            if len(kept) != len(copy.upstream_node_ids):
                del copy.upstream_node_ids[:]
                copy.upstream_node_ids.extend(kept)
    bindings = [b for n in _all_nodes(plain) for b in n.inputs] + list(plain.outputs)
    for binding in bindings:
        for promise in _promises(binding.binding):
            if promise.node_id == _START:
                promise.node_id = ""
    return plain


def workflow_spec_from_closure(closure) -> admin_workflow_pb2.WorkflowSpec:
    """The WorkflowSpec a compiled closure (admin.WorkflowClosure.compiled_workflow) came from."""
    return admin_workflow_pb2.WorkflowSpec(
        template=_uncompile(closure.primary.template),
        sub_workflows=[_uncompile(sub.template) for sub in closure.sub_workflows])


def _identifiers(kind: int, spec):
    """Every identifier inside a spec: its own and each reference to another entity."""
    yield spec_id(kind, spec)
    if kind == LAUNCH_PLAN:
        yield spec.spec.workflow_id
    elif kind == WORKFLOW:
        for template in [spec.template, *spec.sub_workflows]:
            if template is not spec.template:
                yield template.id
            for node in _all_nodes(template):
                target = node.WhichOneof("target")
                if target == "task_node":
                    yield node.task_node.reference_id
                elif target == "workflow_node":
                    yield getattr(node.workflow_node, node.workflow_node.WhichOneof("reference"))


def with_domain(kind: int, spec, source: str, target: str):
    """A copy of `spec` whose identifiers in domain `source` are moved to `target`."""
    copy = type(spec).FromString(spec.SerializeToString())
    for ident in _identifiers(kind, copy):
        if ident.domain == source:
            ident.domain = target
    return copy


def without_identifiers(kind: int, spec):
    """A copy with project, domain and version cleared everywhere (as in a package), and the
    code bundle location left as is: what "unchanged apart from identifiers" compares."""
    copy = type(spec).FromString(spec.SerializeToString())
    for ident in _identifiers(kind, copy):
        ident.project = ident.domain = ident.version = ""
    return copy


def parse_spec(kind: int, data: bytes):
    message = {TASK: task_pb2.TaskSpec, WORKFLOW: admin_workflow_pb2.WorkflowSpec,
               LAUNCH_PLAN: launch_plan_pb2.LaunchPlan}[kind]()
    message.ParseFromString(data)
    return message

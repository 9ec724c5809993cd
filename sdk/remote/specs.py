"""Spec plumbing for the bridge: identifiers, and the registered specs recovered from what an
admin returns (a compiled closure for workflows, a template for tasks).

Flyte's compiler adds `start-node`/`end-node` to a workflow template and renames promises to
the workflow inputs to `start-node`; undoing exactly that gives back the registered
WorkflowSpec (flytekit writes those promises with an empty node id).
"""
from __future__ import annotations

from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2 as admin_workflow_pb2
from flyteidl.core import identifier_pb2, workflow_pb2

from sdk.compile.idl_walk import binding_promises, child_nodes, template_nodes

TASK, WORKFLOW, LAUNCH_PLAN = (identifier_pb2.TASK, identifier_pb2.WORKFLOW,
                               identifier_pb2.LAUNCH_PLAN)
KIND_NAMES = {TASK: "task", WORKFLOW: "workflow", LAUNCH_PLAN: "launch plan"}
_START, _END = "start-node", "end-node"


def describe(ident) -> str:
    return (f"{KIND_NAMES.get(ident.resource_type, 'entity')} {ident.name!r} version "
            f"{ident.version!r} in {ident.project}/{ident.domain}")


def spec_id(kind: int, spec):
    return spec.id if kind == LAUNCH_PLAN else spec.template.id


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
        if node.id not in (_START, _END):
            copy = plain.nodes.add()
            copy.CopyFrom(node)
            # Packages never list the start node as upstream; a compiler may.
            kept = [n for n in copy.upstream_node_ids if n != _START]
            if len(kept) != len(copy.upstream_node_ids):
                del copy.upstream_node_ids[:]
                copy.upstream_node_ids.extend(kept)
    for node in [*plain.nodes, *([plain.failure_node] if plain.HasField("failure_node") else [])]:
        _unprefix_branches(node)
    bindings = [b for n in template_nodes(plain) for b in n.inputs] + list(plain.outputs)
    for binding in bindings:
        for data in binding_promises(binding.binding):
            if data.promise.node_id == _START:
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
            if data.promise.node_id == _START:
                data.promise.node_id = ""


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
            for node in template_nodes(template):
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

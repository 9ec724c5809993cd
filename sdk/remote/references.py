"""What each entity of a package references, checked before anything is registered.

flyteadmin compiles a workflow against the tasks and launch plans it already holds and against
the subworkflows its spec carries, and a launch plan against its registered workflow; an entity
it cannot find is refused at that entity, after everything before it was created. Checking every
reference against the package and the admin first refuses such a package whole, with one
message naming the entity and node, and gives the order to create entities in: what an entity
references before it.
"""
from __future__ import annotations

import grpc
from flyteidl.admin import common_pb2

from sdk.compile.idl_walk import template_nodes
from sdk.remote.errors import RemoteError
from sdk.remote.specs import KIND_NAMES, LAUNCH_PLAN, TASK, WORKFLOW, describe, spec_id


class MissingReference(RemoteError):
    """An entity references something neither the package nor the admin holds."""


def _key(ident) -> tuple:
    return (ident.resource_type, ident.project, ident.domain, ident.name, ident.version)


def references(kind: int, spec) -> list[tuple[str, object]]:
    """(where, identifier) of every task, launch plan and subworkflow `spec` references; `where`
    names the workflow and node for messages."""
    if kind == LAUNCH_PLAN:
        return [(f"launch plan {spec.id.name!r}", spec.spec.workflow_id)]
    if kind != WORKFLOW:
        return []
    found = []
    for template in [spec.template, *spec.sub_workflows]:
        for node in template_nodes(template):
            where = f"workflow {template.id.name!r} node {node.id!r}"
            target = node.WhichOneof("target")
            if target == "task_node":
                found.append((where, node.task_node.reference_id))
            elif target == "workflow_node":
                reference = node.workflow_node.WhichOneof("reference")
                found.append((where, getattr(node.workflow_node, reference)))
    return found


def _registered(conn, ident) -> bool:
    method = {TASK: "GetTask", WORKFLOW: "GetWorkflow", LAUNCH_PLAN: "GetLaunchPlan"}.get(
        ident.resource_type)
    if method is None:
        return False
    answer = conn.admin.call(method, common_pb2.ObjectGetRequest(id=ident),
                             f"look up {describe(ident)}", allow=(grpc.StatusCode.NOT_FOUND,))
    return not isinstance(answer, grpc.RpcError)


def _kind_of(ident) -> str:
    return KIND_NAMES.get(ident.resource_type, "entity")


def creation_order(conn, hydrated: list) -> list:
    """`hydrated` (kind, spec) pairs reordered so that each comes after what it references in
    the package (package order otherwise). MissingReference, before anything is created, names
    every reference found neither in the package nor registered with the admin."""
    in_package = {_key(spec_id(kind, spec)): (kind, spec) for kind, spec in hydrated}
    missing, checked = [], {}
    for kind, spec in hydrated:
        subworkflows = ({_key(s.id) for s in spec.sub_workflows} if kind == WORKFLOW else set())
        for where, ident in references(kind, spec):
            key = _key(ident)
            if ident.resource_type == WORKFLOW and kind == WORKFLOW:
                # A subworkflow is compiled from the workflow's own spec, never looked up.
                if key not in subworkflows:
                    missing.append(f"{where} calls subworkflow {ident.name!r} that the "
                                   f"workflow's spec does not carry; rebuild the package")
                continue
            if key in in_package:
                continue
            if key not in checked:
                checked[key] = _registered(conn, ident)
            if not checked[key]:
                missing.append(f"{where} references {_kind_of(ident)} {ident.name!r} version "
                               f"{ident.version!r}, which is neither in the package nor "
                               f"registered in {ident.project}/{ident.domain}")
    if missing:
        raise MissingReference(
            f"{'; '.join(missing)}: nothing was registered; add it to the package or register it "
            f"first")
    ordered, placed = [], set()

    def place(kind, spec, trail=()):
        key = _key(spec_id(kind, spec))
        if key in placed or key in trail:  # a cycle is the admin's to refuse
            return
        for _where, ident in references(kind, spec):
            target = in_package.get(_key(ident))
            if target is not None and not (kind == WORKFLOW and ident.resource_type == WORKFLOW):
                place(*target, trail=(*trail, key))
        placed.add(key)
        ordered.append((kind, spec))

    for kind, spec in hydrated:
        place(kind, spec)
    return ordered

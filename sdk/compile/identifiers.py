"""Identifiers in specs: the entity kinds, a new core.Identifier per kind (resource type and
name; project, domain and version left empty for registration to fill), the identifier a spec
carries and every identifier inside it. Registration, promotion, reproduction and the admin
all find identifiers through here."""
from __future__ import annotations

from typing import Iterator

from flyteidl.core import identifier_pb2

from sdk.compile.idl_walk import template_nodes

# core.ResourceType values: a package's `<n>_<name>_<kind>.pb` entries use the same numbers.
TASK, WORKFLOW, LAUNCH_PLAN = identifier_pb2.TASK, identifier_pb2.WORKFLOW, identifier_pb2.LAUNCH_PLAN
KIND_NAMES = {TASK: "task", WORKFLOW: "workflow", LAUNCH_PLAN: "launch plan"}


def kind_name(kind: int) -> str:
    return KIND_NAMES.get(kind, f"kind {kind}")


def task_identifier(name: str) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(resource_type=identifier_pb2.TASK, name=name)


def workflow_identifier(name: str) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(resource_type=identifier_pb2.WORKFLOW, name=name)


def launch_plan_identifier(name: str) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(resource_type=identifier_pb2.LAUNCH_PLAN, name=name)


def spec_identifier(kind: int, spec) -> identifier_pb2.Identifier:
    """The identifier message of an admin.TaskSpec, admin.WorkflowSpec or admin.LaunchPlan
    (mutable: registration fills it in)."""
    return spec.id if kind == LAUNCH_PLAN else spec.template.id


def spec_identifiers(kind: int, spec) -> Iterator[identifier_pb2.Identifier]:
    """Every identifier inside a spec (mutable): its own, its subworkflows', and each reference
    to another entity, in nodes nested in branches, array nodes and failure nodes too."""
    yield spec_identifier(kind, spec)
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

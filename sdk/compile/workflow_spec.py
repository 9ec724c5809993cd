"""A traced WorkflowEntity -> admin.WorkflowSpec (template plus the subworkflows it calls).

Bindings to the workflow's own inputs carry an empty node id, as flytekit writes them; Flyte's
compiler reads that as its start node. The compiled graph's end node is the template's outputs.
"""
from __future__ import annotations

from typing import Any

from flyteidl.admin import workflow_pb2 as admin_workflow_pb2
from flyteidl.core import identifier_pb2, literals_pb2, workflow_pb2

from sdk.authoring.launch_plan import LaunchPlan
from sdk.authoring.task import PythonFunctionTask
from sdk.authoring.tracing import Node
from sdk.authoring.workflow import WorkflowEntity
from sdk.compile.bindings import binding
from sdk.compile.interfaces import typed_interface
from sdk.compile.task_spec import description, node_metadata, task_identifier


def workflow_identifier(name: str) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(resource_type=identifier_pb2.WORKFLOW, name=name)


def launch_plan_identifier(name: str) -> identifier_pb2.Identifier:
    return identifier_pb2.Identifier(resource_type=identifier_pb2.LAUNCH_PLAN, name=name)


def _workflow_node_metadata(workflow: WorkflowEntity) -> workflow_pb2.NodeMetadata:
    # As flytekit: named after the workflow (also for a launch plan), no retries, not interruptible.
    return workflow_pb2.NodeMetadata(
        name=workflow.short_name, retries=literals_pb2.RetryStrategy(), interruptible=False
    )


def _node(workflow: WorkflowEntity, node: Node) -> workflow_pb2.Node:
    where = f"workflow {workflow.name}, node {node.id} ({node.entity.name})"
    entity: Any = node.entity
    out = workflow_pb2.Node(
        id=node.id,
        inputs=[binding(where, name, node.bindings[name], entity.interface.inputs[name]) for name in sorted(node.bindings)],
        upstream_node_ids=node.upstream_ids,
    )
    if isinstance(entity, PythonFunctionTask):
        out.metadata.CopyFrom(node_metadata(node.short_name, entity))
        out.task_node.reference_id.CopyFrom(task_identifier(entity.name))
        out.task_node.overrides.SetInParent()
    elif isinstance(entity, LaunchPlan):
        out.metadata.CopyFrom(_workflow_node_metadata(entity.workflow))
        out.workflow_node.launchplan_ref.CopyFrom(launch_plan_identifier(entity.name))
    else:
        out.metadata.CopyFrom(_workflow_node_metadata(entity))
        out.workflow_node.sub_workflow_ref.CopyFrom(workflow_identifier(entity.name))
    return out


def workflow_template(workflow: WorkflowEntity) -> workflow_pb2.WorkflowTemplate:
    where = f"workflow {workflow.name}"
    template = workflow_pb2.WorkflowTemplate(
        id=workflow_identifier(workflow.name),
        interface=typed_interface(where, workflow.interface),
        nodes=[_node(workflow, node) for node in workflow.nodes],
        outputs=[
            binding(where, name, workflow.output_bindings[name], workflow.interface.outputs[name])
            for name in workflow.interface.outputs
        ],
    )
    template.metadata.SetInParent()
    template.metadata_defaults.SetInParent()
    return template


def subworkflows(workflow: WorkflowEntity) -> list[WorkflowEntity]:
    """Every workflow called as a subworkflow, directly or deeper, each once, sorted by name."""
    found: dict[str, WorkflowEntity] = {}

    def visit(current: WorkflowEntity) -> None:
        for node in current.nodes:
            if isinstance(node.entity, WorkflowEntity) and node.entity.name not in found:
                found[node.entity.name] = node.entity
                visit(node.entity)

    visit(workflow)
    return [found[name] for name in sorted(found)]


def workflow_spec(workflow: WorkflowEntity) -> admin_workflow_pb2.WorkflowSpec:
    return admin_workflow_pb2.WorkflowSpec(
        template=workflow_template(workflow),
        sub_workflows=[workflow_template(sub) for sub in subworkflows(workflow)],
        description=description(workflow.interface.docstring),
    )

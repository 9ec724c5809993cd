"""A traced WorkflowEntity -> admin.WorkflowSpec (template plus the subworkflows it calls).

Bindings to the workflow's own inputs carry an empty node id, as flytekit writes them; Flyte's
compiler reads that as its start node. The compiled graph's end node is the template's outputs.
"""
from __future__ import annotations

from typing import Any, Iterator

from flyteidl.admin import workflow_pb2 as admin_workflow_pb2
from flyteidl.core import workflow_pb2

from sdk.authoring.condition import BranchEntity
from sdk.authoring.tracing import Node
from sdk.authoring.workflow import WorkflowEntity
from sdk.compile.bindings import binding
from sdk.compile.identifiers import launch_plan_identifier, workflow_identifier
from sdk.compile.interfaces import typed_interface
from sdk.compile.nodes import compile_node
from sdk.compile.task_spec import description

__all__ = ["launch_plan_identifier", "workflow_identifier", "workflow_template", "workflow_spec", "subworkflows",
           "all_nodes"]  # fmt: skip


def all_nodes(workflow: Any) -> Iterator[Node]:
    """Every node of a workflow: its own, the nodes inside its branches, and its failure node."""

    def walk(node: Node) -> Iterator[Node]:
        yield node
        if isinstance(node.entity, BranchEntity):
            for case in node.entity.cases:
                if case.node is not None:
                    yield from walk(case.node)

    for node in workflow.nodes:
        yield from walk(node)
    if getattr(workflow, "failure_node", None) is not None:
        yield from walk(workflow.failure_node)


def workflow_template(workflow: Any) -> workflow_pb2.WorkflowTemplate:
    where = f"workflow {workflow.name}"
    template = workflow_pb2.WorkflowTemplate(
        id=workflow_identifier(workflow.name),
        interface=typed_interface(where, workflow.interface),
        nodes=[compile_node(node) for node in workflow.nodes],
        outputs=[
            binding(where, name, workflow.output_bindings[name], workflow.interface.outputs[name])
            for name in workflow.interface.outputs
        ],
    )
    template.metadata.SetInParent()
    template.metadata.on_failure = int(getattr(workflow, "failure_policy", 0))
    template.metadata_defaults.SetInParent()
    if getattr(workflow, "failure_node", None) is not None:
        template.failure_node.CopyFrom(compile_node(workflow.failure_node))
    return template


def subworkflows(workflow: Any) -> list[WorkflowEntity]:
    """Every workflow called as a subworkflow, directly or deeper, each once, sorted by name."""
    found: dict[str, WorkflowEntity] = {}

    def visit(current: Any) -> None:
        for node in all_nodes(current):
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

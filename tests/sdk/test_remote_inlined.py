"""Outputs of inlined subworkflow and launch plan nodes, bound from their inner nodes' rows."""
from flyteidl.admin import launch_plan_pb2, workflow_pb2 as admin_workflow_pb2
from flyteidl.core import identifier_pb2, literals_pb2, workflow_pb2

from sdk.remote.inlined import InlinedOutputs
from sdk.types import TypeEngine


def _id(kind, name):
    return identifier_pb2.Identifier(resource_type=kind, project="p", domain="d", name=name,
                                     version="v")


def _outputs(**values):
    out = literals_pb2.LiteralMap()
    for name, value in values.items():
        out.literals[name].CopyFrom(TypeEngine.to_literal(value, type(value)))
    return out


def _binding(var, node, inner_var):
    from flyteidl.core import types_pb2

    return literals_pb2.Binding(var=var, binding=literals_pb2.BindingData(
        promise=types_pb2.OutputReference(node_id=node, var=inner_var)))


def test_launch_plan_and_subworkflow_nodes_bound_from_inner_rows():
    inner = workflow_pb2.WorkflowTemplate(
        id=_id(identifier_pb2.WORKFLOW, "inner"),
        nodes=[workflow_pb2.Node(id="n0"), workflow_pb2.Node(id="n1")],
        outputs=[_binding("o0", "n1", "o0"), _binding("first", "n0", "o0")])
    sub = workflow_pb2.WorkflowTemplate(
        id=_id(identifier_pb2.WORKFLOW, "sub"), nodes=[workflow_pb2.Node(id="n0")],
        outputs=[literals_pb2.Binding(var="both", binding=literals_pb2.BindingData(
            collection=literals_pb2.BindingDataCollection(bindings=[
                _binding("x", "n0", "o0").binding,
                literals_pb2.BindingData(scalar=TypeEngine.to_literal(9, int).scalar)])))])
    plan = launch_plan_pb2.LaunchPlan(id=_id(identifier_pb2.LAUNCH_PLAN, "inner_lp"),
                                      spec=launch_plan_pb2.LaunchPlanSpec(
                                          workflow_id=_id(identifier_pb2.WORKFLOW, "inner")))
    specs = [admin_workflow_pb2.WorkflowSpec(template=inner),
             admin_workflow_pb2.WorkflowSpec(template=sub)]
    rows = {"n0-n0": _outputs(o0=1), "n0-n1": _outputs(o0=2), "n1-n0": _outputs(o0=3)}
    lp_node = workflow_pb2.Node(id="n0", workflow_node=workflow_pb2.WorkflowNode(
        launchplan_ref=plan.id))
    sub_node = workflow_pb2.Node(id="n1", workflow_node=workflow_pb2.WorkflowNode(
        sub_workflow_ref=sub.id))
    inlined = InlinedOutputs(specs, [plan], rows)
    assert inlined.outputs("n0", lp_node) == _outputs(o0=2, first=1)
    both = inlined.outputs("n1", sub_node).literals["both"]
    assert [item.scalar.primitive.integer for item in both.collection.literals] == [3, 9]
    # A node that ran in its own row is read from it; a node not run has no outputs.
    assert inlined.outputs("n0-n0", workflow_pb2.Node(id="n0")) == _outputs(o0=1)
    assert InlinedOutputs(specs, [plan], {}).outputs("n0", lp_node) is None

"""A LaunchPlan -> admin.LaunchPlan (id and spec; the closure is left for the admin to fill)."""
from __future__ import annotations

from flyteidl.admin import launch_plan_pb2
from flyteidl.core import literals_pb2

from sdk.authoring.launch_plan import LaunchPlan
from sdk.compile.interfaces import parameter_map
from sdk.compile.types_bridge import literal
from sdk.compile.workflow_spec import launch_plan_identifier, workflow_identifier


def launch_plan_spec(plan: LaunchPlan) -> launch_plan_pb2.LaunchPlan:
    where = f"launch plan {plan.name}"
    interface = plan.workflow.interface
    defaults = {**interface.defaults, **plan.default_inputs}
    fixed = literals_pb2.LiteralMap()
    for name, value in plan.fixed_inputs.items():
        fixed.literals[name].CopyFrom(literal(where, name, value, interface.inputs[name]))
    out = launch_plan_pb2.LaunchPlan(
        id=launch_plan_identifier(plan.name),
        spec=launch_plan_pb2.LaunchPlanSpec(
            workflow_id=workflow_identifier(plan.workflow.name),
            default_inputs=parameter_map(where, interface, defaults, plan.fixed_inputs),
            fixed_inputs=fixed,
        ),
    )
    # Present but empty, as flytekit writes them.
    for message in (out.spec.entity_metadata, out.spec.labels, out.spec.annotations, out.spec.raw_output_data_config,
                    out.closure.expected_inputs, out.closure.expected_outputs):
        message.SetInParent()
    return out

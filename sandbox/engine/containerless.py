"""Tasks that run without a container. On a cluster a backend plugin runs them; the sandbox
runs the one such plugin that needs nothing but the inputs, Flyte's `echo` (flytekit's `Echo`
task, e.g. the no-op branch of a conditional), and refuses any other at once with a message,
instead of starting a container that has no command."""
from __future__ import annotations

from flyteidl.core import literals_pb2

from sandbox.engine.attempt import USER, AttemptOutcome
from sandbox.engine.literals import describe_type


def runs_without_container(task_template) -> bool:
    return task_template.WhichOneof("target") is None


def run(task_template, inputs: literals_pb2.LiteralMap) -> AttemptOutcome:
    name = task_template.id.name
    if task_template.type == "echo":
        return _echo(name, task_template.interface, inputs)
    return AttemptOutcome(error_kind=USER, recoverable=False, error=(
        f"task {name!r} of type {task_template.type!r} has no container: on a Flyte cluster a "
        "backend plugin runs it, and the sandbox has none for that type; give the task a "
        "container image, or run this workflow on a cluster"))


def _echo(name, interface, inputs) -> AttemptOutcome:
    """As Flyte's echo plugin: the one input becomes the output of the same type."""
    in_vars, out_vars = interface.inputs.variables, interface.outputs.variables
    if len(in_vars) != len(out_vars) or len(in_vars) > 1:
        return AttemptOutcome(error_kind=USER, recoverable=False, error=(
            f"echo task {name!r} must have as many outputs as inputs, and at most one "
            f"(it has {len(in_vars)} inputs, {len(out_vars)} outputs)"))
    outputs = literals_pb2.LiteralMap()
    for (in_name, in_var), (out_name, out_var) in zip(in_vars.items(), out_vars.items()):
        if in_var.type != out_var.type:
            return AttemptOutcome(error_kind=USER, recoverable=False, error=(
                f"echo task {name!r}: output {out_name!r} ({describe_type(out_var.type)}) is "
                f"not the type of input {in_name!r} ({describe_type(in_var.type)})"))
        outputs.literals[out_name].CopyFrom(inputs.literals[in_name])
    return AttemptOutcome(outputs=outputs)

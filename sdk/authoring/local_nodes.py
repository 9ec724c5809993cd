"""Running one traced node in-process, per node kind: task/workflow/launch plan calls, branches
(only the taken case runs), map tasks (item by item), gates and on-failure handlers."""
from __future__ import annotations

from typing import Any

from sdk.authoring.condition import BranchEntity
from sdk.authoring.gates import Gate
from sdk.authoring.local_run import (
    GateAnswers,
    Literals,
    resolve_binding,
    run_entity_literals,
    run_task_literals,
    to_literal_at,
    to_python_at,
)
from sdk.authoring.promise import Promise
from sdk.authoring.tracing import Node
from sdk.errors import ExecutionFailed, SkiffError, TypeTransformerError


def node_inputs(node: Node, produced: dict[str, Literals]) -> Literals:
    where = node.where()
    inputs = node.entity.interface.inputs
    return {name: resolve_binding(where, name, value, inputs[name], produced) for name, value in node.bindings.items()}


def run_node(node: Node, produced: dict[str, Literals], answers: GateAnswers) -> Literals:
    entity = node.entity
    if isinstance(entity, BranchEntity):
        return _run_branch(node, produced, answers)
    if isinstance(entity, Gate):
        return _run_gate(node, node_inputs(node, produced), answers)
    return run_entity_literals(entity, node_inputs(node, produced), answers)


# ---- branches ---------------------------------------------------------------------------------


def _run_branch(node: Node, produced: dict[str, Literals], answers: GateAnswers) -> Literals:
    entity: BranchEntity = node.entity
    where = f"workflow {node.workflow_name}, conditional '{entity.name}' (node {node.id})"

    def value_of(operand: Any) -> Any:
        if isinstance(operand, Promise):
            literal = produced[operand.node_id][operand.var]
            return to_python_at(where, operand.var, literal, operand.python_type)
        return operand

    for case in entity.cases:
        if case.condition is not None and not case.condition.evaluate(value_of):
            continue
        if case.error is not None:
            raise ExecutionFailed(f"{where}: no branch matched and it fails with: {case.error}")
        outputs = run_node(case.node, produced, answers)
        return {name: outputs[name] for name in entity.interface.outputs}
    raise ExecutionFailed(f"{where}: no branch matched")  # unreachable: the last case is else_


# ---- map tasks --------------------------------------------------------------------------------


def run_map_task(map_task: Any, inputs: Literals, answers: GateAnswers) -> Literals:
    where = f"map task {map_task.name}"
    bound = set(map_task.bound_inputs)
    lengths = {name: len(literal.collection.literals) for name, literal in inputs.items() if name not in bound}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"'{k}' has {v}" for k, v in lengths.items())
        raise ExecutionFailed(f"{where}: every mapped input must have as many items ({detail}); pass lists of one length")
    count = next(iter(lengths.values()), 0)
    required = map_task.required_successes(count)
    # A mapped task has at most one output (MapTask checks it).
    output_name = next(iter(map_task.interface.outputs), None)
    values: list[Any] = []
    failures = 0
    for index in range(count):
        item_inputs = {
            name: literal if name in bound else literal.collection.literals[index] for name, literal in inputs.items()
        }
        try:
            outputs = run_task_literals(map_task.task, item_inputs, answers)
        except Exception:
            failures += 1
            values.append(None)
            if count - failures < required:
                raise
            continue
        if output_name:
            item_type = map_task.task.interface.outputs[output_name]
            values.append(to_python_at(f"{where}, item {index}", output_name, outputs[output_name], item_type))
    if output_name is None:
        return {}
    return {output_name: to_literal_at(where, output_name, values, map_task.interface.outputs[output_name])}


# ---- gates ------------------------------------------------------------------------------------


def _run_gate(node: Node, inputs: Literals, answers: GateAnswers) -> Literals:
    gate: Gate = node.entity
    where = f"workflow {node.workflow_name}, node {node.id} (gate '{gate.name}')"
    if gate.kind == "sleep":
        answers.sleep(gate.duration.total_seconds())
        return {}
    if gate.kind == "signal":
        if answers.on_input is None:
            raise ExecutionFailed(
                f"{where}: waits for an input of type {getattr(gate.expected_type, '__name__', gate.expected_type)}; "
                "run with sdk.run_locally(..., on_input=...) (sdk.authoring.prompts.console_answers() prompts)"
            )
        value = answers.on_input(gate.name, gate.expected_type)
        return {"o0": to_literal_at(where, "o0", value, gate.expected_type)}
    (var, hint), = gate.interface.inputs.items()
    if answers.on_approve is None:
        raise ExecutionFailed(
            f"{where}: waits for approval; run with sdk.run_locally(..., on_approve=...) "
            "(sdk.authoring.prompts.console_answers() prompts)"
        )
    if not answers.on_approve(gate.name, to_python_at(where, var, inputs[var], hint)):
        raise ExecutionFailed(f"{where}: was not approved, so the workflow stops here")
    return dict(inputs)


# ---- on-failure handlers ----------------------------------------------------------------------


def run_failure_handler(
    workflow: Any, failed_node: Node, error: BaseException, inputs: Literals, answers: GateAnswers
) -> None:
    """Run the workflow's on_failure node with its inputs; `err` gets the failed node and its error
    as a FlyteError, or as text ("<node>: <message>"), when its type can hold either."""
    handler = getattr(workflow, "failure_node", None)
    if handler is None:
        return
    handler_inputs = node_inputs(handler, {"": inputs})
    err_type = handler.entity.interface.inputs.get("err")
    if err_type is not None:
        from sdk.types.error import FlyteError

        message = str(error) if isinstance(error, SkiffError) else f"{type(error).__name__}: {error}"
        for value in (FlyteError(message=message, failed_node_id=failed_node.id), f"{failed_node.id}: {message}"):
            try:
                handler_inputs["err"] = to_literal_at(handler.where(), "err", value, err_type)
                break
            except TypeTransformerError:
                continue  # a type that can hold neither keeps its None
    run_entity_literals(handler.entity, handler_inputs, answers)


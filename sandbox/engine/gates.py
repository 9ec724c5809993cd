"""Answering gate nodes: one place for the CLI, the admin's SignalService and the console.

A gate's answer is written into its node row (`outputs`); the gate handler polls that row. An
approve gate takes no value (the gated input flows on) or a rejection reason; a signal gate
takes a literal of its declared type. Flyte scopes a signal to the execution, by its
`signal_id`; Skiff's own commands name the gate node instead: both are served here.
"""
from __future__ import annotations

import dataclasses

from flyteidl.core import literals_pb2, types_pb2

from sandbox.engine.gate_handler import REJECTED
from sandbox.engine.launch import load_plan
from sdk.errors import SkiffError

COMPLETED = ("succeeded", "failed", "cached", "skipped", "aborted")


class GateError(SkiffError):
    """A gate that does not exist, is of another kind, or was already answered."""


@dataclasses.dataclass
class Gate:
    node_id: str
    kind: str  # "signal" | "approve" | "sleep"
    signal_id: str
    type: types_pb2.LiteralType  # the value's type: a signal's declared type, bool to approve
    output_variable: str
    state: str | None  # the node row's state; None before the engine reached the gate
    value: literals_pb2.Literal | None  # the answer, as Flyte's Signal.value shows it


_BOOL = types_pb2.LiteralType(simple=types_pb2.SimpleType.BOOLEAN)


def gates(store, execution) -> list[Gate]:
    """Every signal and approve gate of the execution's DAG, in DAG order."""
    found = []
    for node_id, node in load_plan(store, execution).nodes.items():
        if node.WhichOneof("target") != "gate_node":
            continue
        gate = node.gate_node
        kind = gate.WhichOneof("condition")
        if kind == "sleep":
            continue
        row = store.node(execution.id, node_id)
        if kind == "signal":
            gate_type, signal_id = gate.signal.type, gate.signal.signal_id
            output = gate.signal.output_variable_name or "o0"
        else:
            gate_type, signal_id, output = _BOOL, gate.approve.signal_id, ""
        found.append(Gate(node_id, kind, signal_id, gate_type, output,
                          row.state if row else None, _answer_value(kind, output, row)))
    return found


def _answer_value(kind, output, row) -> literals_pb2.Literal | None:
    if row is None or row.outputs is None or (row.state or "") == "failed" and kind == "signal":
        return None
    answer = literals_pb2.LiteralMap.FromString(row.outputs)
    if kind == "signal":
        return answer.literals[output] if output in answer.literals else None
    approved = literals_pb2.Literal()
    approved.scalar.primitive.boolean = REJECTED not in answer.literals
    return approved


def find_gate(store, execution, node_id: str, kind: str) -> Gate:
    """The `kind` gate at `node_id` that has not been answered yet."""
    gate = next((g for g in gates(store, execution) if g.node_id == node_id), None)
    if gate is None or gate.kind != kind:
        raise GateError(f"execution {execution.id} has no {kind} gate node {node_id!r}; see "
                        f"`skiff executions show {execution.id}`")
    return _unanswered(execution, gate)


def find_signal(store, execution, signal_id: str) -> Gate:
    """The gate waiting for Flyte signal `signal_id` (FlyteRemote.set_signal names it so)."""
    matches = [g for g in gates(store, execution) if g.signal_id == signal_id]
    if not matches:
        known = sorted({g.signal_id for g in gates(store, execution)}) or ["none"]
        raise GateError(f"execution {execution.id} has no gate for signal {signal_id!r} "
                        f"(its signals: {', '.join(known)})")
    pending = [g for g in matches if g.value is None and g.state not in COMPLETED]
    return _unanswered(execution, pending[0] if pending else matches[0])


def _unanswered(execution, gate: Gate) -> Gate:
    if gate.state in COMPLETED or gate.value is not None:
        raise GateError(f"gate {gate.node_id!r} ({gate.signal_id}) of execution {execution.id} "
                        f"is already {gate.state if gate.state in COMPLETED else 'answered'}")
    return gate


def write_signal(store, execution, gate: Gate, literal: literals_pb2.Literal) -> None:
    """Answer a signal gate with `literal`; an approve gate with a boolean (Flyte's approval
    is a boolean signal: false rejects)."""
    if gate.kind == "approve":
        if literal.scalar.primitive.boolean:
            _write(store, execution, gate, literals_pb2.LiteralMap())
        else:
            _reject(store, execution, gate, "rejected by signal")
        return
    answer = literals_pb2.LiteralMap()
    answer.literals[gate.output_variable].CopyFrom(literal)
    _write(store, execution, gate, answer)


def _reject(store, execution, gate: Gate, reason: str) -> None:
    answer = literals_pb2.LiteralMap()
    answer.literals[REJECTED].scalar.primitive.string_value = reason
    _write(store, execution, gate, answer)


def _write(store, execution, gate: Gate, answer: literals_pb2.LiteralMap) -> None:
    # An answer given before the engine reaches the gate is kept and read when it gets there.
    store.ensure_node(execution.id, gate.node_id, None)
    store.update_node(execution.id, gate.node_id, outputs=answer.SerializeToString())


# ---- by execution and node id: the CLI (`skiff executions signal | approve | reject`) and the
# web console --------------------------------------------------------------------------------


def _execution(store, execution_id: str):
    execution = store.execution(execution_id)
    if execution is None:
        raise GateError(f"execution {execution_id!r} does not exist; list executions with "
                        "`skiff executions list`")
    return execution


def signal(store, execution_id: str, node_id: str, value) -> str:
    """Give a waiting signal gate its value (a plain JSON-like value of the declared type);
    the signal's id."""
    from sandbox.engine.literals import literal_from_value

    execution = _execution(store, execution_id)
    gate = find_gate(store, execution, node_id, "signal")
    try:
        literal = literal_from_value(value, gate.type)
    except (ValueError, TypeError) as exc:
        raise GateError(f"gate {node_id!r} input {gate.signal_id!r}: {exc}") from None
    write_signal(store, execution, gate, literal)
    return gate.signal_id


def signal_type(store, execution_id: str, node_id: str) -> types_pb2.LiteralType:
    """The type a waiting signal gate expects (to read a command-line word as it)."""
    return find_gate(store, _execution(store, execution_id), node_id, "signal").type


def approve(store, execution_id: str, node_id: str) -> str:
    execution = _execution(store, execution_id)
    gate = find_gate(store, execution, node_id, "approve")
    _write(store, execution, gate, literals_pb2.LiteralMap())
    return gate.signal_id


def reject(store, execution_id: str, node_id: str, reason: str = "") -> str:
    execution = _execution(store, execution_id)
    gate = find_gate(store, execution, node_id, "approve")
    _reject(store, execution, gate, reason)
    return gate.signal_id

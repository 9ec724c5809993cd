"""Answering a waiting signal or approve gate: write the answer into the gate's row, where the
gate handler (sandbox.engine.gate_handler) polls for it. Shared by the CLI
(`skiff executions signal | approve | reject`) and the web console."""
from __future__ import annotations

from flyteidl.core import literals_pb2

from sandbox.engine.gate_handler import REJECTED
from sdk.errors import SkiffError


class GateError(SkiffError):
    """No such waiting gate, or a value that does not fit its type."""


def waiting_gate(store, execution_id: str, node_id: str, kind: str):
    """The gate node (signal or approve, as `kind` says) that has not completed yet."""
    from sandbox.engine.launch import load_plan

    execution = store.execution(execution_id)
    if execution is None:
        raise GateError(f"execution {execution_id!r} does not exist; list executions with "
                        "`skiff executions list`")
    node = load_plan(store, execution).nodes.get(node_id)
    if node is None or node.WhichOneof("target") != "gate_node" or \
            node.gate_node.WhichOneof("condition") != kind:
        raise GateError(f"execution {execution_id} has no {kind} gate node {node_id!r}; see "
                        f"`skiff executions show {execution_id}`")
    row = store.node(execution_id, node_id)
    if row is not None and row.state in ("succeeded", "failed", "aborted"):
        raise GateError(f"gate {node_id!r} of execution {execution_id} is already {row.state}")
    return node


def _answer(store, execution_id: str, node_id: str, literal_map) -> None:
    store.update_node(execution_id, node_id, outputs=literal_map.SerializeToString())


def signal(store, execution_id: str, node_id: str, value) -> str:
    """Give a signal gate its value (a plain JSON-like value of the declared type); returns
    the signal's id."""
    from sandbox.engine.literals import literal_from_value

    node = waiting_gate(store, execution_id, node_id, "signal")
    gate = node.gate_node.signal
    try:
        literal = literal_from_value(value, gate.type)
    except (ValueError, TypeError) as exc:
        raise GateError(f"gate {node_id!r} input {gate.signal_id!r}: {exc}") from None
    answer = literals_pb2.LiteralMap()
    answer.literals[gate.output_variable_name or "o0"].CopyFrom(literal)
    _answer(store, execution_id, node_id, answer)
    return gate.signal_id


def approve(store, execution_id: str, node_id: str) -> str:
    node = waiting_gate(store, execution_id, node_id, "approve")
    _answer(store, execution_id, node_id, literals_pb2.LiteralMap())
    return node.gate_node.approve.signal_id


def reject(store, execution_id: str, node_id: str, reason: str = "") -> str:
    node = waiting_gate(store, execution_id, node_id, "approve")
    answer = literals_pb2.LiteralMap()
    answer.literals[REJECTED].scalar.primitive.string_value = reason
    _answer(store, execution_id, node_id, answer)
    return node.gate_node.approve.signal_id

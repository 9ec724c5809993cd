"""The gate node handler. A sleep gate waits (from its recorded start, so a resumed execution
does not sleep twice). Signal and approve gates wait for `skiff executions signal | approve |
reject`, which write the answer into the gate's row; the engine polls that row (a human is
slow, a poll every half second costs nothing) until the gate's timeout."""
from __future__ import annotations

from flyteidl.core import literals_pb2

from sandbox.engine.task_handler import NodeOutcome, record, record_aborted
from sandbox.store.repository import utcnow

POLL_SECONDS = 0.5
DEFAULT_TIMEOUT_S = 3600.0
REJECTED = "rejected"


def hint(execution_id: str, node_id: str, gate) -> str:
    kind = gate.WhichOneof("condition")
    if kind == "signal":
        return (f"waiting for input {gate.signal.signal_id!r}: run `skiff executions signal "
                f"{execution_id} {node_id} VALUE`")
    return (f"waiting for approval {gate.approve.signal_id!r}: run `skiff executions approve "
            f"{execution_id} {node_id}` (or `reject`)")


class GateHandler:
    def __init__(self, ctx, execution, plan):
        self.ctx = ctx
        self.execution = execution
        self.plan = plan

    def handle(self, node, inputs, row) -> NodeOutcome:
        gate = node.gate_node
        kind = gate.WhichOneof("condition")
        started = row.started_at or utcnow()
        if kind == "sleep":
            if row.started_at is None:
                record(self.ctx, self.execution, node.id, state="running", started_at=started)
            seconds = gate.sleep.duration.ToTimedelta().total_seconds()
            remaining = seconds - (utcnow() - started).total_seconds()
            cause = self._sleep(node.id, remaining)
            if cause is not None:
                return record_aborted(self.ctx, self.execution, node.id, cause, row.attempt)
            return self._succeed(node, row, literals_pb2.LiteralMap(), seconds)
        # Answers already written (before a resume) are kept: only state and hint change.
        record(self.ctx, self.execution, node.id, state="waiting", started_at=started,
               error=hint(self.execution.id, node.id, gate))
        timeout = (node.metadata.timeout.ToTimedelta().total_seconds()
                   if node.metadata.HasField("timeout") else DEFAULT_TIMEOUT_S) or DEFAULT_TIMEOUT_S
        while True:
            current = self.ctx.store.node(self.execution.id, node.id)
            if current.outputs is not None:
                answer = literals_pb2.LiteralMap.FromString(current.outputs)
                if kind == "approve":
                    if REJECTED in answer.literals:
                        reason = answer.literals[REJECTED].scalar.primitive.string_value
                        return self._fail(node, row, f"gate {gate.approve.signal_id!r} was "
                                                     f"rejected: {reason or 'no reason given'}")
                    answer = inputs  # approval passes the gated value through
                return self._succeed(node, row, answer,
                                     (utcnow() - started).total_seconds())
            if (utcnow() - started).total_seconds() > timeout:
                return self._fail(node, row, f"gate node {node.id!r} got no answer within "
                                             f"{timeout:g}s; resume the execution to wait again")
            cause = self._sleep(node.id, POLL_SECONDS)
            if cause is not None:
                return record_aborted(self.ctx, self.execution, node.id, cause, row.attempt)

    def _sleep(self, node_id: str, seconds: float) -> str | None:
        """Sleep, woken by an abort of the node; the abort's cause."""
        return self.ctx.aborts.sleep(self.execution.id, node_id, seconds)

    def abort(self, node_id: str, cause: str) -> None:
        self.ctx.aborts.abort_node(self.execution.id, node_id, cause)  # wakes its wait

    def finalize(self, node_id: str, attempt: int) -> None:
        """A gate holds nothing once it ended."""

    def _succeed(self, node, row, outputs, duration) -> NodeOutcome:
        record(self.ctx, self.execution, node.id, state="succeeded", error=None,
               outputs=outputs.SerializeToString(), ended_at=utcnow(), duration=duration)
        return NodeOutcome(outputs, attempt=row.attempt)

    def _fail(self, node, row, message) -> NodeOutcome:
        record(self.ctx, self.execution, node.id, state="failed", error=message,
               ended_at=utcnow())
        return NodeOutcome(None, message, row.attempt)

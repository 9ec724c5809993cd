"""The gate node handler: sleep gates wait; approval and signal gates need a Flyte cluster."""
from __future__ import annotations

import time

from flyteidl.core import literals_pb2

from sandbox.engine.task_handler import NodeOutcome, record
from sandbox.store.repository import utcnow


class GateHandler:
    def __init__(self, ctx, execution, plan):
        self.ctx = ctx
        self.execution = execution
        self.plan = plan

    def handle(self, node, inputs, row) -> NodeOutcome:
        gate = node.gate_node
        kind = gate.WhichOneof("condition")
        if kind != "sleep":
            message = (f"workflow {self.plan.workflow_name!r} node {node.id!r} is a {kind} gate; "
                       "the sandbox cannot wait for a human or a signal: run it on a Flyte "
                       "cluster, or replace the gate with a sleep while testing")
            record(self.ctx, self.execution, node.id, state="failed", error=message)
            return NodeOutcome(None, message, row.attempt)
        seconds = gate.sleep.duration.ToTimedelta().total_seconds()
        started = row.started_at or utcnow()
        if row.started_at is None:
            record(self.ctx, self.execution, node.id, state="running", started_at=started)
        # Measured from the recorded start, so a resumed execution does not sleep twice.
        remaining = seconds - (utcnow() - started).total_seconds()
        if remaining > 0:
            time.sleep(remaining)
        outputs = literals_pb2.LiteralMap()
        record(self.ctx, self.execution, node.id, state="succeeded",
               outputs=outputs.SerializeToString(), ended_at=utcnow(), duration=seconds)
        return NodeOutcome(outputs, attempt=row.attempt)

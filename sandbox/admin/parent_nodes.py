"""Subworkflow and launch plan nodes, which the engine inlines (their nodes are stored as
"<node>-<inner id>"), summarised for clients that expect one node execution per node (their
inputs and outputs are bound in sandbox.admin.node_tree)."""
from __future__ import annotations

from sandbox.admin import convert
from sandbox.store.records import NodeRecord


def parent_row(execution_id: str, node_id: str, rows):
    """A stand-in row (id 0: not stored) for an inlined subworkflow or launch plan node, from
    its inner rows:
    failed when one failed, succeeded when all did, running once one started."""
    inner = [r for r in rows if r.node_id.startswith(node_id + "-")]
    if not inner:
        return None
    states = {r.state for r in inner}
    if "failed" in states:
        state = "failed"
    elif states <= {"succeeded", "cached", "skipped"}:
        state = "succeeded"
    elif states == {"queued"}:
        state = "queued"
    else:
        state = "running"
    starts = [convert.as_datetime(r.started_at) for r in inner if r.started_at]
    ends = [convert.as_datetime(r.ended_at) for r in inner if r.ended_at]
    failed = next((r for r in inner if r.state == "failed"), None)
    return NodeRecord(
        id=0, execution_id=execution_id, node_id=node_id, task=None, state=state, attempt=0,
        user_failures=0, system_failures=0, input_uri=None, output_uri=None, outputs=None,
        error=f"{failed.node_id}: {failed.error}" if failed else None, container_id=None,
        logs=None, started_at=min(starts) if starts else None,
        ended_at=max(ends) if ends and state in ("succeeded", "failed") else None,
        duration=None)

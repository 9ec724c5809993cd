"""A node's logs from an offset, so that the page appends what is new instead of reloading.

The engine stores a container's output while it runs ("--- attempt N ---" headers between
attempts) and the stored log only grows, so an offset stays valid (sandbox.engine.live_logs)."""
from __future__ import annotations

from sandbox.engine import read_node_log

ACTIVE_STATES = ("queued", "running", "retrying", "waiting")
MAX_CHUNK = 1024 * 1024


def node_logs(store, execution_id: str, node_id: str, offset: int = 0) -> dict | None:
    found = read_node_log(store, execution_id, node_id, max(0, offset))
    if found is None:
        return None
    text, state = found
    reset = offset > 0 and not text and offset > _length(store, execution_id, node_id)
    if reset:  # the log is shorter than the reader's offset (a recovered copy): start again
        text, state = read_node_log(store, execution_id, node_id, 0)
    start = 0 if reset else max(0, offset)
    chunk = text[:MAX_CHUNK]
    return {"text": chunk, "offset": start + len(chunk), "reset": reset,
            "active": state in ACTIVE_STATES, "state": state}


def _length(store, execution_id: str, node_id: str) -> int:
    row = store.node(execution_id, node_id)
    return len(row.logs or "") if row is not None else 0

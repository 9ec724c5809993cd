"""A node's logs from an offset, so that the page appends what is new instead of reloading.

The text is every finished attempt's logs as the engine stores them ("--- attempt N ---"
headers), followed, while an attempt runs, by the same header and its container's output so
far: when the attempt ends the engine stores exactly that text, so offsets stay valid."""
from __future__ import annotations

from sandbox.runtime.live_logs import running_logs

ACTIVE_STATES = ("queued", "running", "retrying", "waiting")
MAX_CHUNK = 1024 * 1024


def node_logs(store, execution_id: str, node_id: str, offset: int = 0) -> dict | None:
    row = store.node(execution_id, node_id)
    if row is None:
        return None
    text = row.logs or ""
    header = f"--- attempt {row.attempt} ---\n"
    # An engine that stores output while the container runs has begun the attempt's part
    # already: the store is then the whole truth.
    if row.state == "running" and row.container_id and header not in text:
        live = running_logs(row.container_id)
        if live is None:  # finished meanwhile: the store has it now
            row = store.node(execution_id, node_id)
            text = row.logs or ""
        else:
            text += header + live
    reset = offset > len(text)  # the text was cut (very long logs): start again
    start = 0 if reset else max(0, offset)
    chunk = text[start:start + MAX_CHUNK]
    return {"text": chunk, "offset": start + len(chunk), "reset": reset,
            "active": row.state in ACTIVE_STATES, "state": row.state}

"""A node's container output, stored while the container runs.

The runner hands each attempt's output to a NodeLog as it arrives; one flusher thread per
process appends what the open NodeLogs gathered to the node's log in the store four times a
second (a task printing thousands of lines costs a few writes, not thousands). The stored log
only ever grows, so `skiff logs -f`, the admin's log stream and the console read it from an
offset (`read_node_log`). Each attempt's part starts with a "--- attempt N ---" line and is
kept up to MAX_ATTEMPT_BYTES; beyond that only its last TAIL_BYTES are stored, when it ends.
"""
from __future__ import annotations

import codecs
import logging
import threading

log = logging.getLogger(__name__)
FLUSH_SECONDS = 0.25
MAX_ATTEMPT_BYTES = 1 << 20
TAIL_BYTES = 64 << 10


def attempt_header(attempt: int) -> str:
    return f"--- attempt {attempt} ---\n"


def stored_bytes(logs: str | None, attempt: int) -> int | None:
    """How many bytes of the attempt's output the log holds already (an engine that adopts a
    running container skips them), or None when the attempt's part has not begun."""
    header = attempt_header(attempt)
    at = (logs or "").rfind(header)
    if at < 0:
        return None
    return len(logs[at + len(header):].encode("utf-8", errors="replace"))


class NodeLog:
    """One attempt's output on its way to the store; `write` is called from the runner's log
    thread, `close` once the container ended."""

    def __init__(self, store, execution_id: str, node_id: str, attempt: int,
                 skip_bytes: int = 0):
        self.store = store
        self.execution_id = execution_id
        self.node_id = node_id
        self.attempt = attempt
        self._skip = skip_bytes
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending: list[str] = []
        self._kept = 0  # bytes stored (or pending) of this attempt
        self._dropped = 0
        self._tail = bytearray()
        self._last_char = "\n"
        self._open = False

    def begin(self) -> None:
        """Start the attempt's part of the log (its container exists now)."""
        self.store.append_node_logs(self.execution_id, self.node_id,
                                    attempt_header(self.attempt))
        self._register()

    def resume(self) -> None:
        """Continue an attempt whose part was begun by an engine that died."""
        self._register()

    def _register(self) -> None:
        self._open = True
        _flusher().add(self)

    def write(self, data: bytes) -> None:
        if self._skip:
            cut = min(self._skip, len(data))
            self._skip -= cut
            data = data[cut:]
        if not data:
            return
        with self._lock:
            room = MAX_ATTEMPT_BYTES - self._kept
            if room > 0:
                kept = data[:room]
                self._kept += len(kept)
                self._add(self._decoder.decode(kept))
                data = data[room:]
            if data:  # over the limit: keep a tail, stored when the attempt ends
                self._dropped += len(data)
                self._tail += data
                del self._tail[:-TAIL_BYTES]

    def _add(self, text: str) -> None:
        if text:
            self._pending.append(text)
            self._last_char = text[-1]

    def flush(self) -> None:
        # One writer at a time (the flusher, close), so that parts are stored in order.
        with self._write_lock:
            with self._lock:
                text = "".join(self._pending)
                self._pending.clear()
            if text:
                try:
                    self.store.append_node_logs(self.execution_id, self.node_id, text)
                except Exception:
                    with self._lock:  # kept for the next flush
                        self._pending.insert(0, text)
                    raise

    def close(self) -> None:
        """Store the rest (and the tail of output beyond the limit), ending on a newline."""
        if not self._open:
            return
        _flusher().remove(self)
        with self._lock:
            self._add(self._decoder.decode(b"", final=True))
            if self._dropped:
                shown = len(self._tail)
                self._add(f"{'' if self._last_char == chr(10) else chr(10)}[... "
                          f"{self._dropped - shown} bytes not kept ...]\n")
                self._add(self._tail.decode("utf-8", errors="replace"))
            if self._last_char != "\n":
                self._add("\n")
        self.flush()
        self._open = False


class _Flusher:
    """The process's one thread that stores the open logs' new output periodically."""

    def __init__(self):
        self._logs: set[NodeLog] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name="skiff-logs")
        self._thread.start()

    def add(self, node_log: NodeLog) -> None:
        with self._lock:
            self._logs.add(node_log)

    def remove(self, node_log: NodeLog) -> None:
        with self._lock:
            self._logs.discard(node_log)

    def _run(self) -> None:
        import time

        while True:
            time.sleep(FLUSH_SECONDS)
            with self._lock:
                logs = list(self._logs)
            for node_log in logs:
                try:
                    node_log.flush()
                except Exception:  # noqa: BLE001 - the store is busy or down: next round
                    log.debug("storing logs of %s/%s failed", node_log.execution_id,
                              node_log.node_id, exc_info=True)


_the_flusher: _Flusher | None = None
_flusher_lock = threading.Lock()


def _flusher() -> _Flusher:
    global _the_flusher
    with _flusher_lock:
        if _the_flusher is None:
            _the_flusher = _Flusher()
        return _the_flusher


def read_node_log(store, execution_id: str, node_id: str, offset: int = 0):
    """(text from character `offset` on, node state) of a node's stored log, or None when the
    execution has no such node. For followers: the log only grows, so read again from
    offset + len(text) until the state is one in which the node no longer runs."""
    return store.read_node_logs(execution_id, node_id, offset)

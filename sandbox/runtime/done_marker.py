"""The engine's side of the done marker (sdk/start_gate.py): watching a container's output for
it, and keeping it out of the task's logs.

The marker arrives once on stdout and once on stderr, in Docker's interleaved log stream, and a
read may cut it anywhere. MarkerWatch passes the output on without the markers (holding back
only what could be the start of one) and says the attempt is done once both arrived.
"""
from __future__ import annotations

import secrets
import threading

from sdk import start_gate

STREAMS = 2  # stdout and stderr each carry one marker


def new_token() -> str:
    """A token the task's own output cannot guess (lowercase letters and digits)."""
    return secrets.token_hex(8)


class MarkerWatch:
    """Filters one attempt's output; `announced` once both markers passed, with `exit_code`
    the code they announced. `done` is set by the reader of the output once it has handed
    on everything before the markers (`signal_if_announced`), or by whoever saw the exit."""

    def __init__(self, token: str):
        self._token = token
        self._held = b""  # a possible beginning of a marker, waiting for the next piece
        self._seen = 0
        self.exit_code: int | None = None
        self.done = threading.Event()
        self._prefix = start_gate.marker(token, 0)[:-2]  # up to the space before the code

    @property
    def announced(self) -> bool:
        """Both markers arrived: the task wrote everything it will write."""
        return self._seen >= STREAMS

    def feed(self, chunk: bytes) -> bytes:
        """The part of `chunk` (after what was held back) that is the task's output."""
        data = self._held + chunk
        self._held = b""
        out = bytearray()
        while data:
            at = data.find(self._prefix)
            if at < 0:
                keep = self._partial_prefix_length(data)
                out += data[:len(data) - keep]
                self._held = data[len(data) - keep:]
                break
            end = data.find(b"\n", at + len(self._prefix))
            if end < 0:  # the code and the newline are still to come
                out += data[:at]
                self._held = data[at:]
                break
            out += data[:at]
            self._record(data[at + len(self._prefix):end])
            data = data[end + 1:]
        return bytes(out)

    def flush(self) -> bytes:
        """What was held back when the output ended without completing a marker."""
        held, self._held = self._held, b""
        return held

    def _record(self, code: bytes) -> None:
        try:
            exit_code = int(code)
        except ValueError:
            return  # not ours after all
        self._seen += 1
        self.exit_code = exit_code

    def signal_if_announced(self) -> None:
        if self.announced:
            self.done.set()

    def _partial_prefix_length(self, data: bytes) -> int:
        """The length of the longest end of `data` that begins the marker."""
        for length in range(min(len(self._prefix) - 1, len(data)), 0, -1):
            if self._prefix.startswith(data[-length:]):
                return length
        return 0

"""The start gate between the engine and `skiff-execute`, so that a container can start before
its inputs exist.

The engine starts the next task's container while the task before it still runs, with
$SKIFF_START_GATE=stdin and stdin attached. `skiff-execute` fetches the code and imports the
task, then waits for the GO line on stdin, which the engine writes once the inputs are stored.
End of input instead (the engine no longer needs the container, or died) closes the gate: the
entrypoint exits with CLOSED_EXIT and writes nothing. Images whose entrypoint does this carry
the label IMAGE_LABEL=stdin.
"""
from __future__ import annotations

import os

ENV = "SKIFF_START_GATE"
IMAGE_LABEL = "skiff.start-gate"
GO = b"go\n"
CLOSED_EXIT = 75  # EX_TEMPFAIL: the attempt never ran


class GateClosed(Exception):
    """End of input at the gate: the engine will not run this attempt."""


def requested() -> bool:
    return os.environ.get(ENV) == "stdin"


def wait_for_go(fd: int = 0) -> None:
    """Block until the engine writes GO on `fd`; GateClosed at end of input or on anything else."""
    received = b""
    while not received.endswith(b"\n"):
        chunk = os.read(fd, len(GO))
        if not chunk:
            raise GateClosed()
        received += chunk
    if received != GO:
        raise GateClosed()

"""The start gate between the engine and `skiff-execute`, so that a container can start before
its inputs exist.

The engine starts the next task's container while the task before it still runs, with
$SKIFF_START_GATE=stdin and stdin attached. `skiff-execute` fetches the code and imports the
task, then waits for the GO line on stdin, which the engine writes once the inputs are stored.
End of input instead (the engine no longer needs the container, or died) closes the gate: the
entrypoint exits with CLOSED_EXIT and writes nothing. Images whose entrypoint does this carry
the label IMAGE_LABEL=stdin.

The done marker. A container's exit takes Docker 60-140 ms to report (the process is gone long
before `wait` returns), which a chain of short tasks pays once per task. Images labelled
DONE_LABEL=1 let the engine skip that wait: the engine's go line carries a token
(`go <token>`), and once the task's document is stored and its process is about to exit,
skiff-execute writes MARKER (the token and the exit code) on stdout and on stderr. Seeing both
(each stream is ordered, so all earlier output came first), the engine reads the outcome
without waiting for the exit; Docker's report is collected in the background. The token keeps a
task's own output from passing for the marker.
"""
from __future__ import annotations

import os

ENV = "SKIFF_START_GATE"
IMAGE_LABEL = "skiff.start-gate"
GO = b"go\n"
CLOSED_EXIT = 75  # EX_TEMPFAIL: the attempt never ran
DONE_LABEL = "skiff.done-marker"
_MAX_LINE = 80  # "go " and a token
_TOKEN_CHARS = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyz")


class GateClosed(Exception):
    """End of input at the gate: the engine will not run this attempt."""


def requested() -> bool:
    return os.environ.get(ENV) == "stdin"


def go_line(token: str | None = None) -> bytes:
    """What the engine writes to open the gate: GO, or `go <token>` to ask for the done marker."""
    return GO if not token else b"go " + token.encode("ascii") + b"\n"


def wait_for_go(fd: int = 0) -> str | None:
    """Block until the engine writes its go line on `fd`; the done marker's token when the line
    carries one, else None. GateClosed at end of input or on anything else."""
    received = b""
    while not received.endswith(b"\n"):
        chunk = os.read(fd, 1 if received else len(GO))
        if not chunk or len(received) > _MAX_LINE:
            raise GateClosed()
        received += chunk
    if received == GO:
        return None
    token = received[3:-1]
    if not received.startswith(b"go ") or not token or not set(token) <= _TOKEN_CHARS:
        raise GateClosed()
    return token.decode("ascii")


def marker(token: str, exit_code: int) -> bytes:
    """The done marker of `token`: it starts with a record separator, which task output hardly
    holds, and ends a line."""
    return b"\x1eskiff-done %s %d\n" % (token.encode("ascii"), exit_code)


def announce_done(token: str, exit_code: int) -> None:
    """Tell the engine the attempt is over (its document stored): the marker on both streams,
    after everything the task wrote to them."""
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed stream: the engine waits for the exit
            return
    for fd in (1, 2):
        try:
            os.write(fd, marker(token, exit_code))
        except OSError:
            return

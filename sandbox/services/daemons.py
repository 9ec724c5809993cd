"""Stopping the sandbox's detached server processes (MinIO, the admin server)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Callable


def reap(pid: int) -> None:
    """Collect the exit status when this process started the server itself (avoids a zombie)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def live_cmdline(pid: int | None) -> list[bytes] | None:
    """The command line of `pid` when it is alive (a zombie is reaped and counts as gone), so the
    caller can check that a recorded pid still belongs to its server and not a recycled one."""
    if not pid:
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        reap(pid)
        return None
    return cmdline


def terminate(pid: int, is_running: Callable[[], bool], timeout_s: float) -> None:
    """SIGTERM, wait up to `timeout_s` for a clean exit, then SIGKILL and wait for it to go."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while is_running() and time.monotonic() < deadline:
        reap(pid)
        time.sleep(0.05)
    if is_running():
        os.kill(pid, signal.SIGKILL)
        while is_running():
            reap(pid)
            time.sleep(0.05)

"""Stopping the sandbox's detached server processes (MinIO, the admin server)."""

from __future__ import annotations

import os
import signal
import time
from typing import Callable


def reap(pid: int) -> None:
    """Collect the exit status when this process started the server itself (avoids a zombie)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


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

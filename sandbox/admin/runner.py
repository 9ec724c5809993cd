"""Running admin-created executions in detached engine processes (sandbox.engine.detached).

Each execution gets its own engine process (the engine's one-engine-per-execution rule), so a
CreateExecution RPC returns at once and a terminate can stop exactly that process.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class Launcher:
    """Starts and stops the runner process of each execution; reaps them (no zombies)."""

    def __init__(self, state, repo):
        self.state = state
        self.repo = repo
        self._processes: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def start(self, execution_id: str) -> None:
        from sandbox.engine import detached

        process = detached.start(self.state, execution_id)
        self.repo.set_runner(execution_id, process.pid)
        with self._lock:
            self._processes[execution_id] = process
        threading.Thread(target=self._reap, args=(execution_id, process), daemon=True).start()

    def _reap(self, execution_id: str, process: subprocess.Popen) -> None:
        process.wait()
        with self._lock:
            self._processes.pop(execution_id, None)

    def stop(self, execution_id: str) -> None:
        """Kill the execution's engine process (also one a previous server started) and its
        containers."""
        with self._lock:
            process = self._processes.get(execution_id)
        if process is not None:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        else:
            request = self.repo.execution_request(execution_id)
            pid = request[1] if request else None
            if pid and _is_runner_of(pid, execution_id):
                os.killpg(pid, signal.SIGKILL)
        _remove_containers(execution_id)


def _is_runner_of(pid: int, execution_id: str) -> bool:
    """Guards against a recycled pid: the process must be this execution's runner."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    from sandbox.engine.detached import ENTRY

    return ENTRY.encode() in cmdline and execution_id.encode() in cmdline


def _remove_containers(execution_id: str) -> None:
    from sandbox.services.docker_engine import docker_client

    client = docker_client(timeout=30)
    for container in client.containers.list(all=True,
                                            filters={"label": f"skiff.execution={execution_id}"}):
        try:
            container.remove(force=True, v=True)  # and its /tmp volume
        except Exception as exc:  # noqa: BLE001 - already gone is fine
            log.debug("container %s: %s", container.short_id, exc)


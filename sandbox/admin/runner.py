"""Running admin-created executions in detached processes: `python -m sandbox.admin.runner ID`.

Each execution gets its own engine process (the engine's one-engine-per-execution rule), so a
CreateExecution RPC returns at once and a terminate can stop exactly that process.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from sandbox import home as sandbox_home

log = logging.getLogger(__name__)


class Launcher:
    """Starts and stops the runner process of each execution; reaps them (no zombies)."""

    def __init__(self, state, repo):
        self.state = state
        self.repo = repo
        self._processes: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def start(self, execution_id: str) -> None:
        logs = sandbox_home.logs_dir(Path(self.state.home)) / "executions"
        logs.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, SKIFF_HOME=self.state.home)
        with sandbox_home.open_private_log(logs / f"{execution_id}.log") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "sandbox.admin.runner", execution_id],
                env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                start_new_session=True)
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
    return b"sandbox.admin.runner" in cmdline and execution_id.encode() in cmdline


def _remove_containers(execution_id: str) -> None:
    from sandbox.services.docker_engine import docker_client

    client = docker_client(timeout=30)
    for container in client.containers.list(all=True,
                                            filters={"label": f"skiff.execution={execution_id}"}):
        try:
            container.remove(force=True, v=True)  # and its /tmp volume
        except Exception as exc:  # noqa: BLE001 - already gone is fine
            log.debug("container %s: %s", container.short_id, exc)


def main(argv: list[str] | None = None) -> int:
    from sandbox.admin.execution_config import apply_settings
    from sandbox.engine import run_execution
    from sandbox.engine.setup import context_from_state
    from sandbox.home import SandboxState
    from sdk.errors import SkiffError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    (execution_id,) = argv if argv is not None else sys.argv[1:]
    state = SandboxState.load()
    ctx = context_from_state(state)
    apply_settings(ctx, execution_id)  # the spec's overwrite_cache and envs
    try:
        run_execution(ctx, execution_id)
    except SkiffError as error:
        log.error("%s", error)
        return 1
    log.info("execution %s succeeded", execution_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())

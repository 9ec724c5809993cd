"""Stopping executions and nodes (Flyte's abort).

Three ways in, one path: a terminate (`skiff executions terminate`, the admin's
TerminateExecution, the console, Ctrl-C on `skiff run --sandbox`) writes the cause into the
execution's row; the engine running the execution watches that row (AbortWatcher), kills the
execution's containers, and its node handlers record their nodes "aborted" instead of retrying.
Under FAIL_IMMEDIATELY the scheduler aborts the running siblings of a failed node the same way,
node by node. `terminate_execution` finishes the job itself when no engine runs the execution
(its engine was killed, or it never started), so a terminate always ends in a recorded state.
"""
from __future__ import annotations

import logging
import os
import threading
import time

from sandbox.store.records import ENDED_EXECUTION_STATES, UNFINISHED_STATES
from sandbox.engine.host import host_name, process_alive
from sdk.errors import ExecutionFailed, SkiffError

log = logging.getLogger(__name__)
WATCH_SECONDS = 0.25  # how often an engine looks for a terminate request
GRACE_SECONDS = 10.0  # how long a terminate waits for the engine to record the abort


class ExecutionAborted(ExecutionFailed):
    """The execution was terminated before it ended."""


class AbortSignal:
    """Which executions and nodes were told to stop, and why; shared by an engine's threads.

    A node is aborted when its execution is, or when it or an enclosing node is (node ids of
    inner nodes are "<outer id>-<id>": array elements, dynamic and subworkflow nodes)."""

    def __init__(self):
        self._changed = threading.Condition()
        self._executions: dict[str, str] = {}
        self._nodes: dict[tuple[str, str], str] = {}

    def abort_execution(self, execution_id: str, cause: str) -> None:
        with self._changed:
            self._executions.setdefault(execution_id, cause)
            self._changed.notify_all()

    def abort_node(self, execution_id: str, node_id: str, cause: str) -> None:
        with self._changed:
            self._nodes.setdefault((execution_id, node_id), cause)
            self._changed.notify_all()

    def cause(self, execution_id: str, node_id: str | None = None) -> str | None:
        """Why the execution (or, given node_id, that node) must stop; None to carry on."""
        found = self._executions.get(execution_id)
        if found is not None or node_id is None:
            return found
        parts = node_id.split("-")
        for end in range(len(parts), 0, -1):
            found = self._nodes.get((execution_id, "-".join(parts[:end])))
            if found is not None:
                return found
        return None

    def sleep(self, execution_id: str, node_id: str, seconds: float) -> str | None:
        """Sleep up to `seconds`, waking as soon as the node is aborted; the abort cause."""
        with self._changed:
            self._changed.wait_for(lambda: self.cause(execution_id, node_id) is not None,
                                   timeout=max(seconds, 0.0))
        return self.cause(execution_id, node_id)


def kill_containers(execution_id: str, node_id: str | None = None) -> int:
    """Kill the running containers of the execution (of one node and its inner nodes, when
    given) through the Docker engine; how many. Their engine reads their exit status."""
    from sandbox.runtime.docker_runner import kill_execution_containers
    from sandbox.runtime.warm_pool import kill_warm_tasks

    # attempts in this process's warm workers (the workers live on), then containers
    return kill_warm_tasks(execution_id, node_id) + kill_execution_containers(execution_id,
                                                                              node_id)


class AbortWatcher:
    """An engine's thread that turns a stored terminate request into an in-process abort, then
    keeps killing the execution's containers (one may start as the request arrives) until the
    engine is done with the execution."""

    def __init__(self, ctx, execution_id: str):
        self.ctx = ctx
        self.execution_id = execution_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True,
                                        name=f"skiff-abort-{execution_id}")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        return False

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_SECONDS):
            try:
                cause = self.ctx.aborts.cause(self.execution_id)
                if cause is None:
                    cause = self.ctx.store.abort_cause(self.execution_id)
                    if cause is None:
                        continue
                    self.ctx.aborts.abort_execution(self.execution_id, cause)
                kill_containers(self.execution_id)
            except Exception:  # noqa: BLE001 - the store or Docker is down: look again
                log.debug("abort watch of %s failed", self.execution_id, exc_info=True)


def finish_abort(store, execution_id: str, cause: str) -> None:
    """Record the execution and its unfinished nodes aborted."""
    from sandbox.store.repository import utcnow

    now = utcnow()
    store.abort_unfinished_nodes(execution_id, cause, now)
    store.update_execution(execution_id, state="aborted", error=f"aborted: {cause}",
                           ended_at=now)


def _engine_alive(row) -> bool:
    """Another live engine process on this host runs the execution."""
    if row.state not in ("running", "queued") or not row.engine_pid:
        return False
    if row.engine_host != host_name():
        return True  # cannot tell: give it the grace period
    if row.engine_pid == os.getpid():
        return True  # this process (Ctrl-C): its node threads record the abort
    return process_alive(row.engine_pid)


def terminate_execution(store, execution_id: str, cause: str = "terminated by the user", *,
                        signal: AbortSignal | None = None, grace: float = GRACE_SECONDS):
    """Stop an execution: its containers are killed and its unfinished nodes and itself are
    recorded aborted, by its engine when one runs it (within `grace` seconds), else here.

    `signal`: the AbortSignal of an engine in this process that runs the execution (Ctrl-C).
    Returns the execution's record; SkiffError when it does not exist or has ended."""
    row = store.execution(execution_id)
    if row is None:
        raise SkiffError(f"execution {execution_id!r} does not exist; see "
                         "`skiff executions list`")
    if row.state in ENDED_EXECUTION_STATES:
        raise SkiffError(f"execution {execution_id} has already ended ({row.state}); there is "
                         "nothing to terminate")
    cause = cause or "terminated by the user"
    store.request_abort(execution_id, cause)
    if signal is not None:
        signal.abort_execution(execution_id, cause)
    deadline = time.monotonic() + grace
    next_kill = 0.0
    while True:
        now = time.monotonic()
        if now >= next_kill:
            try:
                kill_containers(execution_id)
            except Exception as exc:  # noqa: BLE001 - Docker gone: nothing runs there either
                log.debug("killing the containers of %s: %s", execution_id, exc)
            next_kill = now + 1.0
        row = store.execution(execution_id)
        if row.state == "aborted" or row.state in ENDED_EXECUTION_STATES:
            return row
        if not _engine_alive(row) or now >= deadline:
            break
        if signal is not None and not any(n.state in ("running", "retrying")
                                          for n in store.nodes(execution_id)):
            break  # this process's node threads have recorded their nodes
        time.sleep(0.1)
    finish_abort(store, execution_id, cause)
    return store.execution(execution_id)


__all__ = ["AbortSignal", "AbortWatcher", "ExecutionAborted", "UNFINISHED_STATES",
           "finish_abort", "kill_containers", "terminate_execution"]

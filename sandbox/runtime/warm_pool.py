"""Warm task workers: long-lived containers that run task attempts in forked children
(`skiff run --sandbox --reuse-containers`; the process inside is sdk/warm_worker.py).

One worker per (image, resources, secrets, environment, mounted code bundle), confined exactly
as a task container is (DockerRunner.create_confined), plus a read-write bind mount of a host
directory private to this engine that holds its unix socket. A worker serves one attempt at a
time; the attempt's whole environment, its storage credentials and secrets included, travels
with the request and never enters the worker's own environment. Workers are started ahead
(`prepare`, up to as many as attempts of that kind are waiting), capped in number
(`max_workers`; an idle worker of another kind makes room), stopped after `idle_s` without
work, and all stopped by `close` (the end of an engine's run) and by `sandbox down`; a
worker's stdin is attached, so it also exits when the engine that started it dies.

A worker that dies under an attempt fails that attempt only: out of memory when the kernel
killed it for that, else a system error, which the task handler retries (on another worker).
"""
from __future__ import annotations

import atexit
import dataclasses
import hashlib
import json
import logging
import os
import shutil
import socket
import struct
import tempfile
import threading
import time
import weakref

from sandbox.runtime.container import ContainerRequest, ContainerResult
from sdk import warm_worker
from sdk.errors import SkiffError

log = logging.getLogger(__name__)

IMAGE_LABEL = "skiff.warm-worker"  # images whose Skiff has sdk/warm_worker.py say "1"
WORKER_LABEL = "skiff.warm-worker"  # on worker containers: this sandbox's home
DEFAULT_MAX_WORKERS = 8
DEFAULT_IDLE_S = 60.0
START_TIMEOUT_S = 60.0
SOCKET_MOUNT = "/opt/skiff-warm"  # where a worker sees its socket directory
MAX_LOG_BYTES = 1 << 20
# Variables that differ from attempt to attempt: not part of what makes workers alike.
_PER_ATTEMPT = ("FLYTE_INTERNAL_", "FLYTE_ATTEMPT_NUMBER", "FLYTE_K8S_ARRAY_INDEX",
                "BATCH_JOB_ARRAY_INDEX_VAR_NAME")
_pools: "weakref.WeakSet[WarmPool]" = weakref.WeakSet()


def kill_warm_tasks(execution_id: str, node_id: str | None = None) -> int:
    """Kill the attempts of an execution (or of one node and its inner nodes) that run in
    this process's warm workers; how many. The workers live on."""
    return sum(pool.kill(execution_id, node_id) for pool in list(_pools))


def stop_home_workers(api, home: str) -> int:
    """Remove every warm worker container of the sandbox in `home` (`skiff sandbox down`)."""
    import docker.errors

    removed = 0
    for container in api.containers(all=True, filters={"label": f"{WORKER_LABEL}={home}"}):
        try:
            api.remove_container(container["Id"], force=True, v=True)
            removed += 1
        except docker.errors.APIError:
            pass
    return removed


def worker_key(request: ContainerRequest) -> str:
    """What makes two attempts able to share a worker, as a digest (secrets are in it)."""
    env = {k: v for k, v in request.env.items() if not k.startswith(_PER_ATTEMPT)}
    facts = [request.image, request.nano_cpus, request.memory_bytes, request.pids_limit,
             request.read_only_root, sorted(env.items()), sorted(request.secret_env.items()),
             sorted(request.mounts)]
    return hashlib.sha256(json.dumps(facts, default=str).encode()).hexdigest()[:16]


@dataclasses.dataclass(eq=False)
class _Worker:
    key: str
    request: ContainerRequest  # the first request of its kind: its confinement
    directory: str  # on the host: the socket's directory
    state: str = "starting"  # starting, idle, busy, dead
    claimed: bool = False  # a starting worker an attempt waits for
    container_id: str = ""
    stdin: socket.socket | None = None
    idle_since: float = 0.0
    modules: set = dataclasses.field(default_factory=set)
    error: str = ""

    @property
    def socket_path(self) -> str:
        return os.path.join(self.directory, "socket")


@dataclasses.dataclass
class _Running:
    connection: socket.socket
    labels: dict


class WarmPool:
    def __init__(self, runner, home: str = "", max_workers: int = DEFAULT_MAX_WORKERS,
                 idle_s: float = DEFAULT_IDLE_S):
        self.runner = runner  # sandbox.runtime.docker_runner.DockerRunner
        self.home = home
        self.max_workers = max(int(max_workers), 1)
        self.idle_s = idle_s
        self._changed = threading.Condition()
        self._workers: list[_Worker] = []
        self._waiting: dict[str, set] = {}  # key -> labels of attempts prepared, not yet run
        self._credentials: dict[tuple, object] = {}  # labels -> future of IssuedCredentials
        self._running: dict[int, _Running] = {}
        self._directory = tempfile.mkdtemp(prefix="skiff-warm-")  # 0700: this user only
        self._closed = False
        self._reaper = threading.Thread(target=self._reap, daemon=True, name="skiff-warm-reaper")
        self._reaper.start()
        _pools.add(self)
        atexit.register(self.close)

    # ---- which attempts run here -----------------------------------------------------

    def accepts(self, request: ContainerRequest) -> bool:
        """Skiff's own entrypoint in an image whose Skiff has the warm worker."""
        if request.command or request.args[:1] != ["skiff-execute"]:
            return False
        return self.runner.image_labels(request.image).get(IMAGE_LABEL) == "1"

    # ---- ahead of the attempts -------------------------------------------------------

    def prepare(self, request: ContainerRequest) -> None:
        """An attempt like `request` will run soon: mint its credentials now and have a
        worker of its kind started, up to one per such attempt waiting."""
        key = worker_key(request)
        labels = tuple(sorted(request.labels.items()))
        with self._changed:
            self._waiting.setdefault(key, set()).add(labels)
            if request.storage is not None and labels not in self._credentials:
                self._credentials[labels] = (request.storage, self.runner.submit(
                    request.storage.issue))
            ready = [w for w in self._workers if w.key == key and w.state in ("starting", "idle")]
            if len(ready) < len(self._waiting[key]) and self._room():
                self._start(key, request)

    def forget(self, labels: dict[str, str]) -> None:
        """The attempt prepared under `labels` will not run here."""
        labels = tuple(sorted(labels.items()))
        with self._changed:
            for waiting in self._waiting.values():
                waiting.discard(labels)
            self._credentials.pop(labels, None)

    # ---- one attempt -----------------------------------------------------------------

    def run(self, request: ContainerRequest, on_created=None, on_output=None) -> ContainerResult:
        try:
            env = self._attempt_env(request)
        except SkiffError as exc:  # no storage credentials (MinIO down): retried as system
            return ContainerResult("", None, "", system_error=str(exc))
        for _ in range(3):  # a worker that ended idle (its own TTL) is replaced, not blamed
            try:
                worker = self._acquire(request)
            except SkiffError as exc:
                return ContainerResult("", None, "", system_error=str(exc))
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                connection.connect(worker.socket_path)
            except OSError:
                connection.close()
                self._retire(worker)
                continue
            try:
                return self._run_on(worker, connection, request, env, on_created, on_output)
            finally:
                connection.close()
        return ContainerResult("", None, "", system_error="no warm worker could take the task")

    def _run_on(self, worker: _Worker, connection, request, env, on_created, on_output):
        container = f"warm:{worker.container_id}"
        if on_created is not None:
            on_created(container)
        message = {"argv": request.args[1:], "env": env, "timeout": request.timeout}
        kept = bytearray()
        status = None
        with self._changed:
            self._running[id(connection)] = _Running(connection, request.labels)
        try:
            # the worker enforces the timeout; this guards against a worker that hangs
            connection.settimeout(request.timeout + 30 if request.timeout else None)
            connection.sendall(json.dumps(message).encode() + b"\n")
            while status is None:
                kind, data = _read_frame(connection)
                if kind == warm_worker.OUTPUT:
                    kept += data
                    if len(kept) > 2 * MAX_LOG_BYTES:
                        del kept[:-MAX_LOG_BYTES]
                    if on_output is not None:
                        try:
                            on_output(data)
                        except Exception:  # noqa: BLE001 - storing logs must not stop the task
                            log.debug("live log", exc_info=True)
                else:
                    status = json.loads(data)
        except (OSError, ConnectionError, ValueError) as exc:
            with self._changed:
                self._running.pop(id(connection), None)
            return self._died(worker, container, _text(kept), exc)
        with self._changed:
            self._running.pop(id(connection), None)
        module = _flag(request.args, "--task-module")
        self._release(worker, module)
        return ContainerResult(container, status["exit"], _text(kept),
                               oom_killed=bool(status.get("oom")),
                               timed_out=bool(status.get("timed_out")))

    def _died(self, worker: _Worker, container: str, logs: str, exc) -> ContainerResult:
        """The worker ended (or stopped answering) under the attempt: how it ended decides."""
        api = self.runner.api
        oom, code = False, None
        try:
            state = api.inspect_container(worker.container_id)["State"]
            if state.get("Running"):
                api.kill(worker.container_id)  # it hangs: it cannot be trusted with more work
                state = api.inspect_container(worker.container_id)["State"]
            oom, code = bool(state.get("OOMKilled")), state.get("ExitCode")
        except Exception:  # noqa: BLE001 - removed meanwhile
            pass
        self._retire(worker)
        if oom:
            return ContainerResult(container, code or 137, logs, oom_killed=True)
        return ContainerResult(container, code, logs, system_error=(
            f"the warm worker container {worker.container_id[:12]} ended while it ran the task "
            f"(exit {code}; {exc}); retried as a system error"
            + (f"\n{logs[-2000:]}" if logs else "")))

    def _attempt_env(self, request: ContainerRequest) -> dict[str, str]:
        """The attempt's environment: its own variables, its storage credentials (minted
        ahead when prepared and still fresh, else now) and its secrets."""
        storage_env = {}
        if request.storage is not None:
            labels = tuple(sorted(request.labels.items()))
            with self._changed:
                ahead = self._credentials.pop(labels, None)
            issued = None
            if ahead is not None and ahead[0] == request.storage:
                try:
                    issued = ahead[1].result()
                except Exception:  # noqa: BLE001 - minted again below, reporting then
                    issued = None
                if issued is not None and issued.expires_at < time.time() + request.storage.needed_s():
                    issued = None
            if issued is None:
                issued = request.storage.issue()
            storage_env = issued.env
        return {**request.env, **storage_env, **request.secret_env}

    # ---- workers ---------------------------------------------------------------------

    def _room(self) -> bool:
        return sum(w.state != "dead" for w in self._workers) < self.max_workers

    def _acquire(self, request: ContainerRequest) -> _Worker:
        key = worker_key(request)
        module = _flag(request.args, "--task-module")
        labels = tuple(sorted(request.labels.items()))
        deadline = time.monotonic() + START_TIMEOUT_S * 2
        with self._changed:
            self._waiting.get(key, set()).discard(labels)
            while True:
                if self._closed:
                    raise SkiffError("the warm workers were stopped")
                mine = [w for w in self._workers if w.key == key]
                idle = [w for w in mine if w.state == "idle"]
                if idle:
                    idle.sort(key=lambda w: module not in w.modules)  # its module loaded first
                    worker = idle[0]
                    worker.state = "busy"
                    return worker
                starting = [w for w in mine if w.state == "starting" and not w.claimed]
                if starting:
                    starting[0].claimed = True
                    return self._await_start(starting[0])
                if not self._room():
                    others = sorted((w for w in self._workers
                                     if w.state == "idle" and w.key != key),
                                    key=lambda w: w.idle_since)
                    if others:
                        self._stop(others[0])
                if self._room():
                    worker = self._start(key, request)
                    worker.claimed = True
                    return self._await_start(worker)
                if time.monotonic() > deadline:
                    raise SkiffError(f"no warm worker became free in {START_TIMEOUT_S * 2:g}s")
                self._changed.wait(1.0)

    def _await_start(self, worker: _Worker) -> _Worker:
        """Called holding the lock: wait until the claimed worker is ready (then busy)."""
        self._changed.wait_for(lambda: worker.state != "starting")
        if worker.state == "idle":
            worker.state = "busy"
            return worker
        raise SkiffError(worker.error or "the warm worker did not start")

    def _start(self, key: str, request: ContainerRequest) -> _Worker:
        """Called holding the lock: a new worker of `key`, started in the background."""
        directory = tempfile.mkdtemp(prefix="w-", dir=self._directory)
        os.chmod(directory, 0o777)  # the worker's user makes its socket there
        worker = _Worker(key, request, directory)
        self._workers.append(worker)
        self.runner.submit(self._boot, worker)
        return worker

    def _boot(self, worker: _Worker) -> None:
        error = ""
        try:
            self._create_and_wait(worker)
        except Exception as exc:  # noqa: BLE001 - the attempt that waits reports it
            error = f"cannot start a warm worker for image {worker.request.image!r}: {exc}"
            log.warning("%s", error)
        with self._changed:
            if worker.state == "starting":
                worker.state = "dead" if error else "idle"
                worker.error = error
                worker.idle_since = time.monotonic()
            self._changed.notify_all()
        if error:
            self._remove(worker)

    def _create_and_wait(self, worker: _Worker) -> None:
        api = self.runner.api
        environment = {warm_worker.SOCKET_ENV: f"{SOCKET_MOUNT}/socket",
                       warm_worker.IDLE_ENV: str(self.idle_s + 30)}
        labels = {WORKER_LABEL: self.home or "-", "skiff.warm-key": worker.key}
        worker.container_id = self.runner.create_confined(
            worker.request, environment, labels, ["-m", "sdk.warm_worker"], ["python3"],
            writable_binds={worker.directory: SOCKET_MOUNT}, stdin_open=True)
        # stdin attached before the start: it closes when this engine process ends, and the
        # worker then exits (a killed engine leaves no worker running)
        stream = api.attach_socket(worker.container_id, params={"stdin": 1, "stream": 1})
        worker.stdin = getattr(stream, "_sock", stream)
        api.start(worker.container_id)
        ready = os.path.join(worker.directory, warm_worker.READY_FILE)
        started = time.monotonic()
        checked = started
        while not os.path.exists(ready):
            time.sleep(0.005)
            now = time.monotonic()
            if now - checked > 1.0:
                checked = now
                state = api.inspect_container(worker.container_id)["State"]
                if not state.get("Running"):
                    raise SkiffError(f"it exited ({state.get('ExitCode')}): "
                                     f"{self._worker_logs(worker)}")
            if now - started > START_TIMEOUT_S:
                raise SkiffError(f"it was not ready after {START_TIMEOUT_S:g}s")

    def _worker_logs(self, worker: _Worker) -> str:
        try:
            return self.runner.api.logs(worker.container_id, tail=20).decode(errors="replace")
        except Exception:  # noqa: BLE001
            return ""

    def _release(self, worker: _Worker, module: str) -> None:
        with self._changed:
            if worker.state == "busy":
                worker.state = "idle"
                worker.idle_since = time.monotonic()
                if module:
                    worker.modules.add(module)
            self._changed.notify_all()

    def _retire(self, worker: _Worker) -> None:
        with self._changed:
            self._stop(worker)

    def _stop(self, worker: _Worker) -> None:
        """Called holding the lock: the worker leaves the pool; its container is removed."""
        worker.state = "dead"
        if worker in self._workers:
            self._workers.remove(worker)
        self._changed.notify_all()
        if not self._closed:
            self.runner.submit(self._remove, worker)
        else:
            self._remove(worker)

    def _remove(self, worker: _Worker) -> None:
        import docker.errors

        if worker.stdin is not None:
            try:
                worker.stdin.close()
            except OSError:
                pass
        if worker.container_id:
            try:
                self.runner.api.remove_container(worker.container_id, force=True, v=True)
            except docker.errors.APIError:
                pass
        shutil.rmtree(worker.directory, ignore_errors=True)

    def _reap(self) -> None:
        while not self._closed:
            time.sleep(min(self.idle_s / 4, 2.0))
            with self._changed:
                now = time.monotonic()
                for worker in [w for w in self._workers if w.state == "idle"
                               and now - w.idle_since > self.idle_s]:
                    self._stop(worker)

    # ---- terminate, shutdown ---------------------------------------------------------

    def kill(self, execution_id: str, node_id: str | None = None) -> int:
        """Tell the workers running the matching attempts to kill them."""
        killed = 0
        with self._changed:
            running = list(self._running.values())
        for entry in running:
            if entry.labels.get("skiff.execution") != execution_id:
                continue
            node = entry.labels.get("skiff.node", "")
            if node_id is not None and node != node_id and not node.startswith(node_id + "-"):
                continue
            try:
                entry.connection.sendall(b"k")
                killed += 1
            except OSError:
                pass
        return killed

    def close(self) -> None:
        """Stop every worker (the end of the engine's run)."""
        with self._changed:
            if self._closed:
                return
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
            self._changed.notify_all()
        for worker in workers:
            worker.state = "dead"
            self._remove(worker)
        shutil.rmtree(self._directory, ignore_errors=True)


def _read_exactly(connection: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the warm worker closed the connection")
        data += chunk
    return bytes(data)


def _read_frame(connection: socket.socket) -> tuple[bytes, bytes]:
    header = _read_exactly(connection, 5)
    size = struct.unpack(">I", header[1:])[0]
    return header[:1], _read_exactly(connection, size)


def _text(data: bytearray) -> str:
    if len(data) > MAX_LOG_BYTES:
        cut = len(data) - MAX_LOG_BYTES
        data = b"[... %d earlier bytes not kept ...]\n" % cut + data[cut:]
    return bytes(data).decode("utf-8", errors="replace")


def _flag(args: list[str], flag: str) -> str:
    if flag in args and args.index(flag) + 1 < len(args):
        return args[args.index(flag) + 1]
    return ""

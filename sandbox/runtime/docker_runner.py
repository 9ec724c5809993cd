"""Running one task attempt in a Docker container through the Docker API.

Per attempt: create, start, wait, logs, (inspect on failure), remove. The runner always reads
the container's real exit status; a container that vanished is a system error, never success.

Most of a container's start-up leaves the critical path of a chain of tasks. `prepare` gets
the next task's container ready while the task before it runs: when the image's `skiff-execute`
supports the start gate (the image label START_GATE_LABEL), the container is started ahead and
loads the task's code, then waits for a "go" line on its stdin that `run` writes once the inputs
are stored; otherwise it is only created and `run` starts it. A finished container is removed in
the background after its status and logs were read. `drain` waits for that background work and
removes prepared containers that no attempt used.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import socket
import struct
import threading
import time

from sandbox.runtime import done_marker
from sandbox.runtime.container import WARM_PREFIX, ContainerRequest, ContainerResult
from sdk import start_gate
from sdk.errors import SkiffError

log = logging.getLogger(__name__)

_UNPRIVILEGED_USER = "1000"
# An image whose skiff-execute has the start gate carries this label
# (sandbox/services/image_files/runtime.Dockerfile), and so do all its containers (Docker copies image labels); a container started ahead behind
# the gate carries STARTED_AHEAD_LABEL as well, so that a resume can tell it apart.
START_GATE_LABEL = start_gate.IMAGE_LABEL
STARTED_AHEAD_LABEL = "skiff.started-ahead"
START_AHEAD_ENV = "SKIFF_START_AHEAD"  # "0": only create containers ahead, never start them
MAX_STARTED_AHEAD = 4  # waiting containers hold memory; a wide fan-out gets the rest created only
BACKGROUND_WORKERS = 4
MAX_LOG_BYTES = 1 << 20
_client = None
_client_lock = threading.Lock()


def docker_api():
    """One low-level API client per process, created on first use (import is heavy)."""
    global _client
    with _client_lock:
        if _client is None:
            import docker

            try:
                _client = docker.from_env(max_pool_size=64).api
            except docker.errors.DockerException as exc:
                from sdk.errors import SandboxError

                raise SandboxError(f"cannot reach the Docker engine ({exc}); start it and "
                                   "run `skiff sandbox up`") from None
        return _client


def kill_execution_containers(execution_id: str, node_id: str | None = None) -> int:
    """Kill the running containers of an execution, or of one node and its inner nodes
    ("<node>-..."); how many. Killed, not removed: whoever waits for them still reads their
    status and logs, then removes them."""
    import docker.errors

    api = docker_api()
    containers = api.containers(filters={"label": f"skiff.execution={execution_id}",
                                         "status": "running"})
    killed = 0
    for container in containers:
        node = (container.get("Labels") or {}).get("skiff.node", "")
        if node_id is not None and node != node_id and not node.startswith(node_id + "-"):
            continue
        try:
            api.kill(container["Id"])
            killed += 1
        except docker.errors.APIError:
            pass  # it ended meanwhile
    return killed


class DockerRunner:
    """Runs ContainerRequests; `on_created(container_id)` lets the caller record the id first."""

    def __init__(self, api=None):
        self._api = api
        self._lock = threading.RLock()
        self._background = None  # a thread pool, started on first use
        self._pending: list = []  # futures of background calls
        # containers prepared ahead, by label set
        self._ahead: dict[tuple, _Ahead] = {}
        self._images: dict[str, _ImageFacts] = {}  # image -> its start gate and working dir

    @property
    def api(self):
        return self._api or docker_api()

    # ---- background work (preparing ahead, removing) -----------------------------------

    def _submit(self, fn, *args):
        import concurrent.futures  # not on the cached path, which never needs Docker

        with self._lock:
            if self._background is None:
                # Several at once: container start-ups overlap well, and a removal must not
                # hold up the start of the next task's container.
                self._background = concurrent.futures.ThreadPoolExecutor(
                    max_workers=BACKGROUND_WORKERS, thread_name_prefix="skiff-docker")
            future = self._background.submit(fn, *args)
            self._track(future)
            return future

    def submit(self, fn, *args):
        """Run `fn(*args)` on the runner's background threads; its future."""
        return self._submit(fn, *args)

    def _track(self, future) -> None:
        """Count `future` among the background work `drain` waits for (the pool's, or work on
        a thread of its own)."""
        with self._lock:
            self._pending = [f for f in self._pending if not f.done()] + [future]

    def prepare(self, request: ContainerRequest, start: bool = True) -> None:
        """Get the container of `request` ready in the background: started ahead and waiting
        at the start gate when its image allows (and `start`), else created; a later `run`
        of an equal request uses it. Until `run` says go, it runs nothing of the task's."""
        key = _ahead_key(request.labels)
        with self._lock:
            if key in self._ahead:
                return
            gated = (start and _gate_requested(request)
                     and sum(a.gated for a in self._ahead.values()) < MAX_STARTED_AHEAD)
            self._ahead[key] = _Ahead(request, gated, self._submit(self._make_ahead, request, gated))

    def _make_ahead(self, request: ContainerRequest, gated: bool):
        if gated and self._image_has_gate(request.image):
            return self._start_gated(request)
        return self._new(request, ahead=True)

    def _image_has_gate(self, image: str) -> bool:
        return self._image_facts(image).gated

    def _image_facts(self, image: str) -> "_ImageFacts":
        """What the runner needs to know of an image, inspected once per image."""
        if image not in self._images:
            import docker.errors

            try:
                config = self.api.inspect_image(image)["Config"] or {}
            except docker.errors.APIError:
                config = {}  # a missing image: create_container reports it
            labels = config.get("Labels") or {}
            self._images[image] = _ImageFacts(gated=labels.get(START_GATE_LABEL) == "stdin",
                                              workdir=config.get("WorkingDir") or "",
                                              labels=dict(labels),
                                              done_marker=labels.get(start_gate.DONE_LABEL) == "1")
        return self._images[image]

    def _start_gated(self, request: ContainerRequest) -> "_Prepared":
        prepared = self._new(request, gated=True, ahead=True)
        container_id = prepared.container_id
        try:
            # Attached before the start, so that stdin is connected from the first instant;
            # the engine's end of it closing (this process dying) closes the gate for good.
            stream = self.api.attach_socket(container_id, params={"stdin": 1, "stream": 1})
            self.api.start(container_id)
        except Exception:
            self._remove(container_id)
            raise
        prepared.gate = _raw_socket(stream)
        if self._image_facts(request.image).done_marker:
            prepared.done_token = done_marker.new_token()
        return prepared

    def _take_ahead(self, request: ContainerRequest) -> "_Prepared | None":
        with self._lock:
            entry = self._ahead.pop(_ahead_key(request.labels), None)
        if entry is None:
            return None
        try:
            prepared = entry.future.result()
        except Exception:  # noqa: BLE001 - create it again on the critical path, reporting
            return None
        if entry.request != request:  # something changed since (a secret's value, the storage
            self._discard(prepared)  # grant of inputs from elsewhere): not this one
            return None
        if (prepared.expires_at is not None and request.storage is not None
                and prepared.expires_at < time.time() + request.storage.needed_s()):
            self._discard(prepared)  # it waited so long that its credentials would run out
            return None
        return prepared

    def discard(self, labels: dict[str, str]) -> None:
        """The attempt prepared under `labels` will not run (its node came from the cache):
        free its container now rather than when the execution ends."""
        with self._lock:
            entry = self._ahead.pop(_ahead_key(labels), None)
        if entry is None:
            return

        def discard_when_made(future) -> None:
            if future.exception() is None:
                self._discard(future.result())

        entry.future.add_done_callback(discard_when_made)

    def _discard(self, prepared: "_Prepared") -> None:
        if prepared.gate is not None:
            prepared.close_gate()
        self._submit(self._remove, prepared.container_id)

    def drain(self, execution_id: str | None = None) -> None:
        """Remove containers created ahead for `execution_id` (all, if None) that no attempt
        used, then wait for the background removals, so that nothing an execution created
        outlives it. Other executions sharing this runner keep theirs."""
        with self._lock:
            keys = [k for k, entry in self._ahead.items()
                    if execution_id is None
                    or entry.request.labels.get("skiff.execution") == execution_id]
            unused = [self._ahead.pop(k) for k in keys]
        for entry in unused:
            try:
                prepared = entry.future.result()
            except Exception:  # noqa: BLE001 - never created: nothing to remove
                continue
            self._discard(prepared)
        while True:
            with self._lock:
                pending = [f for f in self._pending if not f.done()]
            if not pending:
                return
            import concurrent.futures

            concurrent.futures.wait(pending)

    def remove_unrecorded(self, execution_id: str, keep: set[str]) -> None:
        """Remove the execution's containers that were prepared ahead but never told to run
        (created only, or started and waiting at the start gate), except those in `keep`
        (recorded attempts, which a resume adopts)."""
        api = self.api
        label = f"skiff.execution={execution_id}"
        containers = api.containers(all=True, filters={"label": label, "status": "created"})
        containers += api.containers(all=True, filters={"label": [label, STARTED_AHEAD_LABEL]})
        for container in containers:
            if container["Id"] not in keep:
                self._remove(container["Id"])

    def _host_config(self, request: ContainerRequest, workdir: str,
                     writable_binds: dict[str, str] | None = None, auto_remove: bool = False):
        binds = {host: {"bind": inside, "mode": "ro"} for host, inside in request.mounts}
        binds.update({host: {"bind": inside, "mode": "rw"}
                      for host, inside in (writable_binds or {}).items()})
        return self.api.create_host_config(
            network_mode="host",  # containers reach MinIO on 127.0.0.1; never a bridge
            auto_remove=auto_remove,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            privileged=False,
            nano_cpus=request.nano_cpus,
            mem_limit=request.memory_bytes,
            memswap_limit=request.memory_bytes,  # no swap, so the limit really bites
            pids_limit=request.pids_limit,
            read_only=request.read_only_root,
            tmpfs=_writable_dirs(workdir) if request.read_only_root else None,
            mounts=_scratch_mounts() if request.read_only_root else None,
            binds=binds or None,
        )

    def _new(self, request: ContainerRequest, gated: bool = False,
             ahead: bool = False) -> "_Prepared":
        """Create the container of `request`, with its storage credentials minted now (in
        the background when prepared ahead)."""
        if request.storage is None:
            return _Prepared(self._create(request, gated))
        issued = request.storage.issue()
        log.debug("storage credentials of %s: %s, waited %.1f ms%s",
                  request.labels.get("skiff.node"), issued.how, issued.waited_s * 1000,
                  "" if ahead else " on its critical path")
        return _Prepared(self._create(request, gated, issued.env), expires_at=issued.expires_at)

    def _create(self, request: ContainerRequest, gated: bool = False,
                storage_env: dict[str, str] | None = None) -> str:
        environment = {**request.env, **(storage_env or {}), **request.secret_env}
        labels = request.labels
        if gated:
            environment[start_gate.ENV] = "stdin"
            labels = {**labels, STARTED_AHEAD_LABEL: "1"}
        return self.create_confined(request, environment, labels, request.args,
                                    request.command, stdin_open=gated)

    def create_confined(self, request: ContainerRequest, environment: dict[str, str],
                        labels: dict[str, str], args: list[str], command: list[str],
                        writable_binds: dict[str, str] | None = None,
                        stdin_open: bool = False, auto_remove: bool = False) -> str:
        """Create a container confined as `request`'s task container is (user, limits,
        read-only root, no capabilities, host loopback), running `command` `args`; a warm
        worker's (sandbox.runtime.warm_pool) too, which adds `writable_binds` (host path ->
        container path) for its socket."""
        # A read-only root needs a writable working directory: the image's, else /tmp.
        workdir = self._image_facts(request.image).workdir if request.read_only_root else ""
        if request.read_only_root and workdir in ("", "/"):
            workdir = "/tmp"
        host_config = self._host_config(request, workdir, writable_binds or {}, auto_remove)
        created = self.api.create_container(
            request.image,
            working_dir=workdir or None,
            command=args or None,
            entrypoint=command or None,
            environment=environment,
            labels=labels,
            user=_UNPRIVILEGED_USER,
            host_config=host_config,
            stdin_open=stdin_open,
        )
        return created["Id"]

    def image_labels(self, image: str) -> dict[str, str]:
        """The image's labels (inspected once per image); {} for a missing image."""
        return self._image_facts(image).labels

    def run(self, request: ContainerRequest, on_created=None, on_output=None) -> ContainerResult:
        """Run the request's container to its end. `on_created(container_id)` is called before
        it starts; `on_output(bytes)`, from another thread, with its output as it comes."""
        import docker.errors

        api = self.api
        try:
            prepared = self._take_ahead(request) or self._new(request)
        except SkiffError as exc:  # no storage credentials (MinIO down): retried as system
            return ContainerResult("", None, "", system_error=str(exc))
        except docker.errors.ImageNotFound:
            return ContainerResult("", None, "", retryable=False, system_error=(
                f"image {request.image!r} is not in the local Docker engine and the sandbox "
                "pulls nothing; build it under that name (a flytekit ImageSpec image: `skiff "
                "image build --imagespec YOUR_TASKS.py`; else `skiff image build "
                f"--requirements requirements.txt --tag {request.image}`), or tag a local image "
                f"as it (`docker tag LOCAL_IMAGE {request.image}`)"))
        except docker.errors.APIError as exc:
            return ContainerResult("", None, "", system_error=f"Docker could not create the "
                                   f"container for image {request.image!r}: {exc.explanation or exc}")
        except Exception as exc:  # noqa: BLE001 - engine unreachable: a system error, retried
            return ContainerResult("", None, "", system_error=f"cannot reach the Docker engine "
                                   f"to create a container for {request.image!r}: {exc}")
        container_id = prepared.container_id
        if on_created is not None:
            on_created(container_id)
        if prepared.gate is not None:
            # Running already, the task loaded: let it read its inputs. A container that died
            # meanwhile (out of memory while importing) shows that in its exit status.
            prepared.open_gate()
            return self.wait(container_id, request.timeout, request.memory_text, on_output,
                             done_token=prepared.done_token)
        try:
            api.start(container_id)
        except docker.errors.APIError as exc:
            self._remove(container_id)
            return ContainerResult(container_id, None, "", system_error=(
                f"Docker could not start image {request.image!r}: {exc.explanation or exc}"))
        return self.wait(container_id, request.timeout, request.memory_text, on_output)

    def wait(self, container_id: str, timeout: float | None,
             memory_text: str | None = None, on_output=None,
             done_token: str | None = None) -> ContainerResult:
        """Wait for a (possibly adopted) container, collect its logs and status, remove it.
        With `on_output`, its output is followed while it runs and handed over as it comes.
        With `done_token` (its go line's), a successful attempt ends at its done marker."""
        watch = done_marker.MarkerWatch(done_token) if done_token else None
        pump = (_LogPump(self.api, container_id, on_output or _ignore, watch)
                if on_output is not None or watch is not None else None)
        try:
            if watch is not None:
                return self._wait_for_marker(container_id, timeout, pump, watch)
            return self._wait(container_id, timeout, pump)
        finally:
            if pump is not None:
                pump.stop()

    def _wait_for_marker(self, container_id: str, timeout: float | None, pump: "_LogPump",
                         watch: done_marker.MarkerWatch) -> ContainerResult:
        """Whichever comes first: the done marker of a successful attempt (then Docker's
        report of the exit, and the removal, are waited for in the background), or the exit."""
        exit_waiter = _ExitWaiter(self, container_id, timeout, watch.done)
        watch.done.wait()
        if watch.announced and watch.exit_code == 0 and not exit_waiter.finished():
            exit_waiter.remove_when_exited()
            return ContainerResult(container_id, 0, pump.output_so_far())
        return self._wait(container_id, timeout, pump, exit_waiter.result())

    def _await_exit(self, container_id: str, timeout: float | None):
        """(Docker's wait status, whether the timeout killed it), or the ContainerResult of an
        engine that could not say."""
        import docker.errors
        import requests.exceptions

        api = self.api
        timed_out = False
        try:
            try:
                status = api.wait(container_id, timeout=timeout)
            except requests.exceptions.RequestException as exc:
                if timeout is None or not _is_read_timeout(exc):
                    raise
                timed_out = True
                self._kill(container_id)
                status = api.wait(container_id, timeout=30)
        except docker.errors.NotFound:
            return ContainerResult(container_id, None, "", system_error=(
                f"container {container_id[:12]} disappeared before Skiff read its exit status"))
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            # The engine is unreachable: the container may still run; a resume adopts it.
            return ContainerResult(container_id, None, "", system_error=(
                f"lost the Docker engine while waiting for container {container_id[:12]}: "
                f"{exc}"))
        return status, timed_out

    def _wait(self, container_id: str, timeout: float | None, pump, exited=None) -> ContainerResult:
        import docker.errors

        api = self.api
        exited = exited if exited is not None else self._await_exit(container_id, timeout)
        if isinstance(exited, ContainerResult):
            return exited
        status, timed_out = exited
        exit_code = status.get("StatusCode")
        logs = pump.finish() if pump is not None else None
        if logs is None:
            logs = self._logs(container_id)
        if exit_code is None or status.get("Error"):
            self._submit(self._remove, container_id)
            detail = (status.get("Error") or {}).get("Message") or "no exit status"
            return ContainerResult(container_id, exit_code, logs, system_error=(
                f"Docker could not report how container {container_id[:12]} ended: {detail}"))
        oom = False
        if exit_code not in (0, None) and not timed_out:
            try:
                oom = bool(api.inspect_container(container_id)["State"].get("OOMKilled"))
            except docker.errors.NotFound:
                pass
        self._submit(self._remove, container_id)  # off the critical path: all is read
        return ContainerResult(container_id, exit_code, logs, oom_killed=oom, timed_out=timed_out)

    def adopt(self, container_id: str, timeout: float | None,
              memory_text: str | None = None, on_output=None) -> ContainerResult | None:
        """Finish an attempt whose engine died: start the container if it never started,
        then wait for it. None when the container no longer exists."""
        import docker.errors

        if container_id.startswith(WARM_PREFIX):
            return None  # its worker ended with the engine that ran it (warm_pool)
        try:
            details = self.api.inspect_container(container_id)
            if details["State"]["Status"] == "created":
                self.api.start(container_id)
        except docker.errors.NotFound:
            return None
        result = self.wait(container_id, timeout, memory_text, on_output)
        gated = STARTED_AHEAD_LABEL in (details["Config"].get("Labels") or {})
        if gated and result.exit_code == start_gate.CLOSED_EXIT:
            return None  # its gate closed with the engine that started it: it ran nothing
        return result

    def _logs(self, container_id: str) -> str:
        """stdout and stderr, the last MAX_LOG_BYTES of them (the store is not a log archive)."""
        import docker.errors

        api = self.api
        try:
            # The raw endpoint: docker-py's logs() inspects the container first to learn
            # whether it has a TTY; ours never do, so the stream is always multiplexed.
            response = api._get(api._url("/containers/{0}/logs", container_id),
                                params={"stdout": 1, "stderr": 1})
            data = _demultiplex(api._result(response, binary=True))
        except docker.errors.APIError:
            return ""
        if len(data) > MAX_LOG_BYTES:
            cut = len(data) - MAX_LOG_BYTES
            data = b"[... %d earlier bytes not kept ...]\n" % cut + data[cut:]
        return data.decode("utf-8", errors="replace")

    def _kill(self, container_id: str) -> None:
        import docker.errors

        try:
            self.api.kill(container_id)
        except docker.errors.APIError:
            pass  # already stopped

    def _remove(self, container_id: str) -> None:
        import docker.errors

        try:
            # v: its anonymous /tmp volume goes with it
            self.api.remove_container(container_id, force=True, v=True)
        except docker.errors.APIError as exc:
            log.warning("could not remove container %s: %s", container_id[:12], exc)


class _LogPump:
    """Follows a started container's output (stdout and stderr as written) in a thread,
    handing each piece to `on_output` and keeping the last MAX_LOG_BYTES for the result."""

    def __init__(self, api, container_id: str, on_output, watch=None):
        self._api = api
        self._container_id = container_id
        self._on_output = on_output
        self._watch = watch  # a done_marker.MarkerWatch: markers are not the task's output
        self._kept = bytearray()
        self._stream = None
        self._failed = False
        self._thread = threading.Thread(target=self._pump, daemon=True,
                                        name=f"skiff-log-{container_id[:12]}")
        self._thread.start()

    def _pump(self) -> None:
        try:
            from docker.types.daemon import CancellableStream

            api = self._api
            # The raw endpoint, as _logs reads it: docker-py's logs() inspects the container
            # first (a TTY? ours never have one), one more engine call per attempt.
            response = api._get(api._url("/containers/{0}/logs", self._container_id),
                                params={"stdout": 1, "stderr": 1, "follow": 1}, stream=True)
            api._raise_for_status(response)
            self._stream = CancellableStream(api._multiplexed_response_stream_helper(response),
                                             response)
            for chunk in self._stream:
                if self._watch is not None:
                    chunk = self._watch.feed(chunk)
                    if not chunk:
                        self._watch.signal_if_announced()
                        continue
                self._kept += chunk
                if len(self._kept) > 2 * MAX_LOG_BYTES:
                    del self._kept[:-MAX_LOG_BYTES]
                try:
                    self._on_output(chunk)
                except Exception:  # noqa: BLE001 - storing logs must not stop the task
                    log.debug("live log of %s", self._container_id[:12], exc_info=True)
                if self._watch is not None:  # all output before the markers is handed on
                    self._watch.signal_if_announced()
        except Exception:  # noqa: BLE001 - the engine dropped the stream: read them at the end
            log.debug("following logs of %s", self._container_id[:12], exc_info=True)
            self._failed = True
        finally:
            if self._watch is not None:
                self._kept += self._watch.flush()

    def finish(self, timeout: float = 10.0) -> str | None:
        """The container's output once it ended (the stream ends with it); None when the
        stream failed, so that the caller reads the logs whole."""
        self._thread.join(timeout)
        if self._thread.is_alive() or self._failed:
            return None
        return self.output_so_far()

    def output_so_far(self) -> str:
        """What the container wrote until now (all of it, once the done marker arrived)."""
        data = bytes(self._kept)
        if len(data) > MAX_LOG_BYTES:
            cut = len(data) - MAX_LOG_BYTES
            data = b"[... %d earlier bytes not kept ...]\n" % cut + data[cut:]
        return data.decode("utf-8", errors="replace")

    def stop(self) -> None:
        stream = self._stream
        if self._thread.is_alive() and stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - closing a dead stream
                pass


def _ignore(_output: bytes) -> None:
    pass


class _ExitWaiter:
    """Docker's report of a container's exit, awaited in a thread (so that the done marker can
    come first); sets `wake` when it arrives."""

    def __init__(self, runner: DockerRunner, container_id: str, timeout: float | None,
                 wake: threading.Event):
        self._runner = runner
        self._container_id = container_id
        self._outcome = None
        self._removed = None  # a Future, once the container is to be removed when it exited
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, args=(timeout, wake), daemon=True,
                                        name=f"skiff-wait-{container_id[:12]}")
        self._thread.start()

    def _run(self, timeout: float | None, wake: threading.Event) -> None:
        try:
            outcome = self._runner._await_exit(self._container_id, timeout)
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks for the result
            outcome = exc
        with self._lock:
            self._outcome = outcome
            removed = self._removed
        wake.set()
        if removed is not None:
            try:
                self._runner._remove(self._container_id)
            finally:
                removed.set_result(None)

    def finished(self) -> bool:
        return not self._thread.is_alive() and self._outcome is not None

    def result(self):
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        return self._outcome

    def remove_when_exited(self) -> None:
        """The attempt ended at its marker: remove the container once Docker saw it exit (the
        runner's `drain` waits for that)."""
        import concurrent.futures

        with self._lock:
            if self._outcome is None:
                self._removed = concurrent.futures.Future()
                self._runner._track(self._removed)
                return
        self._runner.submit(self._runner._remove, self._container_id)


@dataclasses.dataclass
class _Prepared:
    """A container made ahead; `gate` is the write end of its stdin when it was started, and
    `done_token` the done marker's token its go line asks for (None: its image has none)."""

    container_id: str
    gate: socket.socket | None = None
    expires_at: float | None = None  # of its storage credentials (time.time())
    done_token: str | None = None

    def open_gate(self) -> None:
        try:
            self.gate.sendall(start_gate.go_line(self.done_token))
        except OSError:
            pass  # it ended already; its exit status says how
        self.close_gate()

    def close_gate(self) -> None:
        try:
            self.gate.close()
        except OSError:
            pass


@dataclasses.dataclass
class _ImageFacts:
    gated: bool  # its skiff-execute has the start gate
    workdir: str  # Config.WorkingDir, "" when unset
    labels: dict = dataclasses.field(default_factory=dict)
    done_marker: bool = False  # its skiff-execute writes the done marker (sdk.start_gate)


def _writable_dirs(workdir: str) -> dict[str, str]:
    """tmpfs for the working directory of a read-only root, owned by the task's user (the
    code bundle is extracted there; `exec`: it may hold native modules). /tmp is a volume
    instead (_scratch_mounts): tmpfs pages count against the memory limit, and a task may
    well write a file larger than its memory to /tmp, as it can on a Flyte cluster."""
    if not workdir or workdir == "/tmp":
        return {}
    return {workdir: (f"rw,exec,nosuid,nodev,mode=0755,uid={_UNPRIVILEGED_USER},"
                      f"gid={_UNPRIVILEGED_USER}")}


def _scratch_mounts() -> list:
    """/tmp on an anonymous volume (disk, not memory), removed with the container."""
    from docker.types import Mount

    return [Mount(target="/tmp", source=None, type="volume")]


@dataclasses.dataclass
class _Ahead:
    request: ContainerRequest
    gated: bool
    future: object  # concurrent.futures.Future of a _Prepared


def _gate_requested(request: ContainerRequest) -> bool:
    """Start ahead only what runs Skiff's entrypoint directly (Flyte's own entrypoints know
    no gate), unless switched off."""
    return (os.environ.get(START_AHEAD_ENV, "1") != "0" and not request.command
            and request.args[:1] == ["skiff-execute"])


def _raw_socket(stream) -> socket.socket:
    """The socket under docker-py's attach stream (a SocketIO over the engine's unix socket)."""
    return getattr(stream, "_sock", stream)


def _ahead_key(labels: dict[str, str]) -> tuple:
    return tuple(sorted(labels.items()))  # execution, node, attempt


def _demultiplex(data: bytes) -> bytes:
    """Docker's multiplexed log stream (8-byte frame headers: stream, 0, 0, 0, size) -> the
    frames' payloads in order, stdout and stderr interleaved as written."""
    out, offset = [], 0
    while offset + 8 <= len(data):
        size = struct.unpack_from(">I", data, offset + 4)[0]
        out.append(data[offset + 8: offset + 8 + size])
        offset += 8 + size
    return b"".join(out)


def _is_read_timeout(exc: Exception) -> bool:
    """The wait call's own timeout (requests reports it as ReadTimeout or, through urllib3 on a
    unix socket, as a ConnectionError about a read timeout)."""
    import requests.exceptions

    return isinstance(exc, requests.exceptions.ReadTimeout) or "timed out" in str(exc).lower()

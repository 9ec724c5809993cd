"""Running one task attempt in a Docker container through the Docker API.

Per attempt: create, start, wait, logs, (inspect on failure), remove. The runner always reads
the container's real exit status; a container that vanished is a system error, never success.
"""
from __future__ import annotations

import logging
import threading

from sandbox.runtime.container import ContainerRequest, ContainerResult

log = logging.getLogger(__name__)

_UNPRIVILEGED_USER = "1000"
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


class DockerRunner:
    """Runs ContainerRequests; `on_created(container_id)` lets the caller record the id first."""

    def __init__(self, api=None):
        self._api = api

    @property
    def api(self):
        return self._api or docker_api()

    def run(self, request: ContainerRequest, on_created=None) -> ContainerResult:
        import docker.errors

        api = self.api
        host_config = api.create_host_config(
            network_mode="host",  # containers reach MinIO on 127.0.0.1; never a bridge
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            privileged=False,
            nano_cpus=request.nano_cpus,
            mem_limit=request.memory_bytes,
            memswap_limit=request.memory_bytes,  # no swap, so the limit really bites
        )
        env = {**request.env, **request.secret_env}
        try:
            created = api.create_container(
                request.image,
                command=request.args or None,
                entrypoint=request.command or None,
                environment=env,
                labels=request.labels,
                user=_UNPRIVILEGED_USER,
                host_config=host_config,
            )
        except docker.errors.ImageNotFound:
            return ContainerResult("", None, "", system_error=(
                f"image {request.image!r} is not in the local Docker engine (no registry is "
                "reachable); build or load it, e.g. `skiff sandbox up` builds the runtime image"))
        except docker.errors.APIError as exc:
            return ContainerResult("", None, "", system_error=f"Docker could not create the "
                                   f"container for image {request.image!r}: {exc.explanation or exc}")
        except Exception as exc:  # noqa: BLE001 - engine unreachable: a system error, retried
            return ContainerResult("", None, "", system_error=f"cannot reach the Docker engine "
                                   f"to create a container for {request.image!r}: {exc}")
        container_id = created["Id"]
        if on_created is not None:
            on_created(container_id)
        try:
            api.start(container_id)
        except docker.errors.APIError as exc:
            self._remove(container_id)
            return ContainerResult(container_id, None, "", system_error=(
                f"Docker could not start image {request.image!r}: {exc.explanation or exc}"))
        return self.wait(container_id, request.timeout, request.memory_text)

    def wait(self, container_id: str, timeout: float | None,
             memory_text: str | None = None) -> ContainerResult:
        """Wait for a (possibly adopted) container, collect its logs and status, remove it."""
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
        exit_code = status.get("StatusCode")
        logs = self._logs(container_id)
        if exit_code is None or status.get("Error"):
            self._remove(container_id)
            detail = (status.get("Error") or {}).get("Message") or "no exit status"
            return ContainerResult(container_id, exit_code, logs, system_error=(
                f"Docker could not report how container {container_id[:12]} ended: {detail}"))
        oom = False
        if exit_code not in (0, None) and not timed_out:
            try:
                oom = bool(api.inspect_container(container_id)["State"].get("OOMKilled"))
            except docker.errors.NotFound:
                pass
        self._remove(container_id)
        return ContainerResult(container_id, exit_code, logs, oom_killed=oom, timed_out=timed_out)

    def adopt(self, container_id: str, timeout: float | None,
              memory_text: str | None = None) -> ContainerResult | None:
        """Finish an attempt whose engine died: start the container if it never started,
        then wait for it. None when the container no longer exists."""
        import docker.errors

        try:
            status = self.api.inspect_container(container_id)["State"]["Status"]
            if status == "created":
                self.api.start(container_id)
        except docker.errors.NotFound:
            return None
        return self.wait(container_id, timeout, memory_text)

    def _logs(self, container_id: str) -> str:
        """stdout and stderr, the last MAX_LOG_BYTES of them (the store is not a log archive)."""
        import docker.errors

        try:
            data = self.api.logs(container_id, stdout=True, stderr=True)
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
            self.api.remove_container(container_id, force=True)
        except docker.errors.APIError as exc:
            log.warning("could not remove container %s: %s", container_id[:12], exc)


def _is_read_timeout(exc: Exception) -> bool:
    """The wait call's own timeout (requests reports it as ReadTimeout or, through urllib3 on a
    unix socket, as a ConnectionError about a read timeout)."""
    import requests.exceptions

    return isinstance(exc, requests.exceptions.ReadTimeout) or "timed out" in str(exc).lower()

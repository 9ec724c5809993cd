"""The output so far of a task container that is still running, for readers that follow a
node's logs while it runs (the runner stores a container's logs only once it has exited)."""
from __future__ import annotations

import functools

MAX_LIVE_BYTES = 4 * 1024 * 1024


@functools.lru_cache(maxsize=1)
def _client():
    from sandbox.services.docker_engine import docker_client

    return docker_client(timeout=10)


def running_logs(container_id: str) -> str | None:
    """stdout and stderr of the container so far (the last MAX_LIVE_BYTES), or None when it
    is gone (finished and removed: the store then has its logs)."""
    import docker.errors

    try:
        container = _client().containers.get(container_id)
        data = container.logs(stdout=True, stderr=True)
    except docker.errors.NotFound:
        return None
    except docker.errors.APIError:
        return None
    if len(data) > MAX_LIVE_BYTES:
        data = data[-MAX_LIVE_BYTES:]
    return data.decode("utf-8", errors="replace")

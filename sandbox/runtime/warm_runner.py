"""The Docker runner with warm task workers (`--reuse-containers`): attempts that a warm
worker can run (sandbox.runtime.warm_pool.WarmPool.accepts) go to the pool, every other one
to a container of its own, exactly as without reuse."""
from __future__ import annotations

from sandbox.runtime.container import ContainerRequest, ContainerResult
from sandbox.runtime.docker_runner import DockerRunner
from sandbox.runtime.warm_pool import WarmPool


class WarmRunner:
    def __init__(self, runner: DockerRunner | None = None, home: str = "",
                 max_workers: int | None = None, idle_s: float | None = None):
        from sandbox.runtime import warm_pool

        self.runner = runner or DockerRunner()
        self.pool = WarmPool(self.runner, home,
                             max_workers or warm_pool.DEFAULT_MAX_WORKERS,
                             idle_s or warm_pool.DEFAULT_IDLE_S)

    @property
    def api(self):
        return self.runner.api

    def prepare(self, request: ContainerRequest, start: bool = True) -> None:
        if self.pool.accepts(request):
            self.pool.prepare(request)
        else:
            self.runner.prepare(request, start)

    def run(self, request: ContainerRequest, on_created=None, on_output=None) -> ContainerResult:
        if self.pool.accepts(request):
            return self.pool.run(request, on_created, on_output)
        return self.runner.run(request, on_created, on_output)

    def adopt(self, container_id: str, timeout, memory_text=None, on_output=None):
        """An attempt of an engine that died; one that ran in a warm worker has nothing to
        wait for (the worker killed it when that engine's connection closed): None, and the
        task handler looks for its results, else runs it again."""
        return self.runner.adopt(container_id, timeout, memory_text, on_output)

    def discard(self, labels: dict[str, str]) -> None:
        self.pool.forget(labels)
        self.runner.discard(labels)

    def drain(self, execution_id: str | None = None) -> None:
        self.runner.drain(execution_id)

    def remove_unrecorded(self, execution_id: str, keep: set[str]) -> None:
        self.runner.remove_unrecorded(execution_id, keep)

    def wait(self, *args, **kwargs):
        return self.runner.wait(*args, **kwargs)

    def close(self) -> None:
        """Stop the warm workers (the end of the engine's run)."""
        self.pool.close()

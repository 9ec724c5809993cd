"""The Docker runner with warm task workers (`--reuse-containers`): attempts that a warm
worker can run (sandbox.runtime.warm_pool.WarmPool.accepts) go to the pool, every other one
to a container of its own, exactly as without reuse."""
from __future__ import annotations

import threading

from sandbox.runtime.container import ContainerRequest, ContainerResult
from sandbox.runtime.docker_runner import DockerRunner
from sandbox.runtime.warm_pool import WarmPool


class WarmRunner:
    """`only_opted_in`: only the attempts of tasks that ask for a warm worker
    (@task(reuse_container=True)) go to the pool, which is made on the first of them."""

    def __init__(self, runner: DockerRunner | None = None, home: str = "",
                 max_workers: int | None = None, idle_s: float | None = None,
                 only_opted_in: bool = False):
        self.runner = runner or DockerRunner()
        self._pool_settings = (home, max_workers, idle_s)
        self._pool = None
        self._pool_lock = threading.Lock()
        self.only_opted_in = only_opted_in

    @property
    def pool(self) -> WarmPool:
        with self._pool_lock:
            if self._pool is None:
                from sandbox.runtime import warm_pool

                home, max_workers, idle_s = self._pool_settings
                self._pool = WarmPool(self.runner, home,
                                      max_workers or warm_pool.DEFAULT_MAX_WORKERS,
                                      idle_s or warm_pool.DEFAULT_IDLE_S)
            return self._pool

    def _warm(self, request: ContainerRequest) -> bool:
        if self.only_opted_in and not request.reuse_opt_in:
            return False
        return self.pool.accepts(request)

    @property
    def api(self):
        return self.runner.api

    def prepare(self, request: ContainerRequest, start: bool = True) -> None:
        if self._warm(request):
            self.pool.prepare(request)
        else:
            self.runner.prepare(request, start)

    def run(self, request: ContainerRequest, on_created=None, on_output=None) -> ContainerResult:
        if self._warm(request):
            return self.pool.run(request, on_created, on_output)
        return self.runner.run(request, on_created, on_output)

    def adopt(self, container_id: str, timeout, memory_text=None, on_output=None):
        """An attempt of an engine that died; one that ran in a warm worker has nothing to
        wait for (the worker killed it when that engine's connection closed): None, and the
        task handler looks for its results, else runs it again."""
        return self.runner.adopt(container_id, timeout, memory_text, on_output)

    def discard(self, labels: dict[str, str]) -> None:
        if self._pool is not None:
            self._pool.forget(labels)
        self.runner.discard(labels)

    def drain(self, execution_id: str | None = None) -> None:
        self.runner.drain(execution_id)

    def remove_unrecorded(self, execution_id: str, keep: set[str]) -> None:
        self.runner.remove_unrecorded(execution_id, keep)

    def wait(self, *args, **kwargs):
        return self.runner.wait(*args, **kwargs)

    def close(self) -> None:
        """Stop the warm workers (the end of the engine's run)."""
        if self._pool is not None:
            self._pool.close()

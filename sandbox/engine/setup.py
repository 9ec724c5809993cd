"""Building an EngineContext from the sandbox's recorded state."""
from __future__ import annotations

import os
from pathlib import Path

from sandbox.engine.context import EngineContext

DEFAULT_PARALLELISM = 8
REUSE_ALL, REUSE_OPTED_IN, REUSE_NONE = "all", "opted-in", "none"


def default_parallelism() -> int:
    try:
        return max(int(os.environ.get("SKIFF_PARALLELISM", DEFAULT_PARALLELISM)), 1)
    except ValueError:
        return DEFAULT_PARALLELISM


class LazyRunner:
    """The Docker runner, made when a container is first needed: a run that the cache answers
    whole never loads it (nor the Docker client); with nothing made, there is nothing to drain
    or discard. With `reuse_containers`, the runner with warm task workers
    (sandbox.runtime.warm_runner), whose workers `close` stops."""

    def __init__(self, reuse: str = REUSE_NONE, home: str = ""):
        self._runner = None
        # REUSE_ALL, REUSE_OPTED_IN (the tasks that ask, @task(reuse_container=True)) or
        # REUSE_NONE (reuse_mode)
        self.reuse = reuse
        self._home = home

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        if self._runner is None:
            if self.reuse != REUSE_NONE:
                from sandbox.runtime.warm_runner import WarmRunner

                self._runner = WarmRunner(home=self._home,
                                          max_workers=warm_worker_limit(),
                                          only_opted_in=self.reuse == REUSE_OPTED_IN)
            else:
                from sandbox.runtime.docker_runner import DockerRunner

                self._runner = DockerRunner()
        return getattr(self._runner, name)

    def close(self) -> None:
        """The engine's run ended: stop its warm workers, if any."""
        close = getattr(self._runner, "close", None)
        if close is not None:
            close()

    def drain(self, execution_id: str | None = None) -> None:
        if self._runner is not None:
            self._runner.drain(execution_id)

    def discard(self, labels: dict[str, str]) -> None:
        if self._runner is not None:
            self._runner.discard(labels)


def warm_worker_limit() -> int | None:
    """SKIFF_WARM_WORKERS: at most this many warm workers at once (default: the pool's)."""
    try:
        return max(int(os.environ["SKIFF_WARM_WORKERS"]), 1)
    except (KeyError, ValueError):
        return None


def reuse_containers_default(state) -> bool:
    """Whether executions run tasks in warm workers when the command does not say: the
    SKIFF_REUSE_CONTAINERS variable ("1"/"0"), else the sandbox's recorded setting."""
    return reuse_mode(state) == REUSE_ALL


def reuse_mode(state, reuse_containers: bool | None = None) -> str:
    """Which tasks run in warm workers: all of them when the command, SKIFF_REUSE_CONTAINERS
    or the sandbox's setting says so; none when the command or the variable says no (the
    switch that also overrides tasks' own wish); else the tasks that ask for it."""
    if reuse_containers is not None:
        return REUSE_ALL if reuse_containers else REUSE_NONE
    value = os.environ.get("SKIFF_REUSE_CONTAINERS")
    if value is not None:
        return REUSE_ALL if value.strip().lower() in ("1", "true", "yes", "on") else REUSE_NONE
    return REUSE_ALL if getattr(state, "reuse_containers", False) else REUSE_OPTED_IN


def context_from_state(state, parallelism: int | None = None, on_event=None,
                       reuse_containers: bool | None = None) -> EngineContext:
    from sandbox.runtime.storage_credentials import StorageCredentialIssuer
    from sandbox.engine.eager_access import AdminAccess
    from sandbox.engine.shared_bundle import SharedBundles
    from sandbox.home import SHARED_BUNDLES_DIR
    from sandbox.storage import ObjectStore
    from sandbox.store import open_store

    objects = ObjectStore.from_state(state)
    return EngineContext(
        store=open_store(state.database_url), objects=objects,
        runner=LazyRunner(reuse_mode(state, reuse_containers), state.home),
        storage_env=state.storage_env(),
        parallelism=parallelism or default_parallelism(),
        secrets_dir=str(Path(state.home) / "secrets"), on_event=on_event,
        container_policy=state.task_container_policy(),
        storage_credentials=StorageCredentialIssuer.from_state(state),
        admin=AdminAccess(state.admin_endpoint, str(state.home)) if state.admin_endpoint
        else None,
        bundles=SharedBundles(objects, str(Path(state.home) / SHARED_BUNDLES_DIR)))

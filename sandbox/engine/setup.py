"""Building an EngineContext from the sandbox's recorded state."""
from __future__ import annotations

import os
from pathlib import Path

from sandbox.engine.context import EngineContext

DEFAULT_PARALLELISM = 8


def default_parallelism() -> int:
    try:
        return max(int(os.environ.get("SKIFF_PARALLELISM", DEFAULT_PARALLELISM)), 1)
    except ValueError:
        return DEFAULT_PARALLELISM


class LazyRunner:
    """The Docker runner, made when a container is first needed: a run that the cache answers
    whole never loads it (nor the Docker client); with nothing made, there is nothing to drain
    or discard."""

    def __init__(self):
        self._runner = None

    def __getattr__(self, name: str):
        if self._runner is None:
            from sandbox.runtime.docker_runner import DockerRunner

            self._runner = DockerRunner()
        return getattr(self._runner, name)

    def drain(self, execution_id: str | None = None) -> None:
        if self._runner is not None:
            self._runner.drain(execution_id)

    def discard(self, labels: dict[str, str]) -> None:
        if self._runner is not None:
            self._runner.discard(labels)


def context_from_state(state, parallelism: int | None = None, on_event=None) -> EngineContext:
    from sandbox.runtime.storage_credentials import StorageCredentialIssuer
    from sandbox.engine.shared_bundle import SharedBundles
    from sandbox.home import SHARED_BUNDLES_DIR
    from sandbox.storage import ObjectStore
    from sandbox.store import open_store

    objects = ObjectStore.from_state(state)
    return EngineContext(
        store=open_store(state.database_url), objects=objects,
        runner=LazyRunner(), storage_env=state.storage_env(),
        parallelism=parallelism or default_parallelism(),
        secrets_dir=str(Path(state.home) / "secrets"), on_event=on_event,
        container_policy=state.task_container_policy(),
        storage_credentials=StorageCredentialIssuer.from_state(state),
        admin_endpoint=state.admin_endpoint,
        bundles=SharedBundles(objects, str(Path(state.home) / SHARED_BUNDLES_DIR)))

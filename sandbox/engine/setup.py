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


def context_from_state(state, parallelism: int | None = None, on_event=None) -> EngineContext:
    from sandbox.runtime import DockerRunner
    from sandbox.storage import ObjectStore
    from sandbox.store import open_store

    return EngineContext(
        store=open_store(state.database_url), objects=ObjectStore.from_state(state),
        runner=DockerRunner(), storage_env=state.storage_env(),
        parallelism=parallelism or default_parallelism(),
        secrets_dir=str(Path(state.home) / "secrets"), on_event=on_event)

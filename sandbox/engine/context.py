"""What the engine needs to run an execution, passed explicitly (no global context)."""
from __future__ import annotations

import dataclasses
from typing import Callable

from sandbox.runtime.policy import ContainerPolicy
from sandbox.engine.abort import AbortSignal


@dataclasses.dataclass
class NodeEvent:
    execution_id: str
    node_id: str
    task: str | None
    state: str
    attempt: int
    duration: float | None = None
    error: str | None = None


@dataclasses.dataclass
class EngineContext:
    store: object  # sandbox.store.repository.Store
    objects: object  # sandbox.storage.ObjectStore
    runner: object  # sandbox.runtime.DockerRunner
    storage_env: dict[str, str]
    parallelism: int = 8
    system_retries: int = 2  # extra attempts for system errors, independent of user retries
    secrets_dir: str | None = None
    bundles: object = None  # sandbox.engine.shared_bundle.SharedBundles, or None: each container fetches
    on_event: Callable[[NodeEvent], None] | None = None
    container_policy: ContainerPolicy = dataclasses.field(default_factory=ContainerPolicy)
    # mints each attempt's scoped storage credentials (sandbox.runtime.storage_credentials.
    # StorageCredentialIssuer); None gives containers `storage_env` as it is
    storage_credentials: object | None = None
    # the sandbox's admin, as the containers that create executions reach it (eager tasks:
    # sandbox.engine.eager_access.AdminAccess); None when no admin runs
    admin: object | None = None
    # which executions and nodes were told to stop (terminate, FAIL_IMMEDIATELY)
    aborts: AbortSignal = dataclasses.field(default_factory=AbortSignal)
    # The execution spec's overwrite_cache and envs, as Flyte's admin passes them on: skip cache
    # lookups (results still overwrite the entries), and variables set in every task container.
    overwrite_cache: bool = False
    task_env: dict[str, str] = dataclasses.field(default_factory=dict)

    def emit(self, event: NodeEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)

"""What the engine asks of a container runtime, and what it gets back."""
from __future__ import annotations

import dataclasses

# The recorded container of an attempt that ran in a warm worker (sandbox.runtime.warm_pool)
# is this prefix and the worker's container id: a resume has no such attempt to wait for.
WARM_PREFIX = "warm:"


@dataclasses.dataclass
class ContainerRequest:
    image: str
    args: list[str]
    env: dict[str, str]
    labels: dict[str, str]
    command: list[str] = dataclasses.field(default_factory=list)
    nano_cpus: int | None = None
    memory_bytes: int | None = None
    memory_text: str | None = None  # the limit as the user wrote it, for messages
    timeout: float | None = None  # seconds; None waits for ever
    pids_limit: int | None = None
    read_only_root: bool = False  # then /tmp (a volume) and the working directory (tmpfs) are writable
    # scoped temporary storage credentials, minted when the container is created
    # (sandbox.runtime.storage_credentials.StorageAccess); None: `env` carries the storage keys
    storage: object | None = None
    secret_env: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)
    # (host directory, container path) bind-mounted read-only: the execution's unpacked code
    # bundle (sandbox.engine.shared_bundle)
    mounts: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    notice: str = ""  # what the engine changed from the task's request, for the node's logs
    reuse_opt_in: bool = False  # the task asks for a warm worker (@task(reuse_container=True))


@dataclasses.dataclass
class ContainerResult:
    container_id: str
    exit_code: int | None
    logs: str
    oom_killed: bool = False
    timed_out: bool = False
    system_error: str | None = None  # the runtime itself failed (image missing, engine down)
    # False when trying again cannot help (the image is not in the engine and nothing can be
    # pulled): the attempt fails at once instead of spending the system retries.
    retryable: bool = True

"""How every task container is confined, whatever the task asks: a cap on processes, a
read-only root filesystem (a writable /tmp volume and working directory), and CPU and memory
limits when the task sets none. Per sandbox, recorded in state.json by `skiff sandbox up`
(SKIFF_TASK_PIDS_LIMIT, SKIFF_TASK_DEFAULT_CPU, SKIFF_TASK_DEFAULT_MEMORY when set then)."""
from __future__ import annotations

import dataclasses
import os

DEFAULT_PIDS_LIMIT = 1024  # threads count too: generous for data loaders, fatal to a fork bomb
DEFAULT_CPU = "2"
DEFAULT_MEMORY = "2Gi"
ENV = {"pids_limit": "SKIFF_TASK_PIDS_LIMIT", "default_cpu": "SKIFF_TASK_DEFAULT_CPU",
       "default_memory": "SKIFF_TASK_DEFAULT_MEMORY"}


@dataclasses.dataclass(frozen=True)
class ContainerPolicy:
    pids_limit: int = DEFAULT_PIDS_LIMIT
    default_cpu: str = DEFAULT_CPU
    default_memory: str = DEFAULT_MEMORY
    read_only_root: bool = True

    def default_nano_cpus(self) -> int:
        """The default CPU limit, at most the host's CPUs (Docker refuses more)."""
        from sandbox.runtime.resources import cpu_to_nano_cpus

        return min(cpu_to_nano_cpus(self.default_cpu), (os.cpu_count() or 1) * 10**9)

    def default_memory_bytes(self) -> int:
        from sandbox.runtime.resources import memory_to_bytes

        return memory_to_bytes(self.default_memory)


def policy_settings(recorded: dict, env=os.environ) -> dict:
    """The policy's settings for `skiff sandbox up` to record: the environment's when set,
    else what the home recorded before, else the defaults; checked now, not at the first task."""
    from sandbox.runtime.resources import cpu_to_nano_cpus, memory_to_bytes
    from sdk.errors import SandboxError

    defaults = dataclasses.asdict(ContainerPolicy())
    settings = {}
    for name, variable in ENV.items():
        value = env.get(variable) or recorded.get(name) or defaults[name]
        try:
            if name == "pids_limit":
                value = int(value)
                if value < 16:
                    raise ValueError
            elif name == "default_cpu":
                cpu_to_nano_cpus(str(value))
            else:
                memory_to_bytes(str(value))
        except Exception:  # noqa: BLE001 - one message for every bad spelling
            raise SandboxError(f"{variable}={value!r} is not valid; e.g. "
                               f"{variable}={defaults[name]}") from None
        settings[name] = value
    return settings

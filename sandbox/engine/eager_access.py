"""What a task container that talks to the admin is told: an eager task (flytekit `@eager`)
creates its child executions through the admin and waits for them there, as on a cluster, and
flytekit's eager clean-up task lists and terminates them.

flytekit builds that client with `FlyteRemote(Config.auto())` inside the container, so the
sandbox hands it flytekit's own configuration variables: the admin's address on 127.0.0.1 (task
containers use host networking), a plaintext channel as the sandbox's admin serves one, and a
short-lived access token. Only these tasks get it: other tasks never reach the admin.
"""
from __future__ import annotations

import dataclasses

# flytekit's task type of the failure node it adds to an eager task's workflow (it terminates
# the children still running)
EAGER_CLEANUP_TASK_TYPE = "eager_failure_handler_task"
# A token outlives the task by this much (its outputs are written after its children end);
# a task without a timeout gets the longest token the admin signs.
TOKEN_MARGIN_S = 300
UNTIMED_TOKEN_S = 12 * 3600


@dataclasses.dataclass(frozen=True)
class AdminAccess:
    endpoint: str  # 127.0.0.1:PORT
    home: str  # the sandbox home whose admin signs the tokens


def needs_admin(task_template) -> bool:
    """Whether the task's container talks to the admin (an eager task or its clean-up)."""
    return task_template.metadata.is_eager or task_template.type == EAGER_CLEANUP_TASK_TYPE


def admin_access_env(admin: AdminAccess | None, execution_id: str,
                     task_template) -> dict[str, str]:
    """The variables the container of `task_template` (run by `execution_id`) gets to reach the
    sandbox's admin; none for a task that does not need it or when no admin runs (an engine
    without one cannot serve child executions: flytekit then fails to connect and says so)."""
    if admin is None or not admin.endpoint or not needs_admin(task_template):
        return {}
    return _admin_credentials(admin, execution_id, task_template)


def _admin_credentials(admin: AdminAccess, execution_id: str, task_template) -> dict[str, str]:
    """CREDENTIAL SEAM: the admin's address and credentials for one eager container, the only
    place they are made. A token signed for this execution, valid while the task may run (its
    timeout plus a margin), never the sandbox's client secret."""
    from sandbox.admin.auth_tokens import container_admin_env

    timeout = task_template.metadata.timeout.ToSeconds()
    ttl = timeout + TOKEN_MARGIN_S if timeout > 0 else UNTIMED_TOKEN_S
    return container_admin_env(admin.home, admin.endpoint, f"execution/{execution_id}", ttl)

"""What a task container that talks to the admin is told: an eager task (flytekit `@eager`)
creates its child executions through the admin and waits for them there, as on a cluster, and
flytekit's eager clean-up task lists and terminates them.

flytekit builds that client with `FlyteRemote(Config.auto())` inside the container, so the
sandbox hands it flytekit's own configuration variables: the admin's address on 127.0.0.1 (task
containers use host networking) and an insecure (plaintext) channel, as the sandbox's admin
serves one. Only these tasks get it: other tasks never reach the admin.
"""
from __future__ import annotations

# flytekit's task type of the failure node it adds to an eager task's workflow (it terminates
# the children still running)
EAGER_CLEANUP_TASK_TYPE = "eager_failure_handler_task"


def needs_admin(task_template) -> bool:
    """Whether the task's container talks to the admin (an eager task or its clean-up)."""
    return task_template.metadata.is_eager or task_template.type == EAGER_CLEANUP_TASK_TYPE


def admin_access_env(admin_endpoint: str, execution_id: str, task_template) -> dict[str, str]:
    """The variables the container of `task_template` (run by `execution_id`) gets to reach the
    sandbox's admin; none for a task that does not need it or when no admin runs (an engine
    without one cannot serve child executions: flytekit then fails to connect and says so)."""
    if not admin_endpoint or not needs_admin(task_template):
        return {}
    env = {
        "FLYTE_PLATFORM_URL": admin_endpoint,  # flytekit: platform.url / admin.endpoint
        "FLYTE_PLATFORM_INSECURE": "True",
    }
    env.update(_admin_credentials(execution_id, task_template))
    return env


# Environment variable holding the container's admin token, read by flytekit's external-process
# auth mode through the command below (flytekit splits the command on commas).
ADMIN_TOKEN_ENV = "SKIFF_ADMIN_TOKEN"


def token_env(token: str) -> dict[str, str]:
    """flytekit's configuration for a bearer token handed over in the environment: auth mode
    external process, whose command prints the token."""
    return {
        "FLYTE_CREDENTIALS_AUTH_MODE": "external_process",
        "FLYTE_CREDENTIALS_COMMAND": f"printenv,{ADMIN_TOKEN_ENV}",
        ADMIN_TOKEN_ENV: token,
    }


def _admin_credentials(execution_id: str, task_template) -> dict[str, str]:
    """CREDENTIAL SEAM: the admin credentials of one eager container.

    The admin has no authentication yet, so there are none. Once it requires OAuth2 (issue 10),
    mint a short-lived token scoped to this execution here and return `token_env(token)`; the
    rest of the engine is unchanged."""
    return {}

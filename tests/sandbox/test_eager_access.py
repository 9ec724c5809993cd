"""What an eager task's container is told to reach the admin (no Docker: the eager run itself
is tested with flytekit in test_flytekit_features.py)."""
from __future__ import annotations

from flyteidl.core import tasks_pb2

from sandbox.admin.auth_tokens import TokenVerifier, auth_dir, ensure_client
from sandbox.engine.eager_access import AdminAccess, admin_access_env


def _task(is_eager: bool, task_type: str = "python-task", timeout_s: int = 0):
    task = tasks_pb2.TaskTemplate(type=task_type)
    task.metadata.is_eager = is_eager
    task.metadata.timeout.FromSeconds(timeout_s)
    return task


def test_an_eager_container_gets_the_admin_address_and_a_token_of_its_own(tmp_path):
    ensure_client(tmp_path)
    access = AdminAccess("127.0.0.1:5555", str(tmp_path))
    env = admin_access_env(access, "exec1", _task(True, timeout_s=60))
    assert env["FLYTE_PLATFORM_URL"] == "127.0.0.1:5555"
    assert env["FLYTE_PLATFORM_INSECURE"] == "True"
    assert env["FLYTE_CREDENTIALS_AUTH_MODE"] == "ExternalCommand"
    assert env["FLYTE_CREDENTIALS_COMMAND"] == "printenv,SKIFF_ADMIN_TOKEN"
    TokenVerifier(tmp_path).check(env["SKIFF_ADMIN_TOKEN"])  # the admin accepts it
    secret = (auth_dir(tmp_path) / "client_secret").read_text().strip()
    assert secret not in "".join(env.values())  # never the sandbox's own client secret
    cleanup = admin_access_env(access, "exec1", _task(False, "eager_failure_handler_task"))
    assert cleanup["FLYTE_PLATFORM_URL"] == "127.0.0.1:5555"


def test_other_tasks_never_reach_the_admin(tmp_path):
    access = AdminAccess("127.0.0.1:5555", str(tmp_path))
    assert admin_access_env(access, "exec1", _task(False)) == {}
    assert admin_access_env(None, "exec1", _task(True)) == {}

"""What a task container gets: Flyte's environment, the task's env, limits, secrets, an
unprivileged user; and what it never gets: the secret in logs or in the store."""
from __future__ import annotations

import json

import pytest
from flyteidl.core import tasks_pb2

from sandbox.engine import create_execution, run_execution
from sandbox.registry import read_package, register_package
from sdk.errors import ExecutionFailed
from test_engine_support import engine_context, ints, package, plain, script_task, task_node, template

pytestmark = pytest.mark.sandbox

PROBE = '''
import json, os
def cgroup(path):
    try:
        return open("/sys/fs/cgroup/" + path).read().strip()
    except OSError:
        return None
status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines()
              if ":\\t" in line)
out["o"] = json.dumps({
    "env": {k: v for k, v in os.environ.items() if k.startswith(("FLYTE_INTERNAL", "FLYTE_ATT",
                                                                  "GREETING"))},
    "uid": os.getuid(),
    "cap_eff": status["CapEff"].strip(),
    "cpu_quota": cgroup("cpu/cpu.cfs_quota_us") or cgroup("cpu.max"),
    "memory": cgroup("memory/memory.limit_in_bytes") or cgroup("memory.max"),
    "secret_ok": os.environ.get("_FSEC_DB_PASSWORD") == "s3cr3t-value"
                 and os.environ.get("DB_PASSWORD") == "s3cr3t-value",
})
'''


def _probe_task(name="ctr.probe", secret=True):
    task = script_task(name, PROBE, {}, {"o": str}, env={"GREETING": "hello"},
                       memory="128Mi")
    task.template.container.resources.limits.add(name=tasks_pb2.Resources.CPU, value="500m")
    if secret:
        s = task.template.security_context.secrets.add(group="db", key="password")
        s.env_var = "DB_PASSWORD"
    return task


def _run(env, pkg, name):
    ctx = engine_context(env)
    reg = register_package(ctx.store, ctx.objects, read_package(pkg), "ctr", "dev")
    execution_id = create_execution(ctx.store, "ctr", "dev", name, reg.version, ints({}))
    return ctx, execution_id


def test_container_environment_limits_user_and_secret(sandbox_home, tmp_path, monkeypatch):
    monkeypatch.setenv("_FSEC_DB_PASSWORD", "s3cr3t-value")
    wf = template("ctr.wf", {}, {"r": str}, [task_node("n0", "ctr.probe", {})], {"r": "n0.o"})
    ctx, execution_id = _run(sandbox_home, package(tmp_path, [_probe_task()], [wf]), "ctr.wf")
    seen = json.loads(plain(run_execution(ctx, execution_id))["r"])
    assert seen["env"] == {
        "FLYTE_INTERNAL_EXECUTION_ID": execution_id, "FLYTE_INTERNAL_EXECUTION_PROJECT": "ctr",
        "FLYTE_INTERNAL_EXECUTION_DOMAIN": "dev", "FLYTE_INTERNAL_TASK_NAME": "ctr.probe",
        "FLYTE_INTERNAL_TASK_PROJECT": "ctr", "FLYTE_INTERNAL_TASK_DOMAIN": "dev",
        "FLYTE_INTERNAL_TASK_VERSION": seen["env"]["FLYTE_INTERNAL_TASK_VERSION"],
        "FLYTE_ATTEMPT_NUMBER": "0", "GREETING": "hello"}
    assert seen["uid"] == 1000
    assert int(seen["cap_eff"], 16) == 0
    assert seen["memory"] in ("134217728",)
    assert seen["cpu_quota"] in ("50000", "50000 100000")
    assert seen["secret_ok"] is True
    node = ctx.store.nodes(execution_id)[0]
    for text in (node.logs or "", node.error or "", str(node.outputs)):
        assert "s3cr3t-value" not in text


def test_missing_secret_fails_the_node_with_what_to_set(sandbox_home, tmp_path, monkeypatch):
    monkeypatch.delenv("_FSEC_DB_PASSWORD", raising=False)
    wf = template("ctr.nosecret", {}, {"r": str}, [task_node("n0", "ctr.probe2", {})],
                  {"r": "n0.o"})
    pkg = package(tmp_path, [_probe_task("ctr.probe2")], [wf])
    ctx, execution_id = _run(sandbox_home, pkg, "ctr.nosecret")
    with pytest.raises(ExecutionFailed, match=r"secret group 'db' key 'password' is not "
                                              r"available; set _FSEC_DB_PASSWORD"):
        run_execution(ctx, execution_id)


def test_missing_image_is_a_system_error_reported_without_retrying(sandbox_home, tmp_path):
    task = script_task("ctr.noimage", "out['o'] = 1", {}, {"o": int},
                       image="skiff-no-such-image:0")
    wf = template("ctr.noimagewf", {}, {"r": int}, [task_node("n0", "ctr.noimage", {})],
                  {"r": "n0.o"})
    ctx, execution_id = _run(sandbox_home, package(tmp_path, [task], [wf]), "ctr.noimagewf")
    with pytest.raises(ExecutionFailed, match=r"system error.*image 'skiff-no-such-image:0' is "
                                              r"not in the local Docker engine"):
        run_execution(ctx, execution_id)
    node = ctx.store.nodes(execution_id)[0]
    # nothing can be pulled: trying again cannot help, so no system retry is spent
    assert (node.system_failures, node.user_failures, node.attempt) == (1, 0, 0)

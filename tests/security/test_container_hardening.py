"""A task container is confined by default: read from `docker inspect` while it runs, and
from inside the task (writing to /usr fails, /tmp and the working directory are writable, a
fork bomb hits the pids limit)."""
from __future__ import annotations

import json
import threading
import time

import pytest

from sandbox.engine import create_execution, run_execution
from sandbox.registry import read_package, register_package
from sandbox.runtime.docker_runner import docker_api
from sandbox.runtime.policy import ContainerPolicy
from test_engine_support import engine_context, ints, package, plain, script_task, task_node, template

pytestmark = pytest.mark.sandbox

INSIDE = '''
import errno, json, os, time
def writable(path):
    try:
        with open(path, "w") as handle:
            handle.write("x")
        return True
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
seen = {"usr": writable("/usr/skiff-was-here"), "etc": writable("/etc/passwd"),
        "tmp": writable("/tmp/scratch"), "cwd": writable("scratch"), "cwd_path": os.getcwd()}
children, failure = [], None
try:
    for _ in range(int(os.environ.get("FORKS", "0"))):
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        children.append(pid)
except OSError as exc:
    failure = errno.errorcode.get(exc.errno, str(exc.errno))
for pid in children:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
seen["forked"], seen["fork_error"] = len(children), failure
time.sleep(float(os.environ.get("LINGER", "0")))
out["o"] = json.dumps(seen)
'''


def _run(state, tmp_path, name, env, policy=None, during=None):
    task = script_task(f"{name}.t", INSIDE, {}, {"o": str}, env=env, image=state.runtime_image)
    wf = template(f"{name}.wf", {}, {"r": str}, [task_node("n0", f"{name}.t", {})], {"r": "n0.o"})
    overrides = {"container_policy": policy} if policy else {}
    ctx = engine_context(state, **overrides)
    reg = register_package(ctx.store, ctx.objects, read_package(package(tmp_path, [task], [wf])),
                           "sec", "dev")
    execution_id = create_execution(ctx.store, "sec", "dev", f"{name}.wf", reg.version, ints({}))
    seen = {}
    watcher = threading.Thread(target=lambda: seen.update(during(execution_id))) if during else None
    if watcher:
        watcher.start()
    outputs = run_execution(ctx, execution_id)
    if watcher:
        watcher.join()
    return json.loads(plain(outputs)["r"]), seen


def _inspect_running(execution_id, tries=600):
    api = docker_api()
    for _ in range(tries):
        found = api.containers(filters={"label": f"skiff.execution={execution_id}",
                                        "status": "running"})
        if found:
            return api.inspect_container(found[0]["Id"])
        time.sleep(0.05)
    raise AssertionError("the task's container never ran")


def test_default_confinement_in_docker_inspect_and_inside(sandbox_home, tmp_path):
    inside, details = _run(sandbox_home, tmp_path, "hard", {"LINGER": "3"},
                           during=_inspect_running)
    host = details["HostConfig"]
    policy = ContainerPolicy()
    assert host["PidsLimit"] == policy.pids_limit
    assert host["ReadonlyRootfs"] is True
    assert set(host["Tmpfs"]) == {details["Config"]["WorkingDir"]}
    assert [(m["Type"], m["Target"]) for m in host["Mounts"]] == [("volume", "/tmp")]
    assert host["NanoCpus"] == policy.default_nano_cpus()
    assert host["Memory"] == policy.default_memory_bytes() == host["MemorySwap"]
    assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
    assert "no-new-privileges" in host["SecurityOpt"] and host["Privileged"] is False
    assert details["Config"]["User"] == "1000"
    assert inside["usr"] == "EROFS" and inside["etc"] in ("EROFS", "EACCES")
    assert inside["tmp"] is True and inside["cwd"] is True
    assert inside["cwd_path"] == details["Config"]["WorkingDir"]


def test_a_fork_bomb_is_stopped_by_the_pids_limit(sandbox_home, tmp_path):
    inside, _ = _run(sandbox_home, tmp_path, "bomb", {"FORKS": "500"},
                     policy=ContainerPolicy(pids_limit=32))
    assert inside["fork_error"] == "EAGAIN"
    assert inside["forked"] < 32

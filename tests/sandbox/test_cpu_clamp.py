"""A CPU limit above the machine's cores runs with every core (Docker would refuse it) and the
node's logs say so; a unit check of the clamp itself."""
from __future__ import annotations

import os

import pytest
from flyteidl.core import tasks_pb2

from sandbox.engine import create_execution, run_execution
from sandbox.engine.attempt import clamp_cpu
from sandbox.registry import read_package, register_package
from test_engine_support import engine_context, ints, package, plain, script_task, task_node, template


def test_clamp_only_above_the_cores():
    assert clamp_cpu(None, cores=2) == (None, "")
    assert clamp_cpu(2 * 10**9, cores=2) == (2 * 10**9, "")
    limited, notice = clamp_cpu(64 * 10**9, cores=2)
    assert limited == 2 * 10**9
    assert "asks for 64 CPUs" in notice and "limit of 2" in notice


@pytest.mark.sandbox
def test_a_task_asking_for_more_cpus_than_the_machine_has_runs(sandbox_home, tmp_path):
    # the container's CPU quota over its period: the cores it may use (cgroup v2, else v1)
    body = ("import os\n"
            "v2 = '/sys/fs/cgroup/cpu.max'\n"
            "if os.path.exists(v2):\n"
            "    quota, period = open(v2).read().split()\n"
            "else:\n"
            "    quota = open('/sys/fs/cgroup/cpu/cpu.cfs_quota_us').read()\n"
            "    period = open('/sys/fs/cgroup/cpu/cpu.cfs_period_us').read()\n"
            "out['o'] = int(quota) // int(period) + 0 * inp['x']")
    task = script_task("clamp.busy", body, {"x": int}, {"o": int})
    task.template.container.resources.limits.add(name=tasks_pb2.Resources.CPU, value="64")
    wf = template("clamp.wf", {"x": int}, {"r": int},
                  [task_node("n0", "clamp.busy", {"x": "start-node.x"})], {"r": "n0.o"})
    ctx = engine_context(sandbox_home)
    reg = register_package(ctx.store, ctx.objects, read_package(package(tmp_path, [task], [wf])),
                           "clamp", "dev")
    execution_id = create_execution(ctx.store, "clamp", "dev", "clamp.wf", reg.version,
                                    ints({"x": 7}))
    cores = os.cpu_count()
    assert plain(run_execution(ctx, execution_id)) == {"r": cores}
    [node] = ctx.store.nodes(execution_id)
    assert f"asks for 64 CPUs; this machine has {cores}" in node.logs

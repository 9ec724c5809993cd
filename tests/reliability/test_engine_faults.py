"""The engine broken on purpose in the session's sandbox: killed with SIGKILL at random
moments then resumed (nothing lost, no completed node run again), a task container killed
from outside (a system error, retried), and 8 executions at once through the CLI and the
admin."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time

import docker
import pytest

from reliability_support import SKIFF, figures
from test_engine_support import ContainerEvents, script_task, workflow_package
from sandbox.admin.client_config import local_channel

pytestmark = pytest.mark.sandbox
NAP = "import time\ntime.sleep(0.2)\n"


def _fan_package(tmp_path, name: str, slow: str = ""):
    """n0 -> (n1, n2, n3) -> n4 -> n5; x=1 gives 19."""
    def task(short, body, inputs):
        return script_task(f"{name}.{short}", NAP + body, {k: int for k in inputs}, {"o": int})

    tasks = [task("inc", "out['o'] = inp['x'] + 1", ["x"]),
             task("mul2", slow + "out['o'] = inp['x'] * 2", ["x"]),
             task("mul3", "out['o'] = inp['x'] * 3", ["x"]),
             task("mul4", "out['o'] = inp['x'] * 4", ["x"]),
             task("sum", "out['o'] = inp['a'] + inp['b'] + inp['c']", ["a", "b", "c"])]
    nodes = [("n0", f"{name}.inc", {"x": "start-node.x"}),
             ("n1", f"{name}.mul2", {"x": "n0.o"}),
             ("n2", f"{name}.mul3", {"x": "n0.o"}),
             ("n3", f"{name}.mul4", {"x": "n0.o"}),
             ("n4", f"{name}.sum", {"a": "n1.o", "b": "n2.o", "c": "n3.o"}),
             ("n5", f"{name}.inc", {"x": "n4.o"})]
    return workflow_package(tmp_path, f"{name}.wf", tasks, inputs={"x": int},
                            outputs={"r": int}, nodes=nodes, output_bindings={"r": "n5.o"})


def _env(home):
    return dict(os.environ, SKIFF_HOME=str(home))


def _latest(store, workflow: str, after: set):
    rows = [r for r in store.executions(50) if r.workflow == workflow and r.id not in after]
    return rows[0] if rows else None


def test_sigkill_at_random_moments_then_resume(sandbox_home, tmp_path):
    from sandbox.store import open_store

    store = open_store(sandbox_home.database_url)
    pkg = _fan_package(tmp_path, "killed")
    rng = random.Random(11)
    runs = int(os.environ.get("SKIFF_RELIABILITY_KILLS", "4"))  # the issue measured 20
    lost = rerun = kills_mid_run = 0
    seen: set = {r.id for r in store.executions(50)}
    for _ in range(runs):
        delay = rng.uniform(0.5, 5.0)
        with ContainerEvents() as events:
            engine = subprocess.Popen([SKIFF, "sandbox", "run", str(pkg), "killed.wf", "--x",
                                       "1", "--quiet"], env=_env(sandbox_home.home),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            engine.send_signal(signal.SIGKILL)
            engine.wait(30)
            killed_at = time.time_ns()
            execution = _latest(store, "killed.wf", seen)
            if execution is None:
                continue  # killed before it stored anything: nothing to lose
            seen.add(execution.id)
            done = {n.node_id for n in store.nodes(execution.id)
                    if n.state in ("succeeded", "cached")}
            kills_mid_run += len(done) < 6
            resume = subprocess.run([SKIFF, "executions", "resume", execution.id, "--json",
                                     "--quiet"], env=_env(sandbox_home.home),
                                    capture_output=True, text=True, timeout=300)
            assert resume.returncode == 0, resume.stderr
            lost += json.loads(resume.stdout) != {"r": 19}
            started_again = [e for e in events.of(execution.id, "start")
                             if e["timeNano"] > killed_at
                             and e["Actor"]["Attributes"]["skiff.node"] in done]
            rerun += len(started_again)
        assert all(n.state in ("succeeded", "cached") for n in store.nodes(execution.id))
    figures("SIGKILL then resume", runs=runs, killed_mid_run=kills_mid_run, lost=lost,
            completed_nodes_rerun=rerun)
    assert lost == 0 and rerun == 0


def test_a_killed_task_container_is_a_system_error_and_retried(sandbox_home, tmp_path):
    from sandbox.store import open_store

    store = open_store(sandbox_home.database_url)
    pkg = _fan_package(tmp_path, "victim", slow="if attempt == 0:\n    time.sleep(60)\n")
    seen = {r.id for r in store.executions(50)}
    run = subprocess.Popen([SKIFF, "sandbox", "run", str(pkg), "victim.wf", "--x", "1",
                            "--json", "--quiet"], env=_env(sandbox_home.home),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = docker.from_env()
    deadline = time.monotonic() + 120
    victim = None
    while victim is None and time.monotonic() < deadline:
        execution = _latest(store, "victim.wf", seen)
        node = execution and store.node(execution.id, "n1")
        if node is not None and node.state == "running" and node.container_id:
            victim = node.container_id
        time.sleep(0.2)
    assert victim, "n1 never ran"
    client.api.kill(victim)
    out, err = run.communicate(timeout=240)
    assert run.returncode == 0, err
    assert json.loads(out) == {"r": 19}
    n1 = store.node(execution.id, "n1")
    assert (n1.state, n1.attempt, n1.user_failures, n1.system_failures) == ("succeeded", 1, 0, 1)
    figures("task container killed", node="n1", attempts=n1.attempt + 1,
            user_retries_spent=n1.user_failures, system_retries_spent=n1.system_failures)


def test_eight_concurrent_executions_through_the_cli_and_the_admin(sandbox_home, tmp_path):
    import grpc
    from flyteidl.admin import execution_pb2
    from flyteidl.core import identifier_pb2, literals_pb2
    from flyteidl.service import admin_pb2_grpc

    from sandbox.store import open_store

    store = open_store(sandbox_home.database_url)
    pkg = _fan_package(tmp_path, "crowd")
    seen = {r.id for r in store.executions(50)}
    cli = [subprocess.Popen([SKIFF, "sandbox", "run", str(pkg), "crowd.wf", "--x", str(i),
                             "--json", "--quiet"], env=_env(sandbox_home.home),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
           for i in range(6)]
    # The admin runs the same launch plan, registered by the first CLI run.
    deadline = time.monotonic() + 120
    while _latest(store, "crowd.wf", seen) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    version = _latest(store, "crowd.wf", seen).version
    admin_ids = []
    with local_channel(sandbox_home) as channel:
        admin = admin_pb2_grpc.AdminServiceStub(channel)
        for i in (6, 7):
            inputs = literals_pb2.LiteralMap()
            inputs.literals["x"].scalar.primitive.integer = i
            lp = identifier_pb2.Identifier(resource_type=3, project="default",
                                           domain="development", name="crowd.wf",
                                           version=version)
            response = admin.CreateExecution(execution_pb2.ExecutionCreateRequest(
                project="default", domain="development",
                spec=execution_pb2.ExecutionSpec(launch_plan=lp), inputs=inputs), timeout=60)
            admin_ids.append((i, response.id.name))
    results = {}
    for i, process in enumerate(cli):
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        results[i] = json.loads(out)["r"]
    deadline = time.monotonic() + 300
    for i, name in admin_ids:
        while store.execution(name).state not in ("succeeded", "failed", "aborted"):
            assert time.monotonic() < deadline, f"admin execution {name} did not end"
            time.sleep(0.3)
        row = store.execution(name)
        assert row.state == "succeeded", row.error
        from sdk.types.display import literal_map_to_plain

        results[i] = literal_map_to_plain(literals_pb2.LiteralMap.FromString(row.outputs))["r"]
    expected = {i: 9 * (i + 1) + 1 for i in range(8)}
    assert results == expected
    figures("8 concurrent executions", cli=6, admin=2, succeeded=len(results), wrong=0)

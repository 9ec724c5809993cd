"""Containers started ahead behind the start gate (sdk/start_gate.py): a task's container starts
while the task before it runs, runs nothing of the task until the engine says go, and leaves
nothing behind when it is never needed, when its module fails to import, or when the engine
dies while it waits."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import textwrap
import time

import docker
import pytest

from sandbox.runtime.docker_runner import STARTED_AHEAD_LABEL
from sandbox.store import open_store
from sdk import start_gate
from test_engine_support import ContainerEvents

pytestmark = pytest.mark.sandbox

CHAIN = textwrap.dedent('''
    import sys
    import time

    from sdk import task, workflow

    print("module gated_wf imported", file=sys.stderr)


    @task
    def slow(x: int) -> int:
        time.sleep(2)
        return x + 1


    @task
    def double(x: int) -> int:
        print("double ran with", x)
        return 2 * x


    @task
    def fail(x: int) -> int:
        raise ValueError(f"no good: {x}")


    @task
    def forger(x: int) -> int:
        # What the engine's done marker looks like, with a token of its own making: the
        # attempt must not end here, before its outputs exist.
        forged = "\x1eskiff-done 0123456789abcdef 0"
        print(forged, flush=True)
        print(forged, file=sys.stderr, flush=True)
        time.sleep(1.5)
        print("after the forgery")
        return x + 100


    @workflow
    def chain(x: int) -> int:
        return double(x=double(x=slow(x=x)))


    @workflow
    def slow_chain(x: int) -> int:
        return double(x=double(x=slow(x=slow(x=slow(x=x)))))


    @workflow
    def failing(x: int) -> int:
        return double(x=double(x=fail(x=x)))


    @workflow
    def forged(x: int) -> int:
        return double(x=forger(x=double(x=x)))
''')

BROKEN_IMPORT = textwrap.dedent('''
    import os

    from sdk import task

    if os.environ.get("FLYTE_INTERNAL_EXECUTION_ID"):  # in a task container only
        raise ImportError("this module cannot be imported in a container")


    @task
    def later(x: int) -> int:
        return x
''')


@pytest.fixture(scope="module")
def workflows(tmp_path_factory):
    root = tmp_path_factory.mktemp("gated")
    (root / "gated_wf.py").write_text(CHAIN)
    (root / "gated_broken.py").write_text(BROKEN_IMPORT)
    (root / "gated_uses_broken.py").write_text(textwrap.dedent('''
        from sdk import workflow
        from gated_wf import slow
        from gated_broken import later


        @workflow
        def uses_broken(x: int) -> int:
            return later(x=slow(x=x))
    '''))
    return root


def _skiff(home, root, *args, env=None):
    return subprocess.run(["skiff", *args], capture_output=True, text=True, cwd=root, timeout=300,
                          env={**os.environ, "SKIFF_HOME": home.home, **(env or {})})


def _execution_id(stderr: str) -> str:
    return next(line.split()[1] for line in stderr.splitlines() if line.startswith("execution "))


def _containers(execution_id: str) -> list[dict]:
    return docker.from_env().api.containers(
        all=True, filters={"label": f"skiff.execution={execution_id}"})


def test_downstream_containers_start_while_upstream_runs_and_wait_for_go(sandbox_home, workflows):
    with ContainerEvents() as events:
        run = _skiff(sandbox_home, workflows, "run", "--sandbox", "--json", "gated_wf.py",
                     "chain", "--x", "4")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"o0": 20}
    execution_id = _execution_id(run.stderr)
    seen = events.sequence(execution_id)
    order = [(status, node) for status, node, _ in seen]
    # n1 and n2 started (behind the gate) before n0, the slow one, ended ...
    assert order.index(("start", "n1")) < order.index(("die", "n0"))
    assert order.index(("start", "n2")) < order.index(("die", "n0"))
    started_ahead = {node for _, node, attrs in seen if attrs.get(STARTED_AHEAD_LABEL) == "1"}
    assert started_ahead == {"n1", "n2"}  # n0 had nothing before it to start behind
    # ... yet each ran its task only after its input existed: the values prove the order,
    # and the store says when each attempt began.
    nodes = {n.node_id: n for n in open_store(sandbox_home.database_url).nodes(execution_id)}
    assert nodes["n1"].started_at >= nodes["n0"].ended_at
    assert nodes["n2"].started_at >= nodes["n1"].ended_at
    logs = _skiff(sandbox_home, workflows, "logs", execution_id, "n1").stdout
    assert logs.count("module gated_wf imported") == 1 and "double ran with 5" in logs
    assert _containers(execution_id) == []


def test_the_done_marker_ends_attempts_and_output_cannot_forge_it(sandbox_home, workflows):
    """Gated containers announce their end (sdk.start_gate's done marker) so that the engine
    need not wait for Docker's report of the exit: the marker stays out of the task's logs,
    output imitating it ends nothing early, and no container outlives the run."""
    run = _skiff(sandbox_home, workflows, "run", "--sandbox", "--json", "gated_wf.py", "forged",
                 "--x", "3")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"o0": 212}  # 2 * ((2 * 3) + 100)
    execution_id = _execution_id(run.stderr)
    show = json.loads(_skiff(sandbox_home, workflows, "executions", "show", execution_id,
                             "--json").stdout)
    # One attempt each: an attempt ended at a forged marker would have found no outputs and
    # been retried.
    assert {n["node"]: n["attempt"] for n in show["nodes"]} == {"n0": 0, "n1": 0, "n2": 0}
    forger_log = _skiff(sandbox_home, workflows, "logs", execution_id, "n1").stdout
    assert "after the forgery" in forger_log
    assert forger_log.count("skiff-done 0123456789abcdef 0") == 2  # the task's own output, kept
    double_log = _skiff(sandbox_home, workflows, "logs", execution_id, "n2").stdout
    assert "double ran with 106" in double_log and "skiff-done" not in double_log
    assert _containers(execution_id) == []


def test_switched_off_nothing_starts_before_its_turn(sandbox_home, workflows):
    with ContainerEvents() as events:
        run = _skiff(sandbox_home, workflows, "run", "--sandbox", "--json", "gated_wf.py",
                     "chain", "--x", "1", env={"SKIFF_START_AHEAD": "0"})
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"o0": 8}
    order = [(status, node) for status, node, _ in events.sequence(_execution_id(run.stderr))]
    assert order == [("start", "n0"), ("die", "n0"), ("start", "n1"), ("die", "n1"),
                     ("start", "n2"), ("die", "n2")]


def test_a_failure_upstream_leaves_no_waiting_container(sandbox_home, workflows):
    with ContainerEvents() as events:
        run = _skiff(sandbox_home, workflows, "run", "--sandbox", "gated_wf.py", "failing",
                     "--x", "3")
    assert run.returncode == 1
    assert "ValueError: no good: 3" in run.stderr
    execution_id = _execution_id(run.stderr)
    assert _containers(execution_id) == []
    # The gated containers of n1 and n2 ended without running their task: the gate closed.
    show = json.loads(_skiff(sandbox_home, workflows, "executions", "show", execution_id,
                             "--json").stdout)
    states = {n["node"]: n["state"] for n in show["nodes"]}
    assert states["n0"] == "failed" and states["n1"] != "succeeded" and states["n2"] != "succeeded"
    assert {node for status, node, _ in events.sequence(execution_id) if status == "start"} <= {
        "n0", "n1", "n2"}


def test_import_error_in_a_gated_container_is_reported_once_it_is_told_to_go(sandbox_home,
                                                                               workflows):
    run = _skiff(sandbox_home, workflows, "run", "--sandbox", "gated_uses_broken.py",
                 "uses_broken", "--x", "1")
    assert run.returncode == 1
    assert "node 'n1' (task gated_broken.later) attempt 0" in run.stderr
    assert "cannot import module gated_broken" in run.stderr
    assert "this module cannot be imported in a container" in run.stderr
    assert _containers(_execution_id(run.stderr)) == []


def test_engine_killed_while_containers_wait_then_resume(sandbox_home, workflows):
    engine = subprocess.Popen(
        ["skiff", "run", "--sandbox", "--json", "gated_wf.py", "slow_chain", "--x", "0"],
        cwd=workflows, env={**os.environ, "SKIFF_HOME": sandbox_home.home},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = ""
    while not line.startswith("execution "):  # the module's own print comes first
        line = engine.stderr.readline()
        assert line, engine.communicate()
    execution_id = line.split()[1]
    deadline = time.monotonic() + 60
    waiting = []
    while len(waiting) < 2:  # the containers of n1 and n2 are up, waiting at the gate
        assert time.monotonic() < deadline and engine.poll() is None
        waiting = [c for c in _containers(execution_id)
                   if STARTED_AHEAD_LABEL in c["Labels"] and c["State"] == "running"]
        time.sleep(0.05)
    engine.send_signal(signal.SIGKILL)
    engine.wait()
    # With the engine gone the gates still shut close: those containers end by themselves,
    # writing nothing. (One may have been told to go already: its node is recorded running.)
    recorded = {row.container_id for row in open_store(sandbox_home.database_url).nodes(execution_id)}
    gated_ids = {c["Id"] for c in waiting} - recorded
    assert gated_ids
    api = docker.from_env().api
    deadline = time.monotonic() + 30
    while True:
        states = {i: api.inspect_container(i)["State"] for i in gated_ids}
        if all(s["Status"] == "exited" for s in states.values()):
            break
        assert time.monotonic() < deadline, states
        time.sleep(0.1)
    assert {s["ExitCode"] for s in states.values()} == {start_gate.CLOSED_EXIT}

    resumed = _skiff(sandbox_home, workflows, "executions", "resume", execution_id, "--json",
                     "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout) == {"o0": 12}
    assert _containers(execution_id) == []

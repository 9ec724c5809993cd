"""Containers created ahead and removed in the background: the container started is the one
created ahead, nothing an execution created outlives it, and a resume removes containers that
a killed engine created ahead but never recorded."""
from __future__ import annotations

import uuid

import docker
import pytest

from sandbox.engine import create_execution, run_execution
from sandbox.registry import read_package, register_package
from sandbox.runtime import ContainerRequest, DockerRunner
from test_engine_support import engine_context, ints, plain, runtime_image, script_task, workflow_package

pytestmark = pytest.mark.sandbox


def _labelled(execution_id: str) -> list[dict]:
    return docker.from_env().api.containers(all=True, filters={
        "label": f"skiff.execution={execution_id}"})


def _request(execution_id: str, code: str, node: str = "n0") -> ContainerRequest:
    return ContainerRequest(
        image=runtime_image(), command=["python3", "-c"], args=[code], env={},
        labels={"skiff.execution": execution_id, "skiff.node": node, "skiff.attempt": "0"})


def test_run_starts_the_container_created_ahead_and_leaves_nothing(sandbox_home):
    execution_id = f"ahead-{uuid.uuid4().hex[:8]}"
    runner = DockerRunner()
    request = _request(execution_id, "print('from the ahead container')")
    runner.prepare(request)
    runner.prepare(request)  # asked twice: still one container
    seen = []
    result = runner.run(request, on_created=seen.append)
    assert result.exit_code == 0 and result.system_error is None
    assert result.logs == "from the ahead container\n"
    runner.drain()
    assert seen == [result.container_id]
    assert _labelled(execution_id) == []


def test_drain_removes_containers_created_ahead_that_never_ran(sandbox_home):
    execution_id = f"unused-{uuid.uuid4().hex[:8]}"
    runner = DockerRunner()
    runner.prepare(_request(execution_id, "raise SystemExit(3)"))
    runner.drain()
    assert _labelled(execution_id) == []


def test_an_ahead_container_of_a_different_request_is_not_started(sandbox_home):
    execution_id = f"changed-{uuid.uuid4().hex[:8]}"
    runner = DockerRunner()
    runner.prepare(_request(execution_id, "print('old')"))
    result = runner.run(_request(execution_id, "print('new')"))
    runner.drain()
    assert result.logs == "new\n"
    assert _labelled(execution_id) == []


def test_remove_unrecorded_keeps_recorded_containers(sandbox_home):
    execution_id = f"orphan-{uuid.uuid4().hex[:8]}"
    runner = DockerRunner()
    recorded = runner._create(_request(execution_id, "pass", node="n0"))
    orphan = runner._create(_request(execution_id, "pass", node="n1"))
    try:
        runner.remove_unrecorded(execution_id, keep={recorded})
        assert [c["Id"] for c in _labelled(execution_id)] == [recorded]
    finally:
        for container_id in (recorded, orphan):
            try:
                docker.from_env().api.remove_container(container_id, force=True)
            except docker.errors.NotFound:
                pass


def test_chain_keeps_every_log_and_leaves_no_container(sandbox_home, tmp_path):
    step = script_task("ahead.step", "print('step', inp['x'])\nout['o'] = inp['x'] + 1",
                       {"x": int}, {"o": int})
    pkg = workflow_package(tmp_path, "ahead.wf", [step], inputs={"x": int}, outputs={"r": int},
                           nodes=[("n0", "ahead.step", {"x": "start-node.x"}),
                                  ("n1", "ahead.step", {"x": "n0.o"}),
                                  ("n2", "ahead.step", {"x": "n1.o"})],
                           output_bindings={"r": "n2.o"})
    ctx = engine_context(sandbox_home)
    reg = register_package(ctx.store, ctx.objects, read_package(pkg), "ahead", "dev")
    execution_id = create_execution(ctx.store, "ahead", "dev", "ahead.wf", reg.version,
                                    ints({"x": 1}))
    assert plain(run_execution(ctx, execution_id)) == {"r": 4}
    logs = {row.node_id: row.logs for row in ctx.store.nodes(execution_id)}
    assert logs == {"n0": "--- attempt 0 ---\nstep 1\n", "n1": "--- attempt 0 ---\nstep 2\n",
                    "n2": "--- attempt 0 ---\nstep 3\n"}
    assert _labelled(execution_id) == []


def test_draining_one_execution_keeps_another_executions_containers(sandbox_home):
    mine, theirs = (f"drain-{uuid.uuid4().hex[:8]}" for _ in range(2))
    runner = DockerRunner()
    runner.prepare(_request(mine, "pass"))
    runner.prepare(_request(theirs, "print('still mine to start')"))
    runner.drain(mine)
    assert _labelled(mine) == [] and len(_labelled(theirs)) == 1
    result = runner.run(_request(theirs, "print('still mine to start')"))
    runner.drain(theirs)
    assert result.logs == "still mine to start\n"
    assert _labelled(theirs) == []

"""Stopping executions (terminate from another process's view, FAIL_IMMEDIATELY, Ctrl-C,
`skiff executions terminate`) and live logs (`skiff logs -f`, the store's offset reads), on
the real sandbox: Docker, MinIO, SQLite."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import docker
import pytest

from sandbox.engine import create_execution, run_execution
from sandbox.engine.abort import ExecutionAborted, terminate_execution
from sandbox.engine.live_logs import read_node_log
from sandbox.registry import read_package, register_package
from sdk.errors import ExecutionFailed, SkiffError
from test_engine_support import engine_context, ints, script_task, workflow_package
from sandbox.admin.client_config import config_path, local_channel

pytestmark = pytest.mark.sandbox
SLEEP = "import time\ntime.sleep(300)\nout['o'] = 1"
SLOW_PRINT = ("import time\nfor i in range(6):\n    print(f'line {i}', flush=True)\n"
              "    time.sleep(0.5)\nout['o'] = 6")


def _containers(execution_id: str, **filters) -> list:
    client = docker.from_env()
    return client.containers.list(all=True, filters={
        "label": f"skiff.execution={execution_id}", **filters})


def _wait_for(predicate, what: str, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def _package(tmp_path, name: str, first: str, second: str):
    """n0 and n1 side by side, n2 after both."""
    tasks = [script_task(f"{name}.a", first, {"x": int}, {"o": int}),
             script_task(f"{name}.b", second, {"x": int}, {"o": int}),
             script_task(f"{name}.c", "out['o'] = inp['x']", {"x": int}, {"o": int})]
    return workflow_package(tmp_path, f"{name}.wf", tasks, inputs={"x": int},
                            outputs={"r": int},
                            nodes=[("n0", f"{name}.a", {"x": "start-node.x"}),
                                   ("n1", f"{name}.b", {"x": "start-node.x"}),
                                   ("n2", f"{name}.c", {"x": "n1.o"})],
                            output_bindings={"r": "n2.o"})


def _start(env, pkg, name):
    """Run the execution on a thread; (ctx, id, thread, box holding its outcome)."""
    ctx = engine_context(env)
    reg = register_package(ctx.store, ctx.objects, read_package(pkg), "proj", "dev")
    execution_id = create_execution(ctx.store, "proj", "dev", name, reg.version, ints({"x": 1}))
    box = {}

    def target():
        try:
            box["outputs"] = run_execution(ctx, execution_id)
        except BaseException as exc:  # noqa: BLE001 - the test looks at it
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return ctx, execution_id, thread, box


def _running_nodes(ctx, execution_id) -> set:
    """Nodes recorded running whose container Docker reports running."""
    running = {c.id for c in _containers(execution_id, status="running")}
    return {n.node_id for n in ctx.store.nodes(execution_id)
            if n.state == "running" and n.container_id in running}


def _states(ctx, execution_id) -> dict:
    return {n.node_id: n.state for n in ctx.store.nodes(execution_id)}


def test_terminate_kills_running_containers_and_records_aborted(sandbox_home, tmp_path):
    pkg = _package(tmp_path, "stop", SLEEP, SLEEP)
    ctx, execution_id, thread, box = _start(sandbox_home, pkg, "stop.wf")
    _wait_for(lambda: {"n0", "n1"} <= _running_nodes(ctx, execution_id),
              "two running task containers")
    # As `skiff executions terminate` and the console do: through the store, from outside.
    row = terminate_execution(engine_context(sandbox_home).store, execution_id, "enough")
    thread.join(60)
    assert not thread.is_alive(), "the engine did not stop"
    assert isinstance(box.get("error"), ExecutionAborted)
    assert row.state == "aborted" and row.error == "aborted: enough"
    assert _states(ctx, execution_id) == {"n0": "aborted", "n1": "aborted", "n2": "aborted"}
    assert _containers(execution_id, status="running") == []
    with pytest.raises(SkiffError, match="already ended"):
        terminate_execution(ctx.store, execution_id)
    with pytest.raises(SkiffError, match="was terminated"):
        run_execution(engine_context(sandbox_home), execution_id)


def test_fail_immediately_aborts_running_siblings(sandbox_home, tmp_path):
    pkg = _package(tmp_path, "failfast", "time = __import__('time')\ntime.sleep(2)\n"
                   "raise ValueError('boom NON_RECOVERABLE')", SLEEP)
    ctx, execution_id, thread, box = _start(sandbox_home, pkg, "failfast.wf")
    thread.join(120)
    assert not thread.is_alive(), "the engine waited for the sleeping sibling"
    assert isinstance(box.get("error"), ExecutionFailed)
    assert not isinstance(box["error"], ExecutionAborted)
    assert "boom" in str(box["error"])
    states = _states(ctx, execution_id)
    assert states["n0"] == "failed" and states["n1"] == "aborted"
    assert states["n2"] == "queued"  # never became ready
    assert ctx.store.execution(execution_id).state == "failed"
    assert _containers(execution_id, status="running") == []


def test_logs_are_stored_while_the_task_runs(sandbox_home, tmp_path):
    pkg = _package(tmp_path, "talk", SLOW_PRINT, "out['o'] = 2")
    ctx, execution_id, thread, box = _start(sandbox_home, pkg, "talk.wf")
    seen, offset, early = [], 0, None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text, state = read_node_log(ctx.store, execution_id, "n0", offset)
        seen.append(text)
        offset += len(text)
        if early is None and "line 1" in "".join(seen) and state == "running":
            early = "".join(seen)
        if state not in ("queued", "running", "retrying"):
            break
        time.sleep(0.1)
    thread.join(60)
    assert box.get("outputs") is not None, box.get("error")
    assert early is not None, "no output was stored while the node ran"
    assert "line 5" not in early
    followed = "".join(seen)
    assert followed == ctx.store.node(execution_id, "n0").logs
    assert followed == "--- attempt 0 ---\n" + "".join(f"line {i}\n" for i in range(6))


def _skiff(*args, **kwargs):
    skiff = os.path.join(os.path.dirname(sys.executable), "skiff")
    return subprocess.Popen([skiff, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ), **kwargs)


def test_cli_detach_logs_follow_and_terminate(sandbox_home, tmp_path):
    pkg = _package(tmp_path, "cli", SLOW_PRINT, SLEEP)
    started = _skiff("sandbox", "run", str(pkg), "cli.wf", "--x", "1", "--detach")
    out, err = started.communicate(timeout=120)
    assert started.returncode == 0, err
    execution_id = out.strip().splitlines()[-1]
    follow = _skiff("logs", "-f", execution_id, "n0")
    out, err = follow.communicate(timeout=120)
    assert follow.returncode == 0, err
    assert out == "--- attempt 0 ---\n" + "".join(f"line {i}\n" for i in range(6))
    ctx = engine_context(sandbox_home)
    _wait_for(lambda: _states(ctx, execution_id)["n1"] == "running", "n1 running")
    stop = _skiff("executions", "terminate", execution_id)
    out, err = stop.communicate(timeout=60)
    assert stop.returncode == 0, err
    assert out.strip() == f"execution {execution_id} aborted"
    assert _states(ctx, execution_id) == {"n0": "succeeded", "n1": "aborted", "n2": "aborted"}
    assert _containers(execution_id, status="running") == []
    again = _skiff("executions", "terminate", execution_id)
    _, err = again.communicate(timeout=60)
    assert again.returncode == 2 and err.startswith("Error: ") and len(err.splitlines()) == 1


def test_ctrl_c_stops_the_execution(sandbox_home, tmp_path):
    pkg = _package(tmp_path, "ctrlc", SLEEP, SLEEP)
    run = _skiff("sandbox", "run", str(pkg), "ctrlc.wf", "--x", "1")
    ctx = engine_context(sandbox_home)

    def running_execution():
        rows = [r for r in ctx.store.executions(20) if r.workflow == "ctrlc.wf"]
        return rows and {"n0", "n1"} <= _running_nodes(ctx, rows[0].id) and rows[0].id

    execution_id = _wait_for(running_execution, "two running containers")
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130, err
    assert "Stopped execution" in err
    assert ctx.store.execution(execution_id).state == "aborted"
    assert set(_states(ctx, execution_id).values()) == {"aborted"}
    assert _containers(execution_id, status="running") == []


def _detached(pkg, entity: str) -> str:
    started = _skiff("sandbox", "run", str(pkg), entity, "--x", "1", "--detach")
    out, err = started.communicate(timeout=120)
    assert started.returncode == 0, err
    return out.strip().splitlines()[-1]


def test_admin_streams_logs_live_and_flyteremote_terminates_a_cli_run(sandbox_home, tmp_path):
    """The admin reaches executions whichever engine runs them (here a detached `skiff
    sandbox run`): its log stream delivers lines while the task prints, and FlyteRemote's
    terminate (TerminateExecution) stops the containers and records ABORTED nodes."""
    import grpc
    from flytekit.configuration import Config
    from flytekit.remote import FlyteRemote

    from sandbox.admin.gen import sandbox_pb2, sandbox_pb2_grpc

    pkg = _package(tmp_path, "remote", SLOW_PRINT, SLEEP)
    execution_id = _detached(pkg, "remote.wf")
    ctx = engine_context(sandbox_home)
    chunks = []
    with local_channel(sandbox_home) as channel:
        stream = sandbox_pb2_grpc.SandboxServiceStub(channel).StreamNodeLogs(
            sandbox_pb2.StreamNodeLogsRequest(execution_id=execution_id, node_id="n0",
                                              follow=True), timeout=120)
        for chunk in stream:
            chunks.append((chunk.text, ctx.store.node(execution_id, "n0").state))
    text = "".join(t for t, _ in chunks)
    assert text == "--- attempt 0 ---\n" + "".join(f"line {i}\n" for i in range(6))
    assert any("line" in t and state == "running" for t, state in chunks), chunks

    _wait_for(lambda: "n1" in _running_nodes(ctx, execution_id), "n1 running")
    remote = FlyteRemote(Config.auto(config_file=str(config_path(sandbox_home.home))),
                         default_project="default", default_domain="development")
    execution = remote.fetch_execution(name=execution_id)
    remote.terminate(execution, cause="from flytekit")
    execution = remote.sync_execution(remote.fetch_execution(name=execution_id),
                                      sync_nodes=True)
    assert execution.closure.phase == 7  # ABORTED
    assert _states(ctx, execution_id) == {"n0": "succeeded", "n1": "aborted", "n2": "aborted"}
    assert _containers(execution_id, status="running") == []

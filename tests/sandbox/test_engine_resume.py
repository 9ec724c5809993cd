"""Killing the engine process (SIGKILL) mid-run and resuming: no succeeded node runs again,
and the container that was running when the engine died is waited for, not restarted."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from sqlalchemy import select

from sandbox.store.db import sessions as open_store
from sandbox.store.models import NodeExecution
from test_engine_support import docker_events, script_task, workflow_package

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def env(sandbox_home):
    """The session's sandbox (tests/conftest.py): real Docker, MinIO and SQLite."""
    return sandbox_home


def _skiff(env, *args, **kwargs):
    return subprocess.Popen(["skiff", *args], env={**os.environ, "SKIFF_HOME": env.home},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _node_states(sessions, execution_id):
    with sessions() as session:
        return {r.node_id: (r.state, r.attempt) for r in session.execute(select(NodeExecution)
                .where(NodeExecution.execution_id == execution_id)).scalars()}


def test_resume_after_sigkill_reruns_no_succeeded_node(env, tmp_path):
    quick = script_task("resume.quick", "out['o'] = inp['x'] + 1", {"x": int}, {"o": int})
    slow = script_task("resume.slow", "import time\ntime.sleep(4)\nout['o'] = inp['x'] * 10",
                       {"x": int}, {"o": int})
    pkg = workflow_package(tmp_path, "resume.wf", [quick, slow], inputs={"x": int},
                           outputs={"r": int},
                           nodes=[("n0", "resume.quick", {"x": "start-node.x"}),
                                  ("n1", "resume.slow", {"x": "n0.o"}),
                                  ("n2", "resume.quick", {"x": "n1.o"})],
                           output_bindings={"r": "n2.o"})
    sessions = open_store(env.database_url)
    engine = _skiff(env, "sandbox", "run", str(pkg), "resume.wf", "--x", "1", "--quiet")
    first_line = engine.stderr.readline()
    assert first_line.startswith("execution "), first_line
    execution_id = first_line.split()[1]
    deadline = time.monotonic() + 60
    while _node_states(sessions, execution_id).get("n1", ("",))[0] != "running":
        assert time.monotonic() < deadline and engine.poll() is None, engine.stderr.read()
        time.sleep(0.05)
    time.sleep(1.0)  # n1's container is now well into its 4 s sleep
    second = _skiff(env, "executions", "resume", execution_id)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 2
    assert f"is being run by engine process {engine.pid}" in err
    engine.send_signal(signal.SIGKILL)
    engine.wait()
    states = _node_states(sessions, execution_id)
    assert states["n0"] == ("succeeded", 0) and states["n1"][0] == "running"

    with docker_events() as events:
        resumed = _skiff(env, "executions", "resume", execution_id, "--json", "--quiet")
        out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert out.strip() == '{"r": 21}'
    assert [e["Actor"]["Attributes"]["skiff.node"] for e in events.of(execution_id)] == ["n2"]
    states = _node_states(sessions, execution_id)
    assert states == {"n0": ("succeeded", 0), "n1": ("succeeded", 0), "n2": ("succeeded", 0)}


def test_failed_run_exits_1_and_bad_input_exits_2_with_nothing_stored(env, tmp_path):
    from sandbox.store.models import Execution

    bad = script_task("cli.bad", "raise RuntimeError('boom from the task')", {"x": int},
                      {"o": int})
    pkg = workflow_package(tmp_path, "cli.wf", [bad], inputs={"x": int}, outputs={"r": int},
                           nodes=[("n0", "cli.bad", {"x": "start-node.x"})],
                           output_bindings={"r": "n0.o"})
    run = _skiff(env, "sandbox", "run", str(pkg), "cli.wf", "--x", "3")
    out, err = run.communicate(timeout=120)
    assert run.returncode == 1
    assert "node 'n0' (task cli.bad) attempt 0" in err and "RuntimeError: boom from the task" in err

    sessions = open_store(env.database_url)
    with sessions() as session:
        before = session.query(Execution).count()
    for args in (["--x", "three"], ["--y", "1"], []):
        run = _skiff(env, "sandbox", "run", str(pkg), "cli.wf", *args)
        out, err = run.communicate(timeout=60)
        assert run.returncode == 2, (args, err)
        assert err.startswith("Error: ") and "cli.wf" in err
    broken = tmp_path / "broken.tgz"
    broken.write_bytes(b"not a tarball")
    run = _skiff(env, "sandbox", "run", str(broken), "cli.wf")
    _, err = run.communicate(timeout=60)
    assert run.returncode == 2 and "not a gzip tar archive" in err
    with sessions() as session:
        assert session.query(Execution).count() == before

"""The engine running workflows written with Skiff's SDK, packaged by `skiff package`, through
the CLI (`skiff sandbox run`, `skiff run --sandbox`), with the real runtime image."""
from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest

from test_engine_support import docker_events

pytestmark = pytest.mark.sandbox

WORKFLOW = textwrap.dedent('''
    from sdk import File, LaunchPlan, task, workflow


    @task(cache=True, cache_version="1")
    def square(x: int) -> int:
        return x * x


    @task
    def total(values: list[int], offset: int) -> int:
        return sum(values) + offset


    @task
    def shout(doc: File) -> str:
        with doc.open() as handle:
            return handle.read().strip().upper()


    @task(retries=1)
    def explode(x: int) -> int:
        def deeper(v):
            raise ArithmeticError(f"cannot handle {v}")
        return deeper(x)


    @workflow
    def fan(a: int, b: int = 3) -> int:
        return total(values=[square(x=a), square(x=b)], offset=a)


    @workflow
    def broken(x: int) -> int:
        return explode(x=square(x=x))


    LaunchPlan.get_or_create(fan, name="fan_fixed", fixed_inputs={"b": 10})
''')


@pytest.fixture(scope="module")
def package(sandbox_home, tmp_path_factory):
    source_dir = tmp_path_factory.mktemp("sdkwf")
    (source_dir / "sdkwf.py").write_text(WORKFLOW)
    out = source_dir / "sdkwf.tgz"
    subprocess.run(["skiff", "package", "sdkwf.py", "-o", str(out)], cwd=source_dir,
                   check=True, capture_output=True, env={**os.environ,
                                                        "SKIFF_HOME": sandbox_home.home})
    return out


def _skiff(home, *args):
    return subprocess.run(["skiff", *args], capture_output=True, text=True,
                          env={**os.environ, "SKIFF_HOME": home.home}, timeout=300)


def _execution_id(stderr: str) -> str:
    return next(line.split()[1] for line in stderr.splitlines() if line.startswith("execution "))


def test_sdk_workflow_outputs_then_cached_rerun_starts_no_container(sandbox_home, package):
    with docker_events() as first:
        run = _skiff(sandbox_home, "sandbox", "run", str(package), "sdkwf.fan", "--a", "2",
                     "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"o0": 2 * 2 + 3 * 3 + 2}
    assert len(first.of(_execution_id(run.stderr))) == 3  # two squares and total

    with docker_events() as second:
        again = _skiff(sandbox_home, "sandbox", "run", str(package), "sdkwf.fan", "--a", "2",
                       "--json")
    assert json.loads(again.stdout) == {"o0": 15}
    # the squares come from the cache; `total` is not cacheable and runs again
    assert [e["Actor"]["Attributes"]["skiff.node"]
            for e in second.of(_execution_id(again.stderr))] == ["n2"]


def test_launch_plan_fixed_input(sandbox_home, package):
    run = _skiff(sandbox_home, "sandbox", "run", str(package), "fan_fixed", "--a", "1",
                 "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"o0": 1 + 100 + 1}
    refused = _skiff(sandbox_home, "sandbox", "run", str(package), "fan_fixed", "--a", "1",
                     "--b", "2")
    assert refused.returncode == 2
    assert "input 'b' is fixed by its launch plan" in refused.stderr


def test_sdk_task_failure_shows_traceback_and_logs(sandbox_home, package):
    run = _skiff(sandbox_home, "sandbox", "run", str(package), "sdkwf.broken", "--x", "7")
    assert run.returncode == 1
    assert "node 'n1' (task sdkwf.explode) attempt 1" in run.stderr
    assert "ArithmeticError: cannot handle 49" in run.stderr
    assert "in deeper" in run.stderr
    execution_id = _execution_id(run.stderr)
    show = _skiff(sandbox_home, "executions", "show", execution_id, "--json")
    detail = json.loads(show.stdout)
    assert detail["state"] == "failed"
    assert [(n["node"], n["state"]) for n in detail["nodes"]] == [("n0", "succeeded"),
                                                                  ("n1", "failed")]
    assert detail["nodes"][0]["outputs"] == {"o0": 49}
    listed = _skiff(sandbox_home, "executions", "list", "--json")
    assert execution_id in [e["id"] for e in json.loads(listed.stdout)]
    logs = _skiff(sandbox_home, "logs", execution_id, "n1")
    assert logs.returncode == 0
    assert "--- attempt 0 ---" in logs.stdout and "--- attempt 1 ---" in logs.stdout


def test_skiff_run_sandbox_and_cache_commands(sandbox_home, package):
    source = package.parent / "sdkwf.py"
    run = _skiff(sandbox_home, "run", "--sandbox", "--json", str(source), "fan", "--a", "4")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"o0": 16 + 9 + 4}
    listed = _skiff(sandbox_home, "cache", "list", "sdkwf.square", "--json")
    assert {e["task"] for e in json.loads(listed.stdout)} == {"sdkwf.square"}
    cleared = _skiff(sandbox_home, "cache", "clear", "sdkwf.square")
    assert cleared.returncode == 0 and "removed" in cleared.stdout
    assert json.loads(_skiff(sandbox_home, "cache", "list", "sdkwf.square", "--json").stdout) == []


GATES = textwrap.dedent('''
    from datetime import timedelta

    from sdk import approve, sleep, task, wait_for_input, workflow


    @task
    def double(x: int) -> int:
        return 2 * x


    @workflow
    def gated(a: int) -> int:
        pause = sleep(timedelta(milliseconds=200))
        n = wait_for_input("num", timeout=timedelta(minutes=5), expected_type=int)
        d = double(x=n)
        pause >> d
        return double(x=approve(d, "ok", timeout=timedelta(minutes=5)))
''')


def _hints(process, count):
    """Read stderr until `count` gate hints arrived: [(node, command words)]."""
    hints = []
    while len(hints) < count:
        line = process.stderr.readline()
        assert line, "the engine exited before asking for the gate"
        if "waiting for" in line:
            command = line.split("`")[1].split()
            hints.append((line.split(":")[0], command))
    return hints


def test_signal_and_approval_gates_answered_from_the_cli(sandbox_home, tmp_path):
    (tmp_path / "gatewf.py").write_text(GATES)
    env = {**os.environ, "SKIFF_HOME": sandbox_home.home}
    subprocess.run(["skiff", "package", "gatewf.py", "-o", "g.tgz"], cwd=tmp_path, check=True,
                   capture_output=True, env=env)
    engine = subprocess.Popen(["skiff", "sandbox", "run", str(tmp_path / "g.tgz"),
                               "gatewf.gated", "--a", "0", "--json"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        [(node, command)] = _hints(engine, 1)
        assert command[:3] == ["skiff", "executions", "signal"] and command[-1] == "VALUE"
        bad = _skiff(sandbox_home, *command[1:-1], "five")
        assert bad.returncode == 2 and "'num'" in bad.stderr
        sent = _skiff(sandbox_home, *command[1:-1], "5")
        assert sent.returncode == 0, sent.stderr
        [(node, command)] = _hints(engine, 1)
        assert command[:3] == ["skiff", "executions", "approve"]
        assert _skiff(sandbox_home, *command[1:]).returncode == 0
        out, err = engine.communicate(timeout=120)
    finally:
        engine.kill()
    assert engine.returncode == 0, err
    assert json.loads(out) == {"o0": 20}


def test_local_file_input_is_uploaded_for_the_container(sandbox_home, package, tmp_path):
    doc = tmp_path / "note.txt"
    doc.write_text("hello sandbox\n")
    run = _skiff(sandbox_home, "sandbox", "run", str(package), "sdkwf.shout", "--doc", str(doc),
                 "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"o0": "HELLO SANDBOX"}

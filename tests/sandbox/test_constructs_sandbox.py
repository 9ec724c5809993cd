"""Issue 5's "Done means" for every construct: the same workflow run in-process
(`sdk.run_locally`) and in the sandbox (`skiff run --sandbox --json`, every task in its own
container) gives the same outputs. The workflows are the conformance twins in
tests/sdk/conformance/skiff/ (flytekit compiles their twins), plus small workflows below where
a twin cannot run here (the policy twin names an image no registry can supply).

test_engine_nodes.py covers each node kind with hand-built specs; this file adds the comparison
with the in-process run of SDK-written workflows."""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from sdk import run_locally
from sandbox.cli.outputs import to_jsonable
from sandbox.cli.run_cmd import named_outputs
from sdk.loader import load_entity
from test_engine_support import docker_events

pytestmark = pytest.mark.sandbox

TWINS = Path(__file__).resolve().parents[1] / "sdk" / "conformance" / "skiff"


def _skiff(home, *args, cwd=None):
    return subprocess.run(["skiff", *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "SKIFF_HOME": home.home})


def _cli_args(inputs: dict) -> list[str]:
    args = []
    for name, value in inputs.items():
        args += [f"--{name}", value if isinstance(value, str) else json.dumps(value)]
    return args


def _execution_id(stderr: str) -> str:
    return next(line.split()[1] for line in stderr.splitlines() if line.startswith("execution "))


def in_process(path: Path, entity: str, inputs: dict, **answers) -> dict:
    """Outputs by name, as `--json` prints them, of the entity run in this process."""
    obj = load_entity(str(path), entity)
    result = run_locally(obj, inputs, **answers)
    return json.loads(json.dumps(to_jsonable(named_outputs(obj.interface, result))))


def in_sandbox(home, path: Path, entity: str, inputs: dict) -> tuple[dict, str]:
    """Outputs of `skiff run --sandbox --json` and the execution id."""
    run = _skiff(home, "run", "--sandbox", "--json", str(path), entity, *_cli_args(inputs))
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout), _execution_id(run.stderr)


def _nodes(home, execution_id: str) -> dict:
    show = _skiff(home, "executions", "show", execution_id, "--json")
    assert show.returncode == 0, show.stderr
    return {n["node"]: n for n in json.loads(show.stdout)["nodes"]}


def assert_same(home, path: Path, entity: str, inputs: dict, expected: dict) -> str:
    """Both runs give `expected` (spelled out so a change on both sides still fails)."""
    local = in_process(path, entity, inputs)
    sandboxed, execution_id = in_sandbox(home, path, entity, inputs)
    assert local == expected
    assert sandboxed == local
    return execution_id


def test_subworkflow_and_launch_plan_nodes(sandbox_home):
    # inner(2, b=2) = add(add(2, 2), None) = 4; inner_lp(4, default b=4) = 8
    execution_id = assert_same(sandbox_home, TWINS / "nested.py", "outer", {"x": 2},
                               {"o0": 4, "o1": 8})
    nodes = _nodes(sandbox_home, execution_id)
    # both calls ran their inner tasks in containers, recorded under the calling node
    assert {"n0-n0", "n0-n1", "n1-n0", "n1-n1"} <= set(nodes)
    assert nodes["n1-n1"]["outputs"] == {"o0": 8}


@pytest.mark.parametrize("entity, inputs, expected", [
    ("signs", {"a": 1}, {"o0": -2}),           # if: a > 0 & d < 4 -> double(a), then neg
    ("signs", {"a": 0}, {"o0": 3}),            # elif: d != 4 -> neg(b), then neg
    ("floats", {"r": 0.7}, {"o0": "hi:0.7"}),  # if
    ("floats", {"r": 0.2}, {"o0": "low:0.2"}),  # elif
    ("floats", {"r": 1.5}, {"o0": "high:1.5"}),  # else
    ("flags", {"a": 3}, {"o0": 6}),            # is_true of a node output
    ("flags", {"a": -3}, {"o0": 3}),
    ("nones", {"a": 2}, {"o0": 4}),            # is_none
    ("nones", {"a": 3}, {"o0": -3}),           # elif a <= 4
    ("nones", {"a": 11}, {"o0": 22}),          # else -> nested conditional, its if
    ("nones", {"a": 5}, {"o0": -5}),           # else -> nested conditional, its else
    ("reuse", {"a": 2}, {"o0": 16}),
    ("delegate", {"a": 3}, {"o0": -6}),        # a launch plan as the taken case
])
def test_conditional_each_branch(sandbox_home, entity, inputs, expected):
    assert_same(sandbox_home, TWINS / "branches.py", entity, inputs, expected)


def test_conditional_fail_branch_fails_both_ways_with_its_message(sandbox_home):
    # a = 2: d = 4, so no case holds and the else fails
    with pytest.raises(Exception, match="no branch for this input"):
        in_process(TWINS / "branches.py", "signs", {"a": 2})
    run = _skiff(sandbox_home, "run", "--sandbox", "--json", str(TWINS / "branches.py"), "signs",
                 "--a", "2")
    assert run.returncode == 1
    assert "no branch for this input" in run.stderr
    assert run.stdout.strip() == ""


@pytest.mark.parametrize("entity, inputs, expected, items", [
    ("squares", {"xs": [1, 2, 3, 4, 5]}, {"o0": 55}, 5),
    ("tolerant", {"xs": [1, -2, 3, -4, 5]}, {"o0": 3}, 5),  # min_success_ratio 0.5
    ("chained", {"n": 4}, {"o0": [0, 1, 4, 9]}, 4),           # mapping a node's output
    ("tuned", {"xs": [1, 2, 3]}, {"o0": [1, 4, 9]}, 3),       # overrides on the map node
    ("scaled", {"xs": [1, 2]}, {"o0": [4, 7]}, 2),            # functools.partial bound inputs
])
def test_map_task(sandbox_home, entity, inputs, expected, items):
    execution_id = assert_same(sandbox_home, TWINS / "mapping.py", entity, inputs, expected)
    # one node execution (one container) per item
    item_nodes = [n for n in _nodes(sandbox_home, execution_id) if n.rsplit("-", 1)[-1].isdigit()]
    assert len(item_nodes) == items


def test_dynamic_runs_the_graph_it_builds_as_nodes(sandbox_home):
    execution_id = assert_same(sandbox_home, TWINS / "dynamic_wf.py", "climb", {"n": 3},
                               {"o0": "1,2,3"})
    nodes = _nodes(sandbox_home, execution_id)
    # the dynamic task returned its graph; the engine ran each call in its own container
    assert [n for n in nodes if n.startswith("n0-")] == ["n0-dn0", "n0-dn1", "n0-dn2", "n0-dn3"]
    assert nodes["n0-dn3"]["outputs"] == {"o0": "1,2,3"}


POLICY = textwrap.dedent('''
    import typing

    from sdk import WorkflowFailurePolicy, task, workflow


    @task
    def boom(x: int) -> int:
        raise ValueError(f"cannot take {x}")


    @task
    def side(x: int) -> int:
        print(f"side ran with {x}")
        return x + 1


    @task
    def cleanup(x: int, err: typing.Optional[str] = None) -> None:
        node = err.split(":")[0] if err else None
        print(f"cleanup x={x} node={node} says-why={'ValueError: cannot take' in (err or '')}")


    @workflow(failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE,
              on_failure=cleanup)
    def patient(x: int) -> typing.Tuple[int, int]:
        return boom(x=x), side(x=x)
''')


def test_failure_policy_and_on_failure_handler(sandbox_home, tmp_path, capfd):
    path = tmp_path / "policywf.py"
    path.write_text(POLICY)
    with pytest.raises(Exception, match="cannot take 2"):
        in_process(path, "patient", {"x": 2})
    local_lines = [line for line in capfd.readouterr().out.splitlines()
                   if line.startswith(("side ran", "cleanup"))]
    assert local_lines == ["side ran with 2", "cleanup x=2 node=n0 says-why=True"]

    run = _skiff(sandbox_home, "run", "--sandbox", "--json", str(path), "patient", "--x", "2")
    assert run.returncode == 1
    assert "cannot take 2" in run.stderr
    execution_id = _execution_id(run.stderr)
    nodes = _nodes(sandbox_home, execution_id)
    assert (nodes["n0"]["state"], nodes["n1"]["state"], nodes["fn0"]["state"]) == (
        "failed", "succeeded", "succeeded")  # the independent node finished first
    sandbox_lines = []
    for node in ("n1", "fn0"):
        logs = _skiff(sandbox_home, "logs", execution_id, node)
        assert logs.returncode == 0, logs.stderr
        sandbox_lines += [line for line in logs.stdout.splitlines()
                          if line.startswith(("side ran", "cleanup"))]
    assert sandbox_lines == local_lines


FLYTE_ERROR = textwrap.dedent('''
    import typing

    from sdk import FlyteError, task, workflow


    @task
    def boom(x: int) -> int:
        raise ValueError(f"cannot take {x}")


    @task
    def report(x: int, err: typing.Optional[FlyteError] = None) -> None:
        print(f"report x={x} node={err.failed_node_id} message={err.message.splitlines()[0]}")


    @workflow(on_failure=report)
    def reported(x: int) -> int:
        return boom(x=x)
''')


def test_on_failure_handler_taking_flyte_error(sandbox_home, tmp_path, capfd):
    path = tmp_path / "reportwf.py"
    path.write_text(FLYTE_ERROR)
    with pytest.raises(Exception, match="cannot take 3"):
        in_process(path, "reported", {"x": 3})
    local = [line for line in capfd.readouterr().out.splitlines() if line.startswith("report")]
    assert local == ["report x=3 node=n0 message=ValueError: cannot take 3"]

    run = _skiff(sandbox_home, "run", "--sandbox", str(path), "reported", "--x", "3")
    assert run.returncode == 1 and "cannot take 3" in run.stderr
    logs = _skiff(sandbox_home, "logs", _execution_id(run.stderr), "fn0")
    assert logs.returncode == 0, logs.stderr
    lines = [line for line in logs.stdout.splitlines() if line.startswith("report")]
    assert len(lines) == 1 and lines[0].startswith("report x=3 node=n0 message=")
    assert "cannot take 3" in lines[0]


OVERRIDES = textwrap.dedent('''
    import os
    import typing
    from datetime import timedelta

    from sdk import Resources, task, workflow


    @task
    def double(x: int) -> int:
        return 2 * x


    @task
    def flaky(x: int) -> int:
        # the first attempt in a container fails; in-process there is no attempt number
        if os.environ.get("FLYTE_ATTEMPT_NUMBER", "1") == "0":
            raise RuntimeError("first attempt fails")
        return x + 1


    @workflow
    def tuned(x: int) -> typing.Tuple[int, int]:
        a = double(x=x).with_overrides(cache=True, cache_version="1", name="cached-double",
                                       timeout=timedelta(seconds=120),
                                       limits=Resources(cpu="1", mem="512Mi"),
                                       container_image="{image}")
        b = flaky(x=a).with_overrides(retries=1)
        return a, b
''')


def test_node_overrides(sandbox_home, tmp_path):
    path = tmp_path / "overridewf.py"
    path.write_text(OVERRIDES.replace("{image}", sandbox_home.runtime_image))
    with docker_events() as first:
        execution_id = assert_same(sandbox_home, path, "tuned", {"x": 21}, {"o0": 42, "o1": 43})
    nodes = _nodes(sandbox_home, execution_id)
    assert nodes["n1"]["attempt"] == 1  # retries=1 on the node let the second attempt succeed
    starts = first.of(execution_id)
    # (in any order: a container may be started ahead, behind its start gate)
    assert sorted(e["Actor"]["Attributes"]["skiff.node"] for e in starts) == ["n0", "n1", "n1"]
    n0 = next(e for e in starts if e["Actor"]["Attributes"]["skiff.node"] == "n0")
    assert n0["Actor"]["Attributes"]["image"] == sandbox_home.runtime_image

    with docker_events() as second:
        again, rerun_id = in_sandbox(sandbox_home, path, "tuned", {"x": 21})
    assert again == {"o0": 42, "o1": 43}
    # cache=True on the node: `double` comes from the cache; `flaky` is not cached
    assert [e["Actor"]["Attributes"]["skiff.node"] for e in second.of(rerun_id)] == ["n1", "n1"]


def _hints(process, count):
    """Read the engine's stderr until `count` gate hints arrived: the commands it suggests."""
    hints = []
    while len(hints) < count:
        line = process.stderr.readline()
        assert line, "the engine exited before asking for the gate"
        if "waiting for" in line:
            hints.append(line.split("`")[1].split())
    return hints


def test_gates_answered_from_the_cli_match_in_process_answers(sandbox_home):
    path = TWINS / "gates.py"
    asked, slept = [], []
    local = in_process(path, "gated", {"a": 0},
                       on_input=lambda name, hint: asked.append(name) or 5,
                       on_approve=lambda name, value: asked.append((name, value)) or True,
                       sleep=slept.append)
    assert local == {"o0": -10}
    assert asked == ["num", ("ok", 10)] and slept == [1.0]

    env = {**os.environ, "SKIFF_HOME": sandbox_home.home}
    engine = subprocess.Popen(["skiff", "run", "--sandbox", "--json", str(path), "gated",
                               "--a", "0"], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        [signal] = _hints(engine, 1)
        assert signal[:3] == ["skiff", "executions", "signal"] and signal[-1] == "VALUE"
        sent = _skiff(sandbox_home, *signal[1:-1], "5")
        assert sent.returncode == 0, sent.stderr
        [approval] = _hints(engine, 1)
        assert approval[:3] == ["skiff", "executions", "approve"]
        assert _skiff(sandbox_home, *approval[1:]).returncode == 0
        out, err = engine.communicate(timeout=120)
    finally:
        engine.kill()
    assert engine.returncode == 0, err
    assert json.loads(out) == local

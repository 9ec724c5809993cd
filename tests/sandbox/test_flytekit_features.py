"""flytekit features as a Flyte user writes them, registered with `pyflyte register` into the
sandbox and run with FlyteRemote: attribute access into dataclass outputs, an `Echo` task in a
conditional's no-op branch (no container), and a task executed directly."""
from __future__ import annotations

import datetime
import subprocess
import textwrap
import uuid

import pytest

from sandbox.admin.client_config import config_path

from test_flytekit_interop import flytekit_image, remote  # noqa: F401

pytestmark = pytest.mark.sandbox

FEATURES = textwrap.dedent('''
    from dataclasses import dataclass
    from typing import List, Optional

    from flytekit import WorkflowFailurePolicy, conditional, task, workflow
    from flytekit.core.task import Echo
    from flytekit.types.error import FlyteError


    @dataclass
    class Fruit:
        name: str
        sizes: List[int]


    @task
    def pick(n: int) -> Fruit:
        return Fruit(name=f"apple{n}", sizes=[n, n + 1])


    @task
    def add(a: int, b: int) -> int:
        return a + b


    @task
    def label(s: str, t: int) -> str:
        return f"{s.upper()}:{t}"


    @workflow
    def fruity(n: int = 1) -> str:
        fruit = pick(n=n)
        total = add(a=fruit.sizes[0], b=fruit.sizes[1])
        return label(s=fruit.name, t=total)


    echo = Echo(name="echo", inputs={"a": int})


    @workflow
    def maybe(x: int = 1) -> int:
        return conditional("positive").if_(x > 0).then(add(a=x, b=1)).else_().then(echo(a=x))


    @task
    def boom(x: int) -> int:
        if x > 0:
            raise ValueError(f"boom {x}")
        return x


    @task
    def report(x: int, err: Optional[FlyteError] = None) -> str:
        return f"{x}: {err.failed_node_id if err else 'no error'}"


    @workflow
    def clean_up(x: int, err: Optional[FlyteError] = None):
        report(x=x, err=err)


    @workflow(on_failure=clean_up)
    def fragile(x: int = 1) -> int:
        return boom(x=x)


    @workflow(on_failure=report)
    def sub_with_task_handler(x: int) -> int:
        return boom(x=x)


    @workflow(on_failure=clean_up)
    def sub_with_workflow_handler(x: int) -> int:
        return boom(x=add(a=x, b=10))


    @workflow(on_failure=report,
              failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
    def guarded(x: int = 1) -> int:
        return add(a=sub_with_task_handler(x=x), b=sub_with_workflow_handler(x=x))
''')


def run(remote, entity, inputs):
    """Execute and wait, polling every second (FlyteRemote's default is every 30 s)."""
    return remote.wait(remote.execute(entity, inputs=inputs, wait=False), timeout=900,
                       poll_interval=datetime.timedelta(seconds=1))


@pytest.fixture(scope="module")
def features_version(sandbox_home, flytekit_image, tmp_path_factory):
    root = tmp_path_factory.mktemp("features")
    (root / "features").mkdir()
    (root / "features" / "__init__.py").write_text("")
    (root / "features" / "flows.py").write_text(FEATURES)
    config = config_path(sandbox_home.home)  # written by `up`: client credentials
    version = "ft-" + uuid.uuid4().hex[:8]
    result = subprocess.run(
        ["pyflyte", "--config", str(config), "register", "--project", "flytesnacks",
         "--domain", "development", "--image", flytekit_image, "--version", version,
         "features"], cwd=root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return version


def test_attribute_access_into_a_dataclass_output(remote, features_version):
    lp = remote.fetch_launch_plan(name="features.flows.fruity", version=features_version)
    execution = run(remote, lp, {"n": 4})
    assert execution.is_successful, execution.error
    assert execution.outputs.get("o0", as_type=str) == "APPLE4:9"  # sizes [4, 5]


def test_echo_task_in_a_conditional_runs_without_a_container(remote, features_version):
    lp = remote.fetch_launch_plan(name="features.flows.maybe", version=features_version)
    taken = run(remote, lp, {"x": -5})
    assert taken.is_successful, taken.error
    assert taken.outputs.get("o0", as_type=int) == -5  # echoed
    added = run(remote, lp, {"x": 5})
    assert added.outputs.get("o0", as_type=int) == 6


def test_a_task_executed_directly_runs_the_task(remote, features_version):
    task = remote.fetch_task(name="features.flows.add", version=features_version)
    execution = run(remote, task, {"a": 2, "b": 40})
    assert execution.is_successful, execution.error
    assert execution.outputs.get("o0", as_type=int) == 42


def _handler_inputs(sandbox_home, nodes, node_id):
    """The x and err (FlyteError) a failure handler's task node ran with."""
    from flyteidl.core import literals_pb2

    from sandbox.storage import ObjectStore

    row = nodes[node_id]
    assert (row.task, row.state) == ("features.flows.report", "succeeded"), (node_id, row.error)
    inputs = literals_pb2.LiteralMap.FromString(
        ObjectStore.from_state(sandbox_home).get_bytes(row.input_uri))
    err = inputs.literals["err"]
    error = (err.scalar.union.value.scalar.error if err.scalar.HasField("union")
             else err.scalar.error)
    return inputs.literals["x"].scalar.primitive.integer, error


def _stored_nodes(sandbox_home, execution):
    from sandbox.store import open_store

    return {row.node_id: row for row in open_store(sandbox_home.database_url)
            .nodes(execution.id.name)}


def test_a_workflow_as_failure_handler_runs_with_the_error(remote, features_version,
                                                           sandbox_home):
    lp = remote.fetch_launch_plan(name="features.flows.fragile", version=features_version)
    execution = run(remote, lp, {"x": 3})
    assert not execution.is_successful
    assert "boom 3" in execution.error.message
    nodes = _stored_nodes(sandbox_home, execution)
    assert nodes["fn0"].state == "succeeded", nodes["fn0"].error
    assert "fn0-n0" in nodes, sorted(nodes)
    x, error = _handler_inputs(sandbox_home, nodes, "fn0-n0")
    assert x == 3
    assert error.failed_node_id == "n0" and "boom 3" in error.message


def test_a_failing_subworkflow_runs_its_own_failure_handler_then_the_parent_fails(
        remote, features_version, sandbox_home):
    """As propeller's subworkflow handler: a subworkflow that fails runs its on_failure (a
    task, or a workflow) with its own inputs and the error of its node, then the parent fails
    and runs its own handler."""
    lp = remote.fetch_launch_plan(name="features.flows.guarded", version=features_version)
    execution = run(remote, lp, {"x": 3})
    assert not execution.is_successful
    assert "boom" in execution.error.message
    nodes = _stored_nodes(sandbox_home, execution)
    # n0: the subworkflow whose handler is a task; its node n0 failed with "boom 3"
    x, error = _handler_inputs(sandbox_home, nodes, "n0-fn0")
    assert x == 3
    assert error.failed_node_id == "n0" and "boom 3" in error.message
    # n1: the subworkflow whose handler is a workflow; it saw x = 3 and its node n1's "boom 13"
    assert nodes["n1-fn0"].state == "succeeded", nodes["n1-fn0"].error
    x, error = _handler_inputs(sandbox_home, nodes, "n1-fn0-n0")
    assert x == 3
    assert error.failed_node_id == "n1" and "boom 13" in error.message
    # then the parent failed (both subworkflows ran: FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
    # and its own handler ran; the node downstream of them never did
    x, error = _handler_inputs(sandbox_home, nodes, "fn0")
    assert x == 3 and "boom" in error.message
    assert nodes.get("n2") is None or nodes["n2"].state not in ("succeeded", "running")

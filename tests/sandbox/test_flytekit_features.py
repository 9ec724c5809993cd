"""flytekit features as a Flyte user writes them, registered with `pyflyte register` into the
sandbox and run with FlyteRemote: attribute access into dataclass outputs, an `Echo` task in a
conditional's no-op branch (no container), and a task executed directly."""
from __future__ import annotations

import datetime
import os
import subprocess
import sys
import textwrap
import uuid
from typing import List

import pytest
from flytekit.models.core.execution import WorkflowExecutionPhase

from sandbox.admin.client_config import config_path

from test_admin import admin, channel  # noqa: F401 - fixtures
from test_flytekit_interop import flytekit_image, pyflyte_register, remote  # noqa: F401

pytestmark = pytest.mark.sandbox

FEATURES = textwrap.dedent('''
    import asyncio
    import os
    from dataclasses import dataclass
    from typing import List, Optional

    from functools import partial

    from flytekit import (ImageSpec, LaunchPlan, WorkflowFailurePolicy, conditional, dynamic,
                          eager, map_task, task, workflow)
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


    @task
    def double(x: int) -> int:
        return x * 2


    @workflow
    def double_then_add(x: int) -> int:
        return add(a=double(x=x), b=1)


    @eager
    async def eager_flow(x: int) -> int:
        a = double(x=x)  # a child execution of the task
        if a > 5:  # plain Python decides what runs next
            b = double_then_add(x=a)  # a child execution of the workflow's launch plan
        else:
            b = add(a=a, b=100)
        # flytekit 1.16.31's eager controller uploads its deck right after it hands back a
        # result; a task that returns during that upload can hang at exit (flytekit's race,
        # seen in the sandbox): let the upload finish first
        await asyncio.sleep(5)
        return b + int(os.environ.get("EAGER_BONUS", "0"))


    greeting_image = ImageSpec(name="skiff-features", packages=["flytekit==1.16.31"],
                               env={"GREETING": "hello from the ImageSpec"})


    @task(container_image=greeting_image)
    def greet(name: str) -> str:
        return f"{os.environ.get('GREETING')}, {name} ({greeting_image.is_container()})"


    @task(cache=True, cache_version="1")
    def cube(x: int) -> int:
        return x * x * x


    @task
    def total(xs: List[int]) -> int:
        return sum(xs)


    @dynamic
    def cubes(n: int) -> int:
        return total(xs=[cube(x=i) for i in range(n)])


    @workflow
    def cubes_wf(n: int) -> int:
        return cubes(n=n)


    @workflow
    def plus_one(x: int) -> int:
        return add(a=x, b=1)


    plus_one_lp = LaunchPlan.get_or_create(plus_one, name="features.flows.plus_one_lp")


    @workflow
    def everything(n: int = 3) -> int:
        # A conditional taking a dynamic branch; a cached task run twice (populate, then hit);
        # a map task; a launch plan and a subworkflow calling a dynamic task.
        picked = conditional("size").if_(n > 2).then(cubes(n=n)).else_().then(add(a=n, b=0))
        first = cube(x=n)
        again = cube(x=n)
        first >> again
        mapped = map_task(partial(add, b=1))(a=[n, first])
        launched = plus_one_lp(x=again)
        nested = cubes_wf(n=2)
        return total(xs=[picked, again, launched, nested, total(xs=mapped)])
''')


def run(remote, entity, inputs, **options):
    """Execute and wait, polling every second (FlyteRemote's default is every 30 s)."""
    return remote.wait(remote.execute(entity, inputs=inputs, wait=False, **options),
                       timeout=900, poll_interval=datetime.timedelta(seconds=1))


@pytest.fixture(scope="module")
def features_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("features")
    (root / "features").mkdir()
    (root / "features" / "__init__.py").write_text("")
    (root / "features" / "flows.py").write_text(FEATURES)
    return root


@pytest.fixture(scope="module")
def imagespec_image(flytekit_image, features_root):
    """`skiff image build --imagespec` before `pyflyte register`, as a user does: flytekit
    then finds the image locally. Its packages are the flytekit image's, so only the layer
    with the spec's env is new."""
    result = subprocess.run(["skiff", "image", "build", "--imagespec",
                             "features/flows.py:greeting_image"], cwd=features_root,
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr
    name = result.stdout.strip()
    assert name.startswith("skiff-features:"), result.stdout
    return name


@pytest.fixture(scope="module")
def features_version(sandbox_home, flytekit_image, imagespec_image, features_root):
    root = features_root
    config = config_path(sandbox_home.home)  # written by `up`: client credentials
    version = "ft-" + uuid.uuid4().hex[:8]
    result = pyflyte_register(root, config, flytekit_image, version, "features")
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


def test_an_eager_workflow_runs_its_children_through_the_admin(remote, features_version,
                                                               features_root):
    """flytekit's @eager as on a cluster: the eager task's container reaches the admin, creates
    its child executions there (labelled with the parent, as flytekit labels them), waits for
    them and returns what flytekit returns in-process; the execution's envs reach it."""
    from flytekit.models.filters import ValueIn

    lp = remote.fetch_launch_plan(name="features.flows.eager_flow", version=features_version)
    execution = run(remote, lp, {"x": 3}, envs={"EAGER_BONUS": "100"})
    assert execution.is_successful, execution.error
    in_process = subprocess.run(
        [sys.executable, "-c", "import asyncio; from features.flows import eager_flow; "
         "print(asyncio.run(eager_flow(x=3)))"],
        cwd=features_root, env={**os.environ, "EAGER_BONUS": "100"}, capture_output=True,
        text=True, timeout=120)
    assert in_process.returncode == 0, in_process.stderr
    assert execution.outputs.get("o0", as_type=int) == int(in_process.stdout.split()[-1]) == 113
    children, _ = remote.client.list_executions_paginated(
        "flytesnacks", "development", limit=20,
        filters=[ValueIn("execution_tag.key", ["eager-exec"]),
                 ValueIn("execution_tag.value", [execution.id.name])])
    by_entity = {child.spec.launch_plan.name: child for child in children}
    assert set(by_entity) == {"features.flows.double", "features.flows.double_then_add"}
    for child in children:
        assert child.closure.phase == WorkflowExecutionPhase.SUCCEEDED
        assert child.spec.labels.values["eager-root-exec"] == execution.id.name
        assert child.spec.envs.envs["_F_EE_ROOT"] == execution.id.name


def test_a_task_with_an_imagespec_runs_in_the_image_skiff_built(remote, features_version,
                                                                imagespec_image, features_root):
    task = remote.fetch_task(name="features.flows.greet", version=features_version)
    assert task.template.container.image == imagespec_image  # flytekit's ImageSpec name
    execution = run(remote, task, {"name": "Ann"})
    assert execution.is_successful, execution.error
    # the spec's env and flytekit's image id (is_container) are set in the image
    assert execution.outputs.get("o0", as_type=str) == "hello from the ImageSpec, Ann (True)"
    refused = subprocess.run(["skiff", "image", "build", "--imagespec", "features.flows:add"],
                             cwd=features_root, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert refused.stderr.strip() == ("Error: features.flows:add is neither an ImageSpec nor a "
                                      "task with an ImageSpec as its container_image")


def all_node_executions(nodes: dict) -> dict:
    """Every node execution FlyteRemote synced, children of parent nodes included."""
    found = {}
    for node_id, node in nodes.items():
        found[node_id] = node
        found.update(all_node_executions(node.subworkflow_node_executions))
    return found


def test_flyteremote_reads_every_node_back(remote, features_version, admin):
    from flyteidl.admin import node_execution_pb2
    from flyteidl.core import catalog_pb2

    lp = remote.fetch_launch_plan(name="features.flows.everything", version=features_version)
    execution = remote.wait(remote.execute(lp, inputs={"n": 3}, wait=False), timeout=900,
                            sync_nodes=True, poll_interval=datetime.timedelta(seconds=1))
    assert execution.is_successful, execution.error
    # picked 0+1+8, again 27, launched 28, nested 0+1, mapped [3+1, 27+1]
    assert execution.outputs.get("o0", as_type=int) == 97
    execution = remote.sync(execution, sync_nodes=True)
    nodes = all_node_executions(execution.node_executions)
    for node_id, node in nodes.items():  # every node's inputs and outputs are readable
        assert node.closure.phase == 3, node_id  # SUCCEEDED
        assert node.inputs.literals, node_id
        assert node.outputs.literals, node_id
    top = execution.node_executions
    assert set(top) == {f"n{i}" for i in range(8)}

    # The conditional took its dynamic branch: branch n0 -> case -> the nodes it built.
    branch = top["n0"]
    assert branch.metadata.is_parent_node
    (case,) = branch.subworkflow_node_executions.values()
    assert case.id.node_id == f"n0-0-{case.metadata.spec_node_id}"
    assert (case.metadata.is_parent_node, case.metadata.is_dynamic) == (True, True)
    built = case.subworkflow_node_executions
    assert set(built) == {f"{case.id.node_id}-0-dn{i}" for i in range(4)}
    assert [built[f"{case.id.node_id}-0-dn{i}"].outputs.get("o0", as_type=int)
            for i in range(3)] == [0, 1, 8]
    assert built[f"{case.id.node_id}-0-dn0"].metadata.retry_group == "0"
    dynamic = admin.GetDynamicNodeWorkflow(node_execution_pb2.GetDynamicNodeWorkflowRequest(
        id=case.id.to_flyte_idl()))
    assert [n.id for n in dynamic.compiled_workflow.primary.template.nodes] == \
        ["dn0", "dn1", "dn2", "dn3"]

    # A cached task fills the cache, the same call after it reads the cache (inputs too).
    assert top["n1"].closure.task_node_metadata.cache_status == catalog_pb2.CACHE_POPULATED
    assert top["n2"].closure.task_node_metadata.cache_status == catalog_pb2.CACHE_HIT
    assert top["n2"].inputs.get("x", as_type=int) == 3
    # The map task's inputs, the launch plan node's inputs and outputs.
    assert top["n3"].metadata.is_array
    assert top["n3"].inputs.get("a", as_type=List[int]) == [3, 27]
    assert top["n4"].inputs.get("x", as_type=int) == 27
    assert top["n4"].outputs.get("o0", as_type=int) == 28
    # A subworkflow calling a dynamic task: its nodes nest twice.
    (inner,) = top["n5"].subworkflow_node_executions.values()
    assert inner.id.node_id == "n5-0-n0" and inner.metadata.is_dynamic
    assert set(inner.subworkflow_node_executions) == {"n5-0-n0-0-dn0", "n5-0-n0-0-dn1",
                                                      "n5-0-n0-0-dn2"}

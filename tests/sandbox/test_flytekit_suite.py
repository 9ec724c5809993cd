"""The flytesnacks-style suite (tests/flytekit_suite/snacks): every workflow runs in-process
with flytekit (a plain call) and in the sandbox (`pyflyte register` of the whole package once,
then FlyteRemote executing them all at once); the outputs are equal, and FlyteRemote reads
every node of every execution back, inputs and outputs included. Gates are answered through
FlyteRemote (approve, set_signal) as a Flyte user would on a cluster."""
from __future__ import annotations

import io
import sys
import time
import uuid
from pathlib import Path

import pytest

from sandbox.admin.client_config import config_path

from test_flytekit_interop import flytekit_image, pyflyte_register, remote  # noqa: F401

pytestmark = pytest.mark.sandbox

SUITE = Path(__file__).parent.parent / "flytekit_suite"
SUCCEEDED = 3  # core.NodeExecution.Phase
# (module, workflow): each runs with its default inputs.
WORKFLOWS = [
    ("basics", "hello"),
    ("basics", "imperative"),
    ("control_flow", "classify"),
    ("control_flow", "fan_out"),
    ("control_flow", "dynamic_branch"),
    ("control_flow", "mapped"),
    ("control_flow", "nested"),
    ("data_types", "files_and_folders"),
    ("data_types", "enums_and_pickles"),
    ("data_types", "dataclasses_and_models"),
    ("data_types", "cached_frames"),
    ("data_types", "custom_type"),
    ("advanced", "gated"),
    ("advanced", "checkpointed"),
    ("advanced", "shell"),
    # Eager workflows join this list with the branch that runs them in the sandbox
    # (issue 15, s2-i15eager).
]
IMPERATIVE_INPUTS = {"x": 3}  # an imperative workflow's inputs have no defaults
GATE_ANSWERS = {"confirm-amount": True, "bonus": 7}  # approve, then a typed signal


def snacks(module: str):
    if str(SUITE) not in sys.path:
        sys.path.insert(0, str(SUITE))
    import importlib

    return importlib.import_module(f"snacks.{module}")


def in_process(module: str, name: str, monkeypatch) -> dict:
    """The workflow called in-process; its outputs by name."""
    entity = getattr(snacks(module), name)
    inputs = IMPERATIVE_INPUTS if name == "imperative" else {}
    if name == "gated":  # flytekit asks the gates on stdin when run locally
        monkeypatch.setattr(sys, "stdin", io.StringIO("y\n7\n"))
    result = entity(**inputs)
    names = list(entity.python_interface.outputs)
    values = [result] if len(names) == 1 else list(result)
    return dict(zip(names, values))


@pytest.fixture(scope="module")
def suite_version(sandbox_home, flytekit_image):
    config = config_path(sandbox_home.home)  # written by `up`: client credentials
    version = "suite-" + uuid.uuid4().hex[:8]
    result = pyflyte_register(SUITE, config, flytekit_image, version, "snacks", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return version


@pytest.fixture(scope="module")
def sandbox_runs(remote, suite_version):
    """Every workflow executed at once; gates answered as they are reached; then each
    execution synced with all its nodes."""
    started = {}
    for module, name in WORKFLOWS:
        lp = remote.fetch_launch_plan(name=f"snacks.{module}.{name}", version=suite_version)
        inputs = IMPERATIVE_INPUTS if name == "imperative" else {}
        started[name] = remote.execute(lp, inputs=inputs, wait=False)
    answered: set[str] = set()
    deadline = time.monotonic() + 1800
    pending = dict(started)
    while pending and time.monotonic() < deadline:
        for name, execution in list(pending.items()):
            execution = remote.sync(execution)
            if execution.is_done:
                del pending[name]
            elif name == "gated":
                answer_gates(remote, execution.id.name, answered)
        time.sleep(2)
    assert not pending, f"still running: {sorted(pending)}"
    return {name: remote.sync(execution, sync_nodes=True) for name, execution in started.items()}


def answer_gates(remote, execution_name: str, answered: set[str]) -> None:
    for signal in remote.list_signals(execution_name):
        signal_id = signal.id.signal_id
        if signal_id in answered:
            continue
        if signal_id == "confirm-amount":
            remote.approve(signal_id, execution_name)
        else:
            remote.set_signal(signal_id, execution_name, GATE_ANSWERS[signal_id])
        answered.add(signal_id)


def every_node(nodes: dict, path: str = ""):
    for node_id, node in nodes.items():
        yield path + node_id, node
        yield from every_node(node.subworkflow_node_executions, f"{path}{node_id}/")


@pytest.mark.parametrize("module,name", WORKFLOWS, ids=[n for _, n in WORKFLOWS])
def test_flytekit_suite_in_the_sandbox_as_in_process(module, name, sandbox_runs, monkeypatch):
    expected = in_process(module, name, monkeypatch)
    execution = sandbox_runs[name]
    assert execution.is_successful, execution.error
    entity = getattr(snacks(module), name)
    got = {var: execution.outputs.get(var, as_type=python_type)
           for var, python_type in entity.python_interface.outputs.items()}
    assert got == expected
    # FlyteRemote read every node back, with its inputs and outputs.
    gates = {n.id for n in execution.flyte_workflow.flyte_nodes if n.gate_node is not None}
    nodes = dict(every_node(execution.node_executions))
    assert nodes
    for where, node in nodes.items():
        assert node.closure.phase == SUCCEEDED, where
        if where in gates:
            continue  # flytekit reads no data for gate nodes
        assert node.inputs is not None, where
        assert node.outputs is not None, where


def test_suite_nodes_as_flyte_shows_them(sandbox_runs):
    """The shapes FlyteRemote relies on: a conditional's dynamic branch, cache statuses, a
    checkpointed task resumed on its second attempt, a launch plan node's data."""
    from flyteidl.core import catalog_pb2

    branch = sandbox_runs["dynamic_branch"].node_executions["n0"]
    (case,) = branch.subworkflow_node_executions.values()
    assert (case.id.node_id, case.metadata.spec_node_id) == ("n0-0-n0-n0", "n0-n0")
    assert case.metadata.is_dynamic and case.metadata.is_parent_node
    assert sorted(case.subworkflow_node_executions) == [f"n0-0-n0-n0-0-dn{i}" for i in range(4)]
    frames = sandbox_runs["cached_frames"].node_executions
    assert frames["n0"].closure.task_node_metadata.cache_status == catalog_pb2.CACHE_POPULATED
    assert frames["n1"].closure.task_node_metadata.cache_status == catalog_pb2.CACHE_HIT
    assert frames["n1"].inputs.get("n", as_type=int) == 4
    counted = sandbox_runs["checkpointed"].node_executions["n0"]
    assert len(counted.task_executions) == 2  # preempted once, resumed from the checkpoint
    launched = sandbox_runs["nested"].node_executions["n1"]
    assert launched.inputs.get("a", as_type=int) == 13
    assert launched.outputs.get("o0", as_type=int) == 170

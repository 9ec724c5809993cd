"""Flyte's SignalService on the sandbox's admin: flytekit's FlyteRemote lists the signals of a
running execution and answers its `wait_for_input` and `approve` gates, as on a cluster."""
from __future__ import annotations

import time
import uuid
from pathlib import Path

import grpc
import pytest
from flyteidl.admin import common_pb2, execution_pb2, launch_plan_pb2, signal_pb2
from flyteidl.core import identifier_pb2, literals_pb2
from flyteidl.service import signal_pb2_grpc
from flytekit.configuration import Config
from flytekit.remote import FlyteRemote

from sdk.compile.package import write_package
from sdk.compile.package_reader import read_package
from test_admin import admin, channel, launch, register_through_admin, wait_done  # noqa: F401
from sandbox.admin.client_config import config_path

pytestmark = pytest.mark.sandbox

GATES = Path(__file__).parents[1] / "sdk" / "conformance" / "skiff" / "gates.py"
PROJECT, DOMAIN = "flytesnacks", "development"


@pytest.fixture(scope="module")
def gated_version(admin, sandbox_home, tmp_path_factory):
    out = tmp_path_factory.mktemp("signals") / "gates.tgz"
    write_package([str(GATES)], sandbox_home.runtime_image, str(out))
    version = "v-" + uuid.uuid4().hex[:8]
    register_through_admin(admin, sandbox_home, read_package(out), PROJECT, DOMAIN, version)
    return version


@pytest.fixture(scope="module")
def remote(sandbox_home):
    config = Config.auto(config_file=str(config_path(sandbox_home.home)))
    return FlyteRemote(config, default_project=PROJECT, default_domain=DOMAIN)


def _wait_for_signal(remote, execution_name, signal_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        signals = {s.id.signal_id: s for s in remote.list_signals(execution_name)}
        if signal_id in signals:
            return signals
        time.sleep(0.3)
    raise AssertionError(f"signal {signal_id!r} of {execution_name} never appeared")


def test_flyteremote_answers_the_gates_of_a_running_execution(admin, remote, gated_version):
    exec_id = launch(admin, PROJECT, DOMAIN, "gates.gated", gated_version, a=0)

    signals = _wait_for_signal(remote, exec_id.name, "num")
    assert "ok" not in signals  # the approve gate is not reached yet
    assert signals["num"].type.simple == 1  # INTEGER, as wait_for_input(expected_type=int)
    assert not signals["num"].HasField("value")
    remote.set_signal("num", exec_id.name, 5, python_type=int)

    signals = _wait_for_signal(remote, exec_id.name, "ok")
    assert signals["num"].value.scalar.primitive.integer == 5
    assert signals["ok"].type.simple == 4  # BOOLEAN: Flyte approves with a boolean signal
    remote.approve("ok", exec_id.name)

    execution = wait_done(admin, exec_id)
    assert execution.closure.phase == 4, execution.closure.error.message  # SUCCEEDED
    outputs = remote.fetch_execution(name=exec_id.name).outputs
    assert outputs.get("o0", int) == -10  # neg(double(5))


def test_a_false_approval_rejects_and_bad_signals_are_invalid(admin, channel, remote,
                                                               gated_version):
    signals = signal_pb2_grpc.SignalServiceStub(channel)
    exec_id = launch(admin, PROJECT, DOMAIN, "gates.gated", gated_version, a=0)
    _wait_for_signal(remote, exec_id.name, "num")

    def set_signal(signal_id, literal):
        signals.SetSignal(signal_pb2.SignalSetRequest(
            id=identifier_pb2.SignalIdentifier(signal_id=signal_id, execution_id=exec_id),
            value=literal))

    text = literals_pb2.Literal()
    text.scalar.primitive.string_value = "five"
    with pytest.raises(grpc.RpcError) as wrong_type:
        set_signal("num", text)
    assert wrong_type.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "num" in wrong_type.value.details() and "integer" in wrong_type.value.details()
    with pytest.raises(grpc.RpcError) as unknown:
        set_signal("nope", text)
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'nope'" in unknown.value.details() and "num" in unknown.value.details()

    remote.set_signal("num", exec_id.name, 5, python_type=int)
    _wait_for_signal(remote, exec_id.name, "ok")
    remote.set_signal("ok", exec_id.name, False, python_type=bool)
    execution = wait_done(admin, exec_id)
    assert execution.closure.phase == 6  # FAILED
    assert "rejected" in execution.closure.error.message


def test_create_execution_runs_the_kind_the_identifier_names(admin, gated_version):
    """A task and a launch plan may share a name (flytekit's eager tasks do): CreateExecution
    runs the entity of the identifier's resource type, and GetExecution reports that one."""
    lp_id = identifier_pb2.Identifier(resource_type=3, project=PROJECT, domain=DOMAIN,
                                      name="gates.gated", version=gated_version)
    launch_plan = admin.GetLaunchPlan(common_pb2.ObjectGetRequest(id=lp_id))
    twin = identifier_pb2.Identifier(resource_type=3, project=PROJECT, domain=DOMAIN,
                                     name="gates.double", version=gated_version)
    admin.CreateLaunchPlan(launch_plan_pb2.LaunchPlanCreateRequest(id=twin,
                                                                   spec=launch_plan.spec))
    task_id = identifier_pb2.Identifier(resource_type=1, project=PROJECT, domain=DOMAIN,
                                        name="gates.double", version=gated_version)
    inputs = literals_pb2.LiteralMap()
    inputs.literals["x"].scalar.primitive.integer = 21
    created = admin.CreateExecution(execution_pb2.ExecutionCreateRequest(
        project=PROJECT, domain=DOMAIN, spec=execution_pb2.ExecutionSpec(launch_plan=task_id),
        inputs=inputs))
    execution = wait_done(admin, created.id)
    assert execution.closure.phase == 4, execution.closure.error.message
    data = admin.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=created.id))
    assert data.full_outputs.literals["o0"].scalar.primitive.integer == 42
    assert execution.spec.launch_plan.resource_type == 1

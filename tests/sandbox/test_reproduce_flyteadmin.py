"""`skiff reproduce` of an execution on Flyte's own flyteadmin. Nothing runs executions there (no
propeller), so the test plays propeller's part: it computes what the tasks compute, writes each
node's inputs.pb and outputs.pb to the plane's MinIO where propeller writes them, and sends the
workflow, node and task execution events propeller sends (flyteidl.event messages). Then
`skiff reproduce` fetches the execution through flyteadmin's API and data proxy, runs it in the
local sandbox and compares node by node: an empty diff, and a changed output is reported.

flyteadmin marks an execution it cannot hand to Kubernetes FAILED when it is created, and refuses
every later workflow event for it (a terminal phase never changes): node and task events are
accepted (flyteadmin checks only their own phase order and the producer), so the outputs
compared are the nodes'; the workflow's outputs are not recorded there.
"""
from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

import grpc
import pytest
from flyteidl.admin import event_pb2 as admin_event_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2
from flyteidl.event import event_pb2
from google.protobuf import timestamp_pb2

from sandbox.cli import main
from sdk.compile.package import write_package
from sdk.remote import Remote
from sdk.types import TypeEngine

pytestmark = pytest.mark.sandbox

EXAMPLE = Path(__file__).parents[2] / "examples" / "pipeline.py"
PROJECT, DOMAIN, VERSION = "flytesnacks", "development", "repro1"
PRODUCER = "propeller"  # the producer id older propellers hard-code; flyteadmin accepts it


@pytest.fixture(scope="module")
def plane(flyteadmin, sandbox_home, tmp_path_factory):
    """flyteadmin with the example pipeline registered (flytectl register files), and a
    Remote on it."""
    work = tmp_path_factory.mktemp("reproduce")
    (work / "src").mkdir()
    shutil.copy(EXAMPLE, work / "src" / "reproflow.py")
    package = work / "reproflow.tgz"
    write_package([str(work / "src" / "reproflow.py")], sandbox_home.runtime_image, str(package))
    result = subprocess.run([flyteadmin["flytectl"], "register", "files", str(package), "--archive",
                             "-p", PROJECT, "-d", DOMAIN, "--version", VERSION,
                             "--config", flyteadmin["flytekit_config"]],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.count("| Success |") == 5, result.stdout
    with Remote(flyteadmin["grpc"], insecure=True, project=PROJECT, domain=DOMAIN,
                env={}) as remote:
        yield remote, flyteadmin


def _storage(flyteadmin):
    from minio import Minio

    return Minio(flyteadmin["s3_endpoint"].split("://", 1)[1], access_key=flyteadmin["access_key"],
                 secret_key=flyteadmin["secret_key"], secure=False)


def _put(storage, bucket, key, message) -> str:
    import io

    data = message.SerializeToString()
    storage.put_object(bucket, key, io.BytesIO(data), len(data))
    return f"s3://{bucket}/{key}"


def _literals(values: dict, types: dict) -> literals_pb2.LiteralMap:
    return TypeEngine.dict_to_literal_map(values, types)


class Propeller:
    """What propeller does for one execution, by hand: data in storage, events to the admin."""

    def __init__(self, remote, flyteadmin, execution):
        self.admin = remote.connection.admin
        self.storage = _storage(flyteadmin)
        self.bucket = flyteadmin["bucket"]
        self.execution = execution
        self.clock = time.time()

    def _now(self) -> timestamp_pb2.Timestamp:
        self.clock += 1  # strictly later for every event, as propeller's would be
        stamp = timestamp_pb2.Timestamp()
        stamp.FromNanoseconds(int(self.clock * 1e9))
        return stamp

    def _send(self, method, request_type, event):
        request = request_type(request_id=uuid.uuid4().hex, event=event)
        return self.admin.call(method, request, f"send {method}",
                               allow=(grpc.StatusCode.FAILED_PRECONDITION,
                                      grpc.StatusCode.ALREADY_EXISTS))

    def workflow_event(self, phase):
        return self._send("CreateWorkflowEvent", admin_event_pb2.WorkflowExecutionEventRequest,
                          event_pb2.WorkflowExecutionEvent(
                              execution_id=self.execution, producer_id=PRODUCER, phase=phase,
                              occurred_at=self._now()))

    def run_task_node(self, node_id, task_name, inputs, outputs):
        """One task node, one attempt: RUNNING then SUCCEEDED, for the node and its task."""
        prefix = f"metadata/propeller/{PROJECT}-{DOMAIN}-{self.execution.name}/{node_id}/data"
        input_uri = _put(self.storage, self.bucket, f"{prefix}/inputs.pb", inputs)
        output_uri = _put(self.storage, self.bucket, f"{prefix}/0/outputs.pb", outputs)
        node = identifier_pb2.NodeExecutionIdentifier(node_id=node_id, execution_id=self.execution)
        task = identifier_pb2.Identifier(resource_type=identifier_pb2.TASK, project=PROJECT,
                                         domain=DOMAIN, name=task_name, version=VERSION)
        Node, Task = core_execution_pb2.NodeExecution, core_execution_pb2.TaskExecution
        answers = []
        for node_phase, task_phase, done in ((Node.RUNNING, Task.RUNNING, False),
                                             (Node.SUCCEEDED, Task.SUCCEEDED, True)):
            node_event = event_pb2.NodeExecutionEvent(
                id=node, producer_id=PRODUCER, phase=node_phase, occurred_at=self._now(),
                input_uri=input_uri, spec_node_id=node_id, node_name=node_id)
            task_event = event_pb2.TaskExecutionEvent(
                task_id=task, parent_node_execution_id=node, retry_attempt=0, phase=task_phase,
                producer_id=PRODUCER, occurred_at=self._now(), input_uri=input_uri,
                task_type="python-task")
            if done:
                node_event.output_uri = output_uri
                task_event.output_uri = output_uri
                answers.append(self._send("CreateTaskEvent",
                                          admin_event_pb2.TaskExecutionEventRequest, task_event))
                answers.append(self._send("CreateNodeEvent",
                                          admin_event_pb2.NodeExecutionEventRequest, node_event))
            else:
                answers.append(self._send("CreateNodeEvent",
                                          admin_event_pb2.NodeExecutionEventRequest, node_event))
                answers.append(self._send("CreateTaskEvent",
                                          admin_event_pb2.TaskExecutionEventRequest, task_event))
        refused = [a for a in answers if isinstance(a, grpc.RpcError)]
        assert not refused, [a.details() for a in refused]


def _play(remote, flyteadmin, n: int, name: str, square_output: int):
    """Create an execution of the pipeline on flyteadmin and play propeller running it, with
    task `square` answering `square_output` (n*n when honest)."""
    execution = remote.execute("reproflow.pipeline", VERSION, {"n": n, "name": name},
                               kind="launch plan")
    propeller = Propeller(remote, flyteadmin, execution)
    refused = propeller.workflow_event(core_execution_pb2.WorkflowExecution.RUNNING)
    propeller.run_task_node("n0", "reproflow.square", _literals({"x": n}, {"x": int}),
                            _literals({"o0": square_output}, {"o0": int}))
    greeting = f"{name}:{square_output}"
    propeller.run_task_node("n1", "reproflow.greet",
                            _literals({"name": name, "total": square_output},
                                      {"name": str, "total": int}),
                            _literals({"o0": greeting}, {"o0": str}))
    return execution, refused


def _reproduce(capsys, flyteadmin, execution):
    code = main(["reproduce", execution.name, "--project", PROJECT, "--domain", DOMAIN,
                 "--config", flyteadmin["flytekit_config"], "--json"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_reproduce_an_execution_of_flyteadmin_with_propellers_events(plane, capsys):
    import json

    remote, flyteadmin = plane
    execution, refused = _play(remote, flyteadmin, n=4, name="ada", square_output=16)
    # What flyteadmin refuses: a workflow event for the execution it already marked FAILED.
    assert isinstance(refused, grpc.RpcError), refused
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused.details()
    assert "Invalid phase change from FAILED" in refused.details()

    code, out, err = _reproduce(capsys, flyteadmin, execution)
    assert code == 0, out + err
    result = json.loads(out)
    assert result["identical"] and result["diff"] == []
    assert {"n0", "n1"} <= set(result["compared"]), result  # the nodes' outputs were compared

    # A remote run whose task answered differently: reproduced, the difference is reported.
    changed, _ = _play(remote, flyteadmin, n=3, name="bob", square_output=10)
    code, out, err = _reproduce(capsys, flyteadmin, changed)
    assert code == 1, out + err
    diff = json.loads(out)["diff"]
    assert "- n0.o0: 10" in diff and "+ n0.o0: 9" in diff, diff
    assert '- n1.o0: "bob:10"' in diff and '+ n1.o0: "bob:9"' in diff, diff

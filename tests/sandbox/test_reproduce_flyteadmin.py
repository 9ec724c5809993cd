"""`skiff reproduce` of an execution on Flyte's own flyteadmin. Nothing runs executions there (no
propeller), so the test plays propeller's part: it computes what the tasks compute, writes each
node's inputs.pb and outputs.pb and the workflow's outputs.pb to the plane's MinIO where
propeller writes them, and sends the workflow, node and task execution events propeller sends
(flyteidl.event messages). Then `skiff reproduce` fetches the execution through flyteadmin's API
and storage, runs it in the local sandbox and compares node by node and the workflow's outputs:
an empty diff, and a changed output is reported.

flyteadmin hands a created execution to Kubernetes (it POSTs a FlyteWorkflow object); when that
fails it records the execution FAILED and refuses every later workflow event for it (a terminal
phase never changes; asserted below on the shared plane). So this test's plane points
flyteadmin's kubeconfig at a stand-in API server on 127.0.0.1 that accepts the FlyteWorkflow,
as a cluster with propeller would; from there on only events move the execution, as on a cluster.
"""
from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
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


class _KubernetesStandIn(http.server.BaseHTTPRequestHandler):
    """Accepts what flyteadmin sends a cluster's API server: the FlyteWorkflow it creates for an
    execution (answered 201 with the object, as Kubernetes does) and deletes on abort."""

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802 - http.server's naming
        self._answer(201, self.rfile.read(int(self.headers.get("Content-Length", 0))))

    def do_DELETE(self):  # noqa: N802
        self._answer(200, b"{}")

    def do_GET(self):  # noqa: N802
        self._answer(404, b'{"kind": "Status", "code": 404}')

    def log_message(self, *args):
        pass


def _restart_flyteadmin(directory: Path, grpc_port: int) -> None:
    """Stop the plane's flyteadmin and start it again on its (edited) config; its pid file is
    kept current, so down.sh stops the new one."""
    pid_file = directory / "run" / "flyteadmin.pid"
    os.kill(int(pid_file.read_text()), signal.SIGTERM)
    for _ in range(40):
        try:
            socket.create_connection(("127.0.0.1", grpc_port), timeout=0.5).close()
            time.sleep(0.25)
        except OSError:
            break
    with open(directory / "run" / "flyteadmin.log", "ab") as log:
        process = subprocess.Popen([str(directory / "bin" / "flyteadmin"), "--config",
                                    str(directory / "flyteadmin.yaml"), "serve"],
                                   stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    pid_file.write_text(f"{process.pid}\n")
    for _ in range(90):
        try:
            socket.create_connection(("127.0.0.1", grpc_port), timeout=0.5).close()
            return
        except OSError:
            assert process.poll() is None, (directory / "run" / "flyteadmin.log").read_text()[-3000:]
            time.sleep(0.5)
    raise AssertionError("flyteadmin did not answer after its restart")


@pytest.fixture(scope="module")
def plane(tmp_path_factory, sandbox_home):
    """Flyte's control plane (up.sh) whose flyteadmin hands executions to a stand-in Kubernetes
    API, with the example pipeline registered (flytectl register files); (Remote, its
    endpoints.json, the package)."""
    from flyte_plane import FLYTE_DIR, start_flyte_plane, stop_flyte_plane

    directory = start_flyte_plane(tmp_path_factory, "flyte-cluster")
    kube = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _KubernetesStandIn)
    threading.Thread(target=kube.serve_forever, daemon=True).start()
    try:
        endpoints = json.loads((directory / "endpoints.json").read_text())
        kubeconfig = directory / "cluster.kubeconfig"
        kubeconfig.write_text(
            (FLYTE_DIR / "no-cluster.kubeconfig").read_text()
            .replace("https://127.0.0.1:6443", f"http://127.0.0.1:{kube.server_address[1]}")
            .replace("    insecure-skip-tls-verify: true\n", ""))
        config = directory / "flyteadmin.yaml"
        config.write_text(re.sub(r"kube-config: .*", f"kube-config: {kubeconfig}",
                                 config.read_text()))
        _restart_flyteadmin(directory, int(endpoints["grpc"].rsplit(":", 1)[1]))

        work = directory / "work"
        (work / "src").mkdir(parents=True)
        shutil.copy(EXAMPLE, work / "src" / "reproflow.py")
        package = work / "reproflow.tgz"
        write_package([str(work / "src" / "reproflow.py")], sandbox_home.runtime_image,
                      str(package))
        _register(endpoints, package)
        with Remote(endpoints["grpc"], insecure=True, project=PROJECT, domain=DOMAIN,
                    env={}) as remote:
            yield remote, endpoints, package
    finally:
        kube.shutdown()
        stop_flyte_plane(directory)


def _register(endpoints, package) -> None:
    result = subprocess.run([endpoints["flytectl"], "register", "files", str(package), "--archive",
                             "-p", PROJECT, "-d", DOMAIN, "--version", VERSION,
                             "--config", endpoints["flytekit_config"]],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.count("| Success |") == 5, result.stdout


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

    def workflow_event(self, phase, outputs: literals_pb2.LiteralMap | None = None):
        event = event_pb2.WorkflowExecutionEvent(execution_id=self.execution,
                                                 producer_id=PRODUCER, phase=phase,
                                                 occurred_at=self._now())
        if outputs is not None:
            event.output_uri = _put(self.storage, self.bucket, f"{self.prefix}/end-node/data/"
                                    "0/outputs.pb", outputs)
        return self._send("CreateWorkflowEvent", admin_event_pb2.WorkflowExecutionEventRequest,
                          event)

    @property
    def prefix(self) -> str:
        return f"metadata/propeller/{PROJECT}-{DOMAIN}-{self.execution.name}"

    def run_task_node(self, node_id, task_name, inputs, outputs):
        """One task node, one attempt: RUNNING then SUCCEEDED, for the node and its task."""
        prefix = f"{self.prefix}/{node_id}/data"
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


def _play(remote, endpoints, n: int, name: str, square_output: int):
    """Create an execution of the pipeline on flyteadmin and play propeller running it, with
    task `square` answering `square_output` (n*n when honest)."""
    WorkflowPhase = core_execution_pb2.WorkflowExecution
    execution = remote.execute("reproflow.pipeline", VERSION, {"n": n, "name": name},
                               kind="launch plan")
    propeller = Propeller(remote, endpoints, execution)
    answers = [propeller.workflow_event(WorkflowPhase.QUEUED),
               propeller.workflow_event(WorkflowPhase.RUNNING)]
    propeller.run_task_node("n0", "reproflow.square", _literals({"x": n}, {"x": int}),
                            _literals({"o0": square_output}, {"o0": int}))
    greeting = _literals({"o0": f"{name}:{square_output}"}, {"o0": str})
    propeller.run_task_node("n1", "reproflow.greet",
                            _literals({"name": name, "total": square_output},
                                      {"name": str, "total": int}), greeting)
    answers.append(propeller.workflow_event(WorkflowPhase.SUCCEEDED, greeting))
    refused = [a.details() for a in answers if isinstance(a, grpc.RpcError)]
    assert not refused, refused
    assert remote.fetch_execution(execution).closure.phase == WorkflowPhase.SUCCEEDED
    return execution


def _reproduce(capsys, endpoints, execution):
    code = main(["reproduce", execution.name, "--project", PROJECT, "--domain", DOMAIN,
                 "--config", endpoints["flytekit_config"], "--json"])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_reproduce_an_execution_of_flyteadmin_with_propellers_events(plane, capsys):
    remote, endpoints, _package = plane
    execution = _play(remote, endpoints, n=4, name="ada", square_output=16)
    code, out, err = _reproduce(capsys, endpoints, execution)
    assert code == 0, out + err
    result = json.loads(out)
    assert result["identical"] and result["diff"] == []
    # Both task nodes and the workflow's outputs were compared.
    assert result["compared"] == ["n0", "n1", "outputs"], result

    # A remote run whose task answered differently: reproduced, the difference is reported.
    changed = _play(remote, endpoints, n=3, name="bob", square_output=10)
    code, out, err = _reproduce(capsys, endpoints, changed)
    assert code == 1, out + err
    diff = json.loads(out)["diff"]
    assert "- n0.o0: 10" in diff and "+ n0.o0: 9" in diff, diff
    assert '- n1.o0: "bob:10"' in diff and '+ n1.o0: "bob:9"' in diff, diff
    assert '- outputs.o0: "bob:10"' in diff and '+ outputs.o0: "bob:9"' in diff, diff


def test_flyteadmin_without_a_cluster_refuses_workflow_events(flyteadmin, plane):
    """The shared plane (no Kubernetes at all) records a created execution FAILED and refuses
    any later workflow event: reproducing there can compare the nodes only (events for nodes
    and tasks are still accepted)."""
    _remote, _endpoints, package = plane
    with Remote(flyteadmin["grpc"], insecure=True, project=PROJECT, domain=DOMAIN,
                env={}) as remote:
        _register(flyteadmin, package)
        execution = remote.execute("reproflow.pipeline", VERSION, {"n": 2, "name": "eve"},
                                   kind="launch plan")
        assert remote.fetch_execution(execution).closure.phase == \
            core_execution_pb2.WorkflowExecution.FAILED
        refused = Propeller(remote, flyteadmin, execution).workflow_event(
            core_execution_pb2.WorkflowExecution.RUNNING)
    assert isinstance(refused, grpc.RpcError), refused
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused.details()
    assert "Invalid phase change from FAILED to RUNNING" in refused.details()

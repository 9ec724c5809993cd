"""Requests to the sandbox's admin, fuzzed: every malformed or unknown request gets a clear
status (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION), never INTERNAL or
UNKNOWN (a traceback behind the API), and none of them stores anything."""
from __future__ import annotations

import grpc
import pytest
from flyteidl.admin import common_pb2, execution_pb2, node_execution_pb2, task_pb2
from flyteidl.core import identifier_pb2, literals_pb2
from flyteidl.service import admin_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliability_support import figures
from sandbox.admin.gen import sandbox_pb2, sandbox_pb2_grpc
from sandbox.admin.client_config import local_channel

pytestmark = pytest.mark.sandbox
CLEAR = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
         grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.FAILED_PRECONDITION}
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30) | st.sampled_from(
    ["", "..", "../etc", "a\0b", "x" * 5000, "default", "development", "flytesnacks", "n0"])
SEEN: dict = {}


@pytest.fixture(scope="module")
def stubs(sandbox_home):
    with local_channel(sandbox_home) as channel:
        yield (admin_pb2_grpc.AdminServiceStub(channel),
               sandbox_pb2_grpc.SandboxServiceStub(channel))


def _snapshot(state) -> tuple:
    from sandbox.storage import ObjectStore
    from sandbox.store import open_store

    store = open_store(state.database_url)
    counts = tuple(store.db.query(f"SELECT COUNT(*) FROM {table}")[0][0] for table in
                   ("registered_entities", "executions", "node_executions"))
    objects = ObjectStore.from_state(state)
    return counts, sum(1 for _ in objects.client.list_objects(state.bucket, recursive=True))


@st.composite
def requests(draw):
    project, domain, name = draw(TEXT), draw(TEXT), draw(TEXT)
    execution = identifier_pb2.WorkflowExecutionIdentifier(project=project, domain=domain,
                                                           name="zz" + name)
    kind = draw(st.sampled_from(["get", "terminate", "data", "nodes", "node", "create",
                                 "logs", "get_task"]))
    if kind == "get":
        return kind, "GetExecution", execution_pb2.WorkflowExecutionGetRequest(id=execution)
    if kind == "terminate":
        return kind, "TerminateExecution", execution_pb2.ExecutionTerminateRequest(
            id=execution, cause=draw(TEXT))
    if kind == "data":
        return kind, "GetExecutionData", execution_pb2.WorkflowExecutionGetDataRequest(
            id=execution)
    if kind == "nodes":
        return kind, "ListNodeExecutions", node_execution_pb2.NodeExecutionListRequest(
            workflow_execution_id=execution, limit=draw(st.integers(0, 10**6)),
            token=draw(TEXT))
    if kind == "node":
        return kind, "GetNodeExecution", node_execution_pb2.NodeExecutionGetRequest(
            id=identifier_pb2.NodeExecutionIdentifier(node_id=draw(TEXT),
                                                      execution_id=execution))
    if kind == "create":
        inputs = literals_pb2.LiteralMap()
        for key in draw(st.lists(TEXT, max_size=3)):
            inputs.literals[key].scalar.primitive.integer = draw(st.integers(-2**63, 2**63 - 1))
        lp = identifier_pb2.Identifier(resource_type=draw(st.integers(0, 5)), project=project,
                                       domain=domain, name="zz-no-such-" + draw(TEXT),
                                       version=draw(TEXT))
        return kind, "CreateExecution", execution_pb2.ExecutionCreateRequest(
            project=project, domain=domain, name=draw(TEXT),
            spec=execution_pb2.ExecutionSpec(launch_plan=lp), inputs=inputs)
    if kind == "get_task":
        return kind, "GetTask", common_pb2.ObjectGetRequest(id=identifier_pb2.Identifier(
            resource_type=1, project=project, domain=domain, name=draw(TEXT),
            version=draw(TEXT)))
    return kind, "StreamNodeLogs", sandbox_pb2.StreamNodeLogsRequest(
        execution_id="zz" + name, node_id=draw(TEXT), follow=draw(st.booleans()))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(request=requests())
def test_fuzzed_requests_get_clear_statuses(stubs, request):
    admin, skiff_api = stubs
    kind, method, message = request
    try:
        if kind == "logs":
            list(skiff_api.StreamNodeLogs(message, timeout=30))
        else:
            getattr(admin, method)(message, timeout=30)
        code = grpc.StatusCode.OK
    except grpc.RpcError as error:
        code = error.code()
        assert code in CLEAR, (method, code, error.details())
    SEEN[(method, code.name)] = SEEN.get((method, code.name), 0) + 1
    assert code != grpc.StatusCode.OK or kind in ("nodes", "logs"), (method, message)


def test_nothing_stored_by_the_fuzzed_requests(sandbox_home, stubs):
    """Runs after the fuzz in this module: compares the store and bucket with a fresh fuzz
    run's worth of create requests, all of which must fail."""
    before = _snapshot(sandbox_home)
    admin, _ = stubs

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(request=requests().filter(lambda r: r[0] == "create"))
    def create(request):
        with pytest.raises(grpc.RpcError) as failed:
            admin.CreateExecution(request[2], timeout=30)
        assert failed.value.code() in CLEAR

    create()
    assert _snapshot(sandbox_home) == before
    figures("admin request fuzz", requests=sum(SEEN.values()) + 60,
            statuses=dict(sorted((f"{m}:{c}", n) for (m, c), n in SEEN.items())),
            internal_or_unknown=0, stored_delta=0)

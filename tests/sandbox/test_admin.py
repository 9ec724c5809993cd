"""The sandbox's admin server: Flyte's AdminService and DataProxyService and Skiff's own API,
served on 127.0.0.1 by `skiff sandbox up`, with real gRPC clients (raw stubs and flytekit)."""
from __future__ import annotations

import filecmp
import json
import subprocess
import textwrap
import time
import uuid

import grpc
import pytest
from flyteidl.admin import (
    common_pb2, execution_pb2, launch_plan_pb2, project_pb2, task_pb2, version_pb2, workflow_pb2,
)
from flyteidl.core import identifier_pb2, literals_pb2
from flyteidl.service import admin_pb2_grpc, dataproxy_pb2, dataproxy_pb2_grpc

from sandbox.admin.gen import sandbox_pb2, sandbox_pb2_grpc
from sandbox.admin.gen.generate import GENERATED, generate
from sandbox.registry import read_package
from sdk.compile.hydrate import hydrate
from sandbox.storage import ObjectStore
from sdk.compile.package import write_package
from sandbox.admin.client_config import local_channel

pytestmark = pytest.mark.sandbox

FLOW = textwrap.dedent('''
    import time

    from sdk import task, workflow


    @task(cache=True, cache_version="1")
    def double(x: int) -> int:
        return 2 * x


    @task
    def nap(seconds: int) -> int:
        time.sleep(seconds)
        return seconds


    @workflow
    def twice(x: int = 5) -> int:
        return double(x=double(x=x))


    @workflow
    def sleepy(seconds: int = 120) -> int:
        return nap(seconds=seconds)
''')

KINDS = {1: "task", 2: "workflow", 3: "launch_plan"}


@pytest.fixture(scope="module")
def channel(sandbox_home):
    with local_channel(sandbox_home) as chan:
        yield chan


@pytest.fixture(scope="module")
def admin(channel):
    return admin_pb2_grpc.AdminServiceStub(channel)


@pytest.fixture(scope="module")
def skiff_api(channel):
    return sandbox_pb2_grpc.SandboxServiceStub(channel)


@pytest.fixture(scope="module")
def package(sandbox_home, tmp_path_factory):
    root = tmp_path_factory.mktemp("adminflow")
    (root / "adminflow.py").write_text(FLOW)
    out = root / "adminflow.tgz"
    write_package([str(root / "adminflow.py")], sandbox_home.runtime_image, str(out))
    return read_package(out)


def register_through_admin(admin, sandbox_home, package, project, domain, version):
    """What a client does: upload the bundle, fill identifiers, CreateTask/Workflow/LaunchPlan."""
    bundle_uri = f"s3://{sandbox_home.bucket}/fast/{project}/{domain}/{package.bundle_name}"
    ObjectStore.from_state(sandbox_home).put_bytes(bundle_uri, package.bundle)
    for entity in package.entities:
        spec = hydrate(entity.kind, entity.spec, project, domain, version, bundle_uri)
        ident = identifier_pb2.Identifier(resource_type=entity.kind, project=project,
                                          domain=domain, name=entity.name, version=version)
        if entity.kind == 1:
            admin.CreateTask(task_pb2.TaskCreateRequest(id=ident, spec=spec))
        elif entity.kind == 2:
            admin.CreateWorkflow(workflow_pb2.WorkflowCreateRequest(id=ident, spec=spec))
        else:
            admin.CreateLaunchPlan(launch_plan_pb2.LaunchPlanCreateRequest(id=ident,
                                                                           spec=spec.spec))


def launch(admin, project, domain, name, version, **inputs):
    literals = literals_pb2.LiteralMap()
    for key, value in inputs.items():
        literals.literals[key].scalar.primitive.integer = value
    lp = identifier_pb2.Identifier(resource_type=3, project=project, domain=domain, name=name,
                                   version=version)
    response = admin.CreateExecution(execution_pb2.ExecutionCreateRequest(
        project=project, domain=domain, spec=execution_pb2.ExecutionSpec(launch_plan=lp),
        inputs=literals))
    return response.id


def wait_done(admin, exec_id, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        execution = admin.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=exec_id))
        if execution.closure.phase in (4, 6, 7, 8):  # SUCCEEDED FAILED ABORTED TIMED_OUT
            return execution
        time.sleep(0.3)
    raise AssertionError(f"execution {exec_id.name} did not end within {timeout} s")


@pytest.fixture(scope="module")
def registered(admin, sandbox_home, package):
    version = "v-" + uuid.uuid4().hex[:8]
    register_through_admin(admin, sandbox_home, package, "flytesnacks", "development", version)
    return version


# ---- generated code -----------------------------------------------------------------------


def test_committed_generated_code_matches_the_protos(tmp_path):
    from pathlib import Path

    import sandbox.admin.gen as gen

    generate(tmp_path)
    committed = Path(gen.__file__).parent
    stale = [name for name in GENERATED if not filecmp.cmp(tmp_path / name, committed / name,
                                                            shallow=False)]
    assert not stale, (f"{stale} differ from protos/; run `python -m sandbox.admin.gen.generate`"
                       " and commit the result")


# ---- server, projects, domains --------------------------------------------------------------


def test_status_json_names_the_admin_endpoint_that_answers(sandbox_home):
    result = subprocess.run(["skiff", "sandbox", "status", "--json"], capture_output=True,
                            text=True)
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr
    assert report["admin"] == sandbox_home.admin_endpoint
    assert report["admin"].startswith("127.0.0.1:")
    assert report["storage_endpoint"] == sandbox_home.minio_endpoint
    with local_channel(sandbox_home) as chan:
        version = admin_pb2_grpc.AdminServiceStub(chan).GetVersion(version_pb2.GetVersionRequest())
    assert version.control_plane_version.Build == "skiff-sandbox"


def test_default_projects_and_domains_and_project_create(admin):
    projects = {p.id for p in admin.ListProjects(project_pb2.ProjectListRequest()).projects}
    assert {"default", "flytesnacks"} <= projects
    domains = [d.id for d in admin.GetDomains(project_pb2.GetDomainRequest()).domains]
    assert domains == ["development", "staging", "production"]

    name = "proj-" + uuid.uuid4().hex[:6]
    result = subprocess.run(["skiff", "project", "create", name], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert admin.GetProject(project_pb2.ProjectGetRequest(id=name)).id == name
    again = subprocess.run(["skiff", "project", "create", name], capture_output=True, text=True)
    assert again.returncode == 2
    assert f"project {name!r} already exists" in again.stderr


def test_create_in_an_unknown_project_says_how_to_create_it(admin, package):
    task = next(e for e in package.entities if e.kind == 1)
    ident = identifier_pb2.Identifier(resource_type=1, project="nope", domain="development",
                                      name=task.name, version="v1")
    with pytest.raises(grpc.RpcError) as caught:
        admin.CreateTask(task_pb2.TaskCreateRequest(id=ident, spec=task.spec))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "skiff project create nope" in caught.value.details()


# ---- registration rules -----------------------------------------------------------------------


def test_same_spec_twice_is_already_exists_and_a_different_one_is_refused(admin, package):
    task = next(e for e in package.entities if e.name.endswith(".double"))
    version = "dup-" + uuid.uuid4().hex[:6]
    ident = identifier_pb2.Identifier(resource_type=1, project="flytesnacks",
                                      domain="development", name=task.name, version=version)
    admin.CreateTask(task_pb2.TaskCreateRequest(id=ident, spec=task.spec))
    with pytest.raises(grpc.RpcError) as same:
        admin.CreateTask(task_pb2.TaskCreateRequest(id=ident, spec=task.spec))
    # flyteadmin's answer to an identical duplicate; flytekit and pyflyte treat it as success.
    assert same.value.code() == grpc.StatusCode.ALREADY_EXISTS

    changed = task_pb2.TaskSpec()
    changed.CopyFrom(task.spec)
    changed.template.metadata.retries.retries = 7
    with pytest.raises(grpc.RpcError) as different:
        admin.CreateTask(task_pb2.TaskCreateRequest(id=ident, spec=changed))
    assert different.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "different spec" in different.value.details()
    assert task.name in different.value.details()
    stored = admin.GetTask(common_pb2.ObjectGetRequest(id=ident))
    assert stored.closure.compiled_task.template.metadata.retries.retries == \
        task.spec.template.metadata.retries.retries


def test_stored_spec_is_the_spec_received(admin, sandbox_home, package, registered):
    from sandbox.store import open_store

    store = open_store(sandbox_home.database_url)
    workflow = next(e for e in package.entities if e.kind == 2)
    data = store.entity_spec(2, "flytesnacks", "development", workflow.name, registered)
    bundle_uri = f"s3://{sandbox_home.bucket}/fast/flytesnacks/development/{package.bundle_name}"
    sent = hydrate(2, workflow.spec, "flytesnacks", "development", registered, bundle_uri)
    assert workflow_pb2.WorkflowSpec.FromString(data) == sent


def test_workflow_with_an_unregistered_task_is_refused(admin, package):
    workflow = next(e for e in package.entities if e.kind == 2)
    ident = identifier_pb2.Identifier(resource_type=2, project="flytesnacks",
                                      domain="development", name=workflow.name, version="orphan")
    spec = hydrate(2, workflow.spec, "flytesnacks", "development", "orphan", None)
    with pytest.raises(grpc.RpcError) as caught:
        admin.CreateWorkflow(workflow_pb2.WorkflowCreateRequest(id=ident, spec=spec))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not registered" in caught.value.details()


def test_get_workflow_returns_the_compiled_closure(admin, package, registered):
    name = next(e.name for e in package.entities if e.kind == 2 and e.name.endswith(".twice"))
    ident = identifier_pb2.Identifier(resource_type=2, project="flytesnacks",
                                      domain="development", name=name, version=registered)
    closure = admin.GetWorkflow(common_pb2.ObjectGetRequest(id=ident)).closure.compiled_workflow
    node_ids = [n.id for n in closure.primary.template.nodes]
    assert "start-node" in node_ids and "end-node" in node_ids
    assert [t.template.id.name for t in closure.tasks] == [name.replace(".twice", ".double")]


def test_launch_plan_activation(admin, package, registered):
    name = next(e.name for e in package.entities if e.kind == 3 and e.name.endswith(".twice"))
    ident = identifier_pb2.Identifier(resource_type=3, project="flytesnacks",
                                      domain="development", name=name, version=registered)
    assert admin.GetLaunchPlan(common_pb2.ObjectGetRequest(id=ident)).closure.state == 0
    admin.UpdateLaunchPlan(launch_plan_pb2.LaunchPlanUpdateRequest(id=ident, state=1))
    active = admin.GetActiveLaunchPlan(launch_plan_pb2.ActiveLaunchPlanRequest(
        id=common_pb2.NamedEntityIdentifier(project="flytesnacks", domain="development",
                                            name=name)))
    assert active.id.version == registered and active.closure.state == 1
    listed = admin.ListLaunchPlans(common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project="flytesnacks", domain="development",
                                            name=name), limit=10))
    assert registered in [lp.id.version for lp in listed.launch_plans]


# ---- executions ---------------------------------------------------------------------------


def test_execution_runs_in_the_background_and_reports_outputs(admin, skiff_api, package,
                                                              registered):
    name = next(e.name for e in package.entities if e.kind == 3 and e.name.endswith(".twice"))
    exec_id = launch(admin, "flytesnacks", "development", name, registered, x=7)
    changes = list(skiff_api.WatchExecution(sandbox_pb2.WatchExecutionRequest(
        execution_id=exec_id.name), timeout=180))
    assert changes[-1].execution_state == "succeeded"
    assert {c.node_id for c in changes if c.state == "succeeded"} == {"n0", "n1"}

    execution = wait_done(admin, exec_id)
    assert execution.closure.phase == 4
    data = admin.GetExecutionData(execution_pb2.WorkflowExecutionGetDataRequest(id=exec_id))
    assert data.full_inputs.literals["x"].scalar.primitive.integer == 7
    assert data.full_outputs.literals["o0"].scalar.primitive.integer == 28

    from flyteidl.admin import node_execution_pb2

    nodes = admin.ListNodeExecutions(node_execution_pb2.NodeExecutionListRequest(
        workflow_execution_id=exec_id, limit=10)).node_executions
    assert sorted(n.id.node_id for n in nodes) == ["n0", "n1"]
    first = admin.GetNodeExecutionData(node_execution_pb2.NodeExecutionGetDataRequest(
        id=next(n.id for n in nodes if n.id.node_id == "n0")))
    assert first.full_outputs.literals["o0"].scalar.primitive.integer == 14

    listed = admin.ListExecutions(common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project="flytesnacks", domain="development"),
        limit=100, filters="eq(phase,SUCCEEDED)"))
    assert exec_id.name in [e.id.name for e in listed.executions]


def test_unknown_execution_is_not_found_with_its_name(admin):
    missing = identifier_pb2.WorkflowExecutionIdentifier(project="flytesnacks",
                                                         domain="development", name="nosuchrun")
    with pytest.raises(grpc.RpcError) as caught:
        admin.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=missing))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert "flytesnacks/development/nosuchrun does not exist" in caught.value.details()


def test_terminate_stops_the_run_and_its_container(admin, sandbox_home, package, registered):
    import docker

    name = next(e.name for e in package.entities if e.kind == 3 and e.name.endswith(".sleepy"))
    exec_id = launch(admin, "flytesnacks", "development", name, registered, seconds=300)
    client = docker.from_env()
    label = {"label": f"skiff.execution={exec_id.name}"}
    deadline = time.monotonic() + 120
    while not client.containers.list(filters=label) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert client.containers.list(filters=label), "the task container never started"
    admin.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=exec_id,
                                                                     cause="enough"))
    execution = admin.GetExecution(execution_pb2.WorkflowExecutionGetRequest(id=exec_id))
    assert execution.closure.phase == 7  # ABORTED
    assert execution.closure.abort_metadata.cause == "enough"
    assert client.containers.list(all=True, filters=label) == []
    with pytest.raises(grpc.RpcError) as again:
        admin.TerminateExecution(execution_pb2.ExecutionTerminateRequest(id=exec_id))
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION


# ---- data proxy -----------------------------------------------------------------------------


def test_upload_location_accepts_a_put_and_download_link_reads_it(channel, sandbox_home):
    import base64
    import hashlib
    import urllib.request

    proxy = dataproxy_pb2_grpc.DataProxyServiceStub(channel)
    body = b"hello sandbox"
    md5 = hashlib.md5(body).digest()
    location = proxy.CreateUploadLocation(dataproxy_pb2.CreateUploadLocationRequest(
        project="flytesnacks", domain="development", filename="hello.txt", content_md5=md5))
    assert location.native_url.startswith("s3://skiff/fast/flytesnacks/development/")
    assert location.native_url.endswith("/hello.txt")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(location.signed_url, data=body, method="PUT",
                                     headers={"Content-MD5": base64.b64encode(md5).decode()})
    assert opener.open(request).status == 200
    assert ObjectStore.from_state(sandbox_home).get_bytes(location.native_url) == body
    download = proxy.CreateDownloadLocation(dataproxy_pb2.CreateDownloadLocationRequest(
        native_url=location.native_url))
    assert opener.open(download.signed_url).read() == body


# ---- Skiff's own API ------------------------------------------------------------------------


def test_promotion_and_reproduction_records(skiff_api):
    name = "wf-" + uuid.uuid4().hex[:6]
    with pytest.raises(grpc.RpcError) as unproven:
        skiff_api.CreatePromotion(sandbox_pb2.CreatePromotionRequest(
            promotion=sandbox_pb2.PromotionRecord(project="p", name=name, version="v1",
                                                  from_domain="development",
                                                  to_domain="staging")))
    assert unproven.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    record = skiff_api.CreatePromotion(sandbox_pb2.CreatePromotionRequest(
        promotion=sandbox_pb2.PromotionRecord(
            project="p", name=name, version="v1", from_domain="development",
            to_domain="staging", forced=True, entities=["task:a", "workflow:b"])))
    assert record.id > 0 and record.forced and list(record.entities) == ["task:a", "workflow:b"]
    listed = skiff_api.ListPromotions(sandbox_pb2.ListPromotionsRequest(name=name)).promotions
    assert [(p.name, p.to_domain, p.forced) for p in listed] == [(name, "staging", True)]

    source = "flytesnacks/development/" + uuid.uuid4().hex[:8]
    made = skiff_api.CreateReproduction(sandbox_pb2.CreateReproductionRequest(
        reproduction=sandbox_pb2.ReproductionRecord(source=source, local_execution="abc",
                                                    identical=True)))
    assert made.source == source and made.identical
    assert source in [r.source for r in skiff_api.ListReproductions(
        sandbox_pb2.ListReproductionsRequest()).reproductions]


def test_node_logs_stream_and_unknown_node(skiff_api, admin, package, registered):
    name = next(e.name for e in package.entities if e.kind == 3 and e.name.endswith(".twice"))
    exec_id = launch(admin, "flytesnacks", "development", name, registered, x=1)
    wait_done(admin, exec_id)
    text = "".join(c.text for c in skiff_api.StreamNodeLogs(sandbox_pb2.StreamNodeLogsRequest(
        execution_id=exec_id.name, node_id="n0"), timeout=30))
    assert "attempt 0" in text
    with pytest.raises(grpc.RpcError) as caught:
        list(skiff_api.StreamNodeLogs(sandbox_pb2.StreamNodeLogsRequest(
            execution_id=exec_id.name, node_id="n9"), timeout=30))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_cache_list_and_clear(skiff_api, admin, package, registered):
    name = next(e.name for e in package.entities if e.kind == 3 and e.name.endswith(".twice"))
    task = name.replace(".twice", ".double")
    wait_done(admin, launch(admin, "flytesnacks", "development", name, registered, x=11))
    entries = skiff_api.ListCacheEntries(sandbox_pb2.ListCacheEntriesRequest(task=task)).entries
    assert len(entries) >= 2 and {e.task for e in entries} == {task}
    removed = skiff_api.ClearCache(sandbox_pb2.ClearCacheRequest(task=task)).removed
    assert removed == len(entries)
    assert not skiff_api.ListCacheEntries(sandbox_pb2.ListCacheEntriesRequest(task=task)).entries


def test_upstream_ids_in_another_order_are_the_same_workflow():
    """flytekit writes upstream node ids in set order; re-registering must not fail on it."""
    from flyteidl.core import workflow_pb2 as core_workflow_pb2

    from sandbox.admin.entities import canonical

    def spec(order, retries=0):
        node = core_workflow_pb2.Node(id="n2", upstream_node_ids=order)
        node.metadata.retries.retries = retries
        return workflow_pb2.WorkflowSpec(template=core_workflow_pb2.WorkflowTemplate(nodes=[node]))

    assert spec(["n1", "n0"]) != spec(["n0", "n1"])
    assert canonical(spec(["n1", "n0"])) == canonical(spec(["n0", "n1"]))
    assert canonical(spec(["n1", "n0"])) != canonical(spec(["n0", "n1"], retries=2))

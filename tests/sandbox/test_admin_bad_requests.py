"""Bad requests to the sandbox's admin are INVALID_ARGUMENT with a message naming the field,
never INTERNAL, and store nothing: executions across projects, upload names with `..`,
expiries beyond what S3 presigns, project ids that are not DNS labels."""
from __future__ import annotations

import grpc
import pytest
from flyteidl.admin import common_pb2, execution_pb2, project_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2_grpc, dataproxy_pb2, dataproxy_pb2_grpc
from google.protobuf import duration_pb2
from sandbox.admin.client_config import local_channel

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def channel(sandbox_home):
    with local_channel(sandbox_home) as chan:
        yield chan


def _code(call, request) -> tuple[str, str]:
    try:
        call(request)
    except grpc.RpcError as error:
        return error.code().name, error.details()
    return "OK", ""


def test_execution_asked_for_in_another_project_than_its_launch_plan(channel):
    admin = admin_pb2_grpc.AdminServiceStub(channel)
    before = admin.ListExecutions(common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project="default", domain="development"), limit=100))
    plan = identifier_pb2.Identifier(resource_type=3, project="flytesnacks", domain="staging",
                                     name="some.plan", version="v1")
    code, details = _code(admin.CreateExecution, execution_pb2.ExecutionCreateRequest(
        project="default", domain="development", spec=execution_pb2.ExecutionSpec(
            launch_plan=plan)))
    assert code == "INVALID_ARGUMENT"
    assert "flytesnacks/staging" in details and "project 'flytesnacks'" in details
    after = admin.ListExecutions(common_pb2.ResourceListRequest(
        id=common_pb2.NamedEntityIdentifier(project="default", domain="development"), limit=100))
    assert len(after.executions) == len(before.executions)


@pytest.mark.parametrize("fields, word", [
    ({"filename": "../escape.tar.gz", "filename_root": "abc"}, "filename"),
    ({"filename": "x.tar.gz", "filename_root": ".."}, "filename_root"),
    ({"filename": "x.tar.gz", "filename_root": "a/../../b"}, "filename_root"),
    ({"filename": "x\x00.tar.gz", "filename_root": "abc"}, "control character"),
    ({"filename": "x.tar.gz", "filename_root": "abc",
      "expires_in": duration_pb2.Duration(seconds=10 ** 15)}, "expires_in"),
    ({"filename": "x.tar.gz", "filename_root": "abc",
      "expires_in": duration_pb2.Duration(seconds=8 * 86400)}, "expires_in"),
    ({"filename": "x.tar.gz", "filename_root": "abc",
      "expires_in": duration_pb2.Duration(seconds=-5)}, "negative"),
])
def test_bad_upload_locations_are_invalid_arguments(channel, fields, word):
    proxy = dataproxy_pb2_grpc.DataProxyServiceStub(channel)
    code, details = _code(proxy.CreateUploadLocation, dataproxy_pb2.CreateUploadLocationRequest(
        project="default", domain="development", **fields))
    assert code == "INVALID_ARGUMENT", details
    assert word in details


def test_a_sound_upload_location_is_still_given(channel):
    proxy = dataproxy_pb2_grpc.DataProxyServiceStub(channel)
    answer = proxy.CreateUploadLocation(dataproxy_pb2.CreateUploadLocationRequest(
        project="default", domain="development", filename="x.tar.gz", filename_root="abc",
        expires_in=duration_pb2.Duration(seconds=3600)))
    assert answer.native_url.endswith("/fast/default/development/abc/x.tar.gz")


@pytest.mark.parametrize("project_id", ["Upper", "a_b", "../x", "p" * 5000, "x\x00"])
def test_project_ids_must_be_dns_labels(channel, project_id):
    admin = admin_pb2_grpc.AdminServiceStub(channel)
    code, details = _code(admin.RegisterProject, project_pb2.ProjectRegisterRequest(
        project=project_pb2.Project(id=project_id, name="n")))
    assert code == "INVALID_ARGUMENT", details
    assert project_id[:20] not in [p.id for p in admin.ListProjects(
        project_pb2.ProjectListRequest()).projects]

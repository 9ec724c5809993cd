"""What flyteadmin refuses only mid-registration (a cycle, an unbound input, a type mismatch, a
task asking for more than its limit) is refused up front by the local registry (`skiff sandbox
run`: `Error:`, exit 2) and by `skiff register` against Skiff's admin, and nothing of the
package is stored; Skiff's admin answers INVALID_ARGUMENT to each such entity on its own."""
from __future__ import annotations

import grpc
import pytest
from flyteidl.admin import common_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2_grpc

from refused_packages import EXPECTED, bad_entities, good_package, refused_package
from sandbox.admin.client_config import local_channel
from sandbox.cli import main
from sandbox.registry import TASK, read_package
from sandbox.store import open_store
from sdk.compile.hydrate import hydrate

pytestmark = pytest.mark.sandbox

PROJECT, DOMAIN = "flytesnacks", "development"


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    directory = tmp_path_factory.mktemp("refusals")
    return good_package(directory), refused_package(directory)


def _one_error_line(err: str) -> str:
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    for expected in EXPECTED:
        assert expected in err
    assert "nothing was registered" in err
    return err


def test_the_local_registry_refuses_the_package_whole(sandbox_home, packages, capsys):
    _good, refused = packages
    code = main(["sandbox", "run", str(refused), "admitted.halve", "--project", PROJECT,
                 "--version", "refused-1", "--a", "2"])
    captured = capsys.readouterr()
    assert code == 2
    _one_error_line(captured.err)
    store = open_store(sandbox_home.database_url)
    assert store.entity_specs(PROJECT, DOMAIN, "refused-1") == {}
    # The default version, a digest of the package, holds nothing either.
    default = read_package(refused).digest[:16]
    assert main(["sandbox", "run", str(refused), "admitted.halve", "--a", "2"]) == 2
    assert store.entity_specs("default", DOMAIN, default) == {}


def _admin(sandbox_home):
    channel = local_channel(sandbox_home)  # the admin needs this home's token
    return channel, admin_pb2_grpc.AdminServiceStub(channel)


def test_skiff_register_on_skiffs_admin_refuses_the_package_whole(sandbox_home, packages,
                                                                  capsys):
    good, refused = packages
    endpoint = ["--endpoint", sandbox_home.admin_endpoint, "--insecure"]
    code = main(["register", str(refused), "--project", PROJECT, "--domain", DOMAIN,
                 "--version", "refused-2", *endpoint])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    _one_error_line(captured.err)
    store = open_store(sandbox_home.database_url)
    assert store.entity_specs(PROJECT, DOMAIN, "refused-2") == {}
    # Each entity on its own, once what it calls is registered: INVALID_ARGUMENT naming it.
    assert main(["register", str(good), "--project", PROJECT, "--domain", DOMAIN,
                 "--version", "refused-3", *endpoint]) == 0
    channel, stub = _admin(sandbox_home)
    with channel:
        for kind, spec in bad_entities(good):
            name = spec.template.id.name
            ident = identifier_pb2.Identifier(resource_type=kind, project=PROJECT,
                                              domain=DOMAIN, name=name, version="refused-3")
            hydrated = hydrate(kind, spec, PROJECT, DOMAIN, "refused-3", "s3://b/x.tar.gz")
            with pytest.raises(grpc.RpcError) as refused_call:
                if kind == TASK:
                    stub.CreateTask(task_pb2.TaskCreateRequest(id=ident, spec=hydrated))
                else:
                    stub.CreateWorkflow(workflow_pb2.WorkflowCreateRequest(id=ident,
                                                                           spec=hydrated))
            assert refused_call.value.code() == grpc.StatusCode.INVALID_ARGUMENT, name
            detail = refused_call.value.details()
            assert name in detail and "\n" not in detail, detail
            with pytest.raises(grpc.RpcError) as missing:
                getter = stub.GetTask if kind == TASK else stub.GetWorkflow
                getter(common_pb2.ObjectGetRequest(id=ident))
            assert missing.value.code() == grpc.StatusCode.NOT_FOUND

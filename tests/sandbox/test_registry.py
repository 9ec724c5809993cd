"""The local registry: packages as `pyflyte package` (the oracle) and `skiff package` write
them, registered in the store under project/domain/version with the code bundle in MinIO."""
from __future__ import annotations

import subprocess
import textwrap

import pytest
from flyteidl.admin import task_pb2, workflow_pb2

from sandbox.registry import TASK, WORKFLOW, read_package, register_package
from sandbox.storage import ObjectStore
from sandbox.store import open_store
from sdk.errors import PackageError
from test_engine_support import script_task, write_tgz

pytestmark = pytest.mark.sandbox

FLOW = textwrap.dedent('''
    from flytekit import task, workflow


    @task(cache=True, cache_version="2", retries=3)
    def square(x: int) -> int:
        return x * x


    @workflow
    def wf(x: int = 2) -> int:
        return square(x=square(x=x))
''')


@pytest.fixture(scope="module")
def flytekit_package(tmp_path_factory):
    root = tmp_path_factory.mktemp("pyflyte")
    (root / "regflow").mkdir()
    (root / "regflow" / "__init__.py").write_text("")
    (root / "regflow" / "flow.py").write_text(FLOW)
    out = root / "flyte.tgz"
    subprocess.run(["pyflyte", "--pkgs", "regflow", "package", "--image", "example:1", "--fast",
                    "-f", "-o", str(out)], cwd=root, check=True, capture_output=True)
    return out


@pytest.fixture()
def stores(sandbox_home):
    return open_store(sandbox_home.database_url), ObjectStore.from_state(sandbox_home)


def _clear_ids(spec):
    for ident in (spec.template.id,):
        ident.project = ident.domain = ident.version = ""
    return spec


def test_flytekit_package_registers_with_identifiers_and_bundle(flytekit_package, stores):
    store, objects = stores
    package = read_package(flytekit_package)
    assert [(e.kind, e.name) for e in package.entities] == [
        (1, "regflow.flow.square"), (2, "regflow.flow.wf"), (3, "regflow.flow.wf")]
    reg = register_package(store, objects, package, "reg", "staging")
    assert reg.version == package.digest[:16] and not reg.already_registered

    task = task_pb2.TaskSpec.FromString(store.entity_spec(TASK, "reg", "staging",
                                                          "regflow.flow.square", reg.version))
    ident = task.template.id
    assert (ident.project, ident.domain, ident.version) == ("reg", "staging", reg.version)
    # Where the data proxy would put the same upload: fast/<project>/<domain>/<base32 md5>/<name>.
    from sandbox.admin.dataproxy import upload_key
    from flyteidl.service import dataproxy_pb2
    import hashlib

    key = upload_key(dataproxy_pb2.CreateUploadLocationRequest(
        project="reg", domain="staging", filename=package.bundle_name,
        content_md5=hashlib.md5(package.bundle).digest()))
    bundle_uri = f"s3://skiff/{key}"
    args = list(task.template.container.args)
    assert bundle_uri in args and "{{ .remote_package_path }}" not in " ".join(args)
    assert objects.get_bytes(bundle_uri) == package.bundle
    # Apart from identifiers and the bundle placeholder, the spec is the packaged one.
    original = package.find("regflow.flow.square")
    original_spec = task_pb2.TaskSpec()
    original_spec.CopyFrom(original.spec)
    stored = _clear_ids(task)
    stored.template.container.args[args.index(bundle_uri)] = "{{ .remote_package_path }}"
    assert stored.SerializeToString(deterministic=True) == \
        original_spec.SerializeToString(deterministic=True)

    wf = workflow_pb2.WorkflowSpec.FromString(store.entity_spec(WORKFLOW, "reg", "staging",
                                                                "regflow.flow.wf"))
    refs = {n.task_node.reference_id.version for n in wf.template.nodes}
    assert refs == {reg.version}

    again = register_package(store, objects, read_package(flytekit_package), "reg", "staging")
    assert again.already_registered and again.version == reg.version


def test_same_version_with_a_different_spec_is_refused(tmp_path, stores):
    store, objects = stores
    first = tmp_path / "a.tgz"
    second = tmp_path / "b.tgz"
    write_tgz(first, [("0_reg.t_1.pb", script_task("reg.t", "out['o']=1", {}, {"o": int})
                       .SerializeToString())])
    write_tgz(second, [("0_reg.t_1.pb", script_task("reg.t", "out['o']=2", {}, {"o": int})
                        .SerializeToString())])
    assert read_package(first).digest != read_package(second).digest
    register_package(store, objects, read_package(first), "reg", "dev", version="v1")
    with pytest.raises(PackageError, match=r"task 'reg.t' version 'v1' is already registered "
                                           r"in reg/dev with a different spec"):
        register_package(store, objects, read_package(second), "reg", "dev", version="v1")
    spec = task_pb2.TaskSpec.FromString(store.entity_spec(TASK, "reg", "dev", "reg.t", "v1"))
    assert "out['o']=1" in spec.template.container.args


@pytest.mark.parametrize("entries, message", [
    ([("readme.txt", b"hi")], r"unexpected entry 'readme.txt'"),
    ([("0_reg.x_7.pb", b"")], r"unexpected entry '0_reg.x_7.pb'"),
    ([("0_reg.x_1.pb", b"\x0a\x03")], r"entry '0_reg.x_1.pb' is not a valid task spec"),
    ([], r"holds no task, workflow or launch plan"),
])
def test_malformed_packages_name_the_entry(tmp_path, entries, message):
    path = tmp_path / "bad.tgz"
    write_tgz(path, entries)
    with pytest.raises(PackageError, match=message) as info:
        read_package(path)
    assert info.value.exit_code == 2


def test_entity_name_must_match_its_entry(tmp_path):
    path = tmp_path / "renamed.tgz"
    write_tgz(path, [("0_reg.other_1.pb", script_task("reg.t", "", {}, {})
                      .SerializeToString())])
    with pytest.raises(PackageError, match=r"entry '0_reg.other_1.pb' holds task 'reg.t'"):
        read_package(path)


def test_task_needing_a_bundle_without_one_is_refused(tmp_path, stores):
    store, objects = stores
    task = script_task("reg.fast", "", {}, {})
    task.template.container.args.extend(["--code-bundle", "{{ .remote_package_path }}"])
    path = tmp_path / "nobundle.tgz"
    write_tgz(path, [("0_reg.fast_1.pb", task.SerializeToString())])
    with pytest.raises(PackageError, match=r"task reg.fast needs a code bundle"):
        register_package(store, objects, read_package(path), "reg", "dev")
    assert store.entity_spec(TASK, "reg", "dev", "reg.fast") is None


def _workflow(name, nodes, inputs=("x",)):
    """A WorkflowSpec of task nodes: nodes are (id, task, {input: (node id, var)}, after)."""
    from flyteidl.core import identifier_pb2, interface_pb2, types_pb2

    spec = workflow_pb2.WorkflowSpec()
    t = spec.template
    t.id.resource_type = identifier_pb2.WORKFLOW
    t.id.name = name
    for var in inputs:
        t.interface.inputs.variables[var].CopyFrom(
            interface_pb2.Variable(type=types_pb2.LiteralType(simple=types_pb2.INTEGER)))
    t.interface.inputs.variables["s"].type.simple = types_pb2.STRING  # for type mismatches
    t.interface.outputs.SetInParent()
    for node_id, task, bindings, after in nodes:
        node = t.nodes.add(id=node_id)
        node.task_node.reference_id.resource_type = identifier_pb2.TASK
        node.task_node.reference_id.name = task
        node.upstream_node_ids.extend(after)
        for var, (source, out) in bindings.items():
            binding = node.inputs.add(var=var)
            binding.binding.promise.node_id = source
            binding.binding.promise.var = out
    return spec


@pytest.mark.parametrize("nodes, message", [
    ([("n0", "reg.sq", {"x": ("", "x")}, []), ("n1", "reg.missing", {"x": ("n0", "o")}, [])],
     r"workflow 'reg.wf': node 'n1' uses task 'reg.missing' version 'bad.*', which is neither "
     r"in the package nor registered"),
    ([("n0", "reg.sq", {"x": ("", "x")}, ["n1"]), ("n1", "reg.sq", {"x": ("n0", "o")}, ["n0"])],
     r"workflow 'reg.wf': nodes depend on each other in a cycle"),
    ([("n0", "reg.sq", {"x": ("n1", "o")}, []), ("n1", "reg.sq", {"x": ("n0", "o")}, [])],
     r"nodes n0, n1 can never start"),
    # An unbound input, and a binding to an output the task does not have.
    ([("n0", "reg.sq", {}, [])], r"workflow 'reg.wf': node n0: input 'x' is not bound"),
    ([("n0", "reg.sq", {"x": ("", "x")}, []), ("n1", "reg.sq", {"x": ("n0", "nope")}, [])],
     r"workflow 'reg.wf': node n1: reads output 'nope' of node n0, which has no such output"),
    # A type mismatch: the workflow's input is text, the task takes an int.
    ([("n0", "reg.sq", {"x": ("", "s")}, [])],
     r"workflow 'reg.wf': node n0: input 'x' expects INTEGER but is bound to 's' of start-node, "
     r"which is STRING"),
])
def test_a_package_the_admin_would_refuse_stores_nothing(tmp_path, stores, nodes, message):
    store, objects = stores
    version = f"bad{len(nodes)}{abs(hash(message)) % 10_000}"
    task = script_task("reg.sq", "out['o']=inp['x']", {"x": int}, {"o": int})
    path = tmp_path / "bad.tgz"
    write_tgz(path, [("0_reg.sq_1.pb", task.SerializeToString()),
                     ("1_reg.wf_2.pb", _workflow("reg.wf", nodes).SerializeToString())])
    with pytest.raises(PackageError, match=message) as info:
        register_package(store, objects, read_package(path), "reg", "dev", version=version)
    # Validated before anything was written: not even the package's good task is stored.
    assert store.entity_specs("reg", "dev", version) == {}
    assert "nothing was registered" in str(info.value) and "\n" not in str(info.value)

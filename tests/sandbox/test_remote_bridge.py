"""Skiff's Remote against a second sandbox acting as the remote cluster: register, run,
promote through the domains, reproduce a remote run in the first sandbox, bad input.

The session's `sandbox_home` is the local sandbox (SKIFF_HOME points at it); `remote` is a
second sandbox home with its own MinIO, store and admin server on 127.0.0.1.
"""
from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from flyteidl.admin import launch_plan_pb2

from sdk.compile.package_reader import read_package
from sdk.compile.hydrate import hydrate
from sandbox.admin.auth_tokens import client
from sandbox.admin.client_config import config_path
from sandbox.storage import ObjectStore
from sandbox.store import open_store
from sandbox.cli import main
from sdk.compile.package import write_package
from sdk.remote import Remote, RemoteError, RemoteNotFound, VersionConflict
from sdk.remote.specs import LAUNCH_PLAN, TASK, parse_spec, without_identifiers

pytestmark = pytest.mark.sandbox

EXAMPLE = Path(__file__).parents[2] / "examples" / "pipeline.py"
CHANGED = textwrap.dedent('''
    from sdk import task, workflow


    @task(cache=True, cache_version="1", retries=2)
    def square(x: int) -> int:
        return x * x * 1  # a different body: a different code bundle


    @task
    def extra(x: int) -> int:
        return x


    @workflow
    def pipeline(n: int = 3, name: str = "ada") -> int:
        return extra(x=square(x=n))
''')


@pytest.fixture(scope="module")
def remote(sandbox_home, tmp_path_factory):
    """A second sandbox, brought up in its own home, acting as the remote Flyte cluster."""
    from sandbox import services

    home = tmp_path_factory.mktemp("remote-home")
    state = services.up(home)
    assert state.admin_endpoint, "the sandbox started no admin server"
    try:
        yield state
    finally:
        services.down(home)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, sandbox_home):
    """A clean source root holding the example pipeline (as module bridgeflow), and its package."""
    root = tmp_path_factory.mktemp("bridge") / "src"
    root.mkdir()
    shutil.copy(EXAMPLE, root / "bridgeflow.py")
    package = root.parent / "pipeline.tgz"
    write_package([str(root / "bridgeflow.py")], sandbox_home.runtime_image, str(package))
    return root, package


def _cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _stored(state, kind, domain, name, version):
    data = open_store(state.database_url).entity_spec(kind, "default", domain, name, version)
    return None if data is None else parse_spec(kind, data)


def _bundle_arg(task_spec) -> str:
    args = list(task_spec.template.container.args)
    return args[args.index("--code-bundle") + 1]


def test_registered_specs_equal_the_package_apart_from_identifiers(remote, workdir, capsys):
    _root, package_path = workdir
    code, out, err = _cli(capsys, "register", package_path, "--version", "bytes1",
                          "--config", config_path(remote.home))
    assert code == 0, err
    assert out.count("registered ") == 5
    package = read_package(package_path)
    for entity in package.entities:
        stored = _stored(remote, entity.kind, "development", entity.name, "bytes1")
        assert stored is not None, entity.name
        bundle = None
        if entity.kind == TASK:
            bundle = _bundle_arg(stored)
            assert bundle.startswith("s3://") and bundle.endswith(package.bundle_name)
            assert ObjectStore.from_state(remote).get_bytes(bundle) == package.bundle
        # The package's spec with only the fast-registration placeholders filled ...
        expected = hydrate(entity.kind, entity.spec, "", "", "", bundle)
        received = without_identifiers(entity.kind, stored)
        if entity.kind == LAUNCH_PLAN:  # a launch plan is created from its id and spec
            expected = launch_plan_pb2.LaunchPlan(id=expected.id, spec=expected.spec)
        # ... is, byte for byte, what the admin received once identifiers are cleared.
        assert received.SerializeToString(deterministic=True) == \
            expected.SerializeToString(deterministic=True), entity.name
        ident = stored.id if entity.kind == LAUNCH_PLAN else stored.template.id
        assert (ident.project, ident.domain, ident.version) == ("default", "development", "bytes1")

    # Again with the same specs: nothing changes, exit 0.
    code, out, err = _cli(capsys, "register", package_path, "--version", "bytes1",
                          "--config", config_path(remote.home))
    assert code == 0, err
    assert out.count("unchanged ") == 5 and "registered " not in out


def test_a_conflicting_version_registers_nothing(remote, workdir, tmp_path, capsys):
    _root, package_path = workdir
    code, _, err = _cli(capsys, "register", package_path, "--version", "conflict1",
                        "--config", config_path(remote.home))
    assert code == 0, err
    changed_root = tmp_path / "changed"
    changed_root.mkdir()
    (changed_root / "bridgeflow.py").write_text(CHANGED)
    changed = tmp_path / "changed.tgz"
    # Another process: this one has imported the first bridgeflow module already.
    subprocess.run(["skiff", "package", "bridgeflow.py", "--image", remote.runtime_image, "-o",
                    str(changed)], cwd=changed_root, check=True, capture_output=True)
    code, out, err = _cli(capsys, "register", changed, "--version", "conflict1",
                          "--config", config_path(remote.home))
    assert code == 2 and out == ""
    assert err.startswith("Error: ") and err.count("\n") == 1
    assert "task 'bridgeflow.square' version 'conflict1'" in err and "different spec" in err
    assert "nothing was registered" in err
    # The new task was not created although it conflicted with nothing.
    assert _stored(remote, TASK, "development", "bridgeflow.extra", "conflict1") is None
    with Remote(config_file=str(config_path(remote.home)), env={}) as client:
        with pytest.raises(VersionConflict):
            client.register(str(changed), "conflict1")


def test_run_promote_and_reproduce(remote, sandbox_home, workdir, capsys, monkeypatch):
    root, package_path = workdir
    monkeypatch.chdir(root)
    endpoint = ["--config", config_path(remote.home)]

    # run --remote: package, register, execute on the remote sandbox, wait, print outputs.
    code, out, err = _cli(capsys, "run", "--remote", "--version", "green1", *endpoint,
                          "bridgeflow.py", "pipeline", "--n", "4")
    assert code == 0, err
    assert out.strip() == "o0: ada:16"
    dev_execution = err.split("execution default/development/")[1].split()[0]

    # A version without a succeeded run is not promoted.
    code, _, err = _cli(capsys, "register", package_path, "--version", "untested1", *endpoint)
    assert code == 0, err
    code, _, err = _cli(capsys, "promote", "bridgeflow.pipeline", "--version", "untested1",
                        "--from", "development", "--to", "staging", *endpoint)
    assert code == 2 and "no succeeded execution in default/development" in err
    assert _stored(remote, TASK, "staging", "bridgeflow.square", "untested1") is None

    code, out, err = _cli(capsys, "promote", "bridgeflow.pipeline", "--version", "green1",
                          "--from", "development", "--to", "staging", *endpoint)
    assert code == 0, err
    assert f"after succeeded execution {dev_execution}" in out
    # Staging holds the development bytes, only the domain changed; descriptions included
    # (they travel through GetDescriptionEntity, as with Flyte admin).
    for kind, name in [(1, "bridgeflow.square"), (1, "bridgeflow.greet"), (2, "bridgeflow.pipeline"),
                       (3, "bridgeflow.pipeline"), (3, "pipeline_lp")]:
        dev = without_identifiers(kind, _stored(remote, kind, "development", name, "green1"))
        staged = _stored(remote, kind, "staging", name, "green1")
        assert staged is not None, name
        staged = without_identifiers(kind, staged)
        assert staged.SerializeToString(deterministic=True) == \
            dev.SerializeToString(deterministic=True), name
        assert "development" not in str(staged.id if kind == 3 else staged.template.id)

    # Staging -> production needs a green run in staging.
    code, _, err = _cli(capsys, "promote", "bridgeflow.pipeline", "--version", "green1",
                        "--from", "staging", "--to", "production", *endpoint)
    assert code == 2 and "no succeeded execution in default/staging" in err
    code, out, err = _cli(capsys, "run", "--remote", "--domain", "staging", *endpoint,
                          "remote-launchplan", "pipeline_lp", "--version", "green1")
    assert code == 0, err
    assert out.strip() == "o0: ada:25"  # pipeline_lp's default n=5
    code, out, err = _cli(capsys, "promote", "bridgeflow.pipeline", "--version", "green1",
                          "--from", "staging", "--to", "production", *endpoint)
    assert code == 0, err
    assert _stored(remote, TASK, "production", "bridgeflow.square", "green1") is not None

    # Every promotion was recorded, by the remote sandbox's API and locally.
    from sandbox.admin.gen import sandbox_pb2
    from sandbox.bridge.records import load_local, skiff_api

    with Remote(config_file=str(config_path(remote.home)), env={}) as client:
        listed = skiff_api(client.connection.channel).ListPromotions(
            sandbox_pb2.ListPromotionsRequest(name="bridgeflow.pipeline"))
    routes = [(p.from_domain, p.to_domain, p.version, p.forced) for p in listed.promotions]
    assert ("development", "staging", "green1", False) in routes
    assert ("staging", "production", "green1", False) in routes
    local = [(r["source"], r["target"], r["version"]) for r in load_local("promotions")]
    assert ("staging", "production", "green1") in local

    # Reproduce the remote development run in the local sandbox: identical outputs.
    code, out, err = _cli(capsys, "reproduce", dev_execution, *endpoint)
    assert code == 0, err
    assert out == ""
    assert "identical outputs" in err
    local_id = err.split("local execution ")[1].split()[0]
    nodes = {n.node_id: n.state for n in open_store(sandbox_home.database_url).nodes(local_id)}
    assert nodes == {"n0": "succeeded", "n1": "succeeded"}  # really run, not a cache hit
    # Recorded by the local sandbox's API and in its home.
    with Remote(sandbox_home.admin_endpoint, insecure=True, env={}) as local_client:
        kept = skiff_api(local_client.connection.channel).ListReproductions(
            sandbox_pb2.ListReproductionsRequest()).reproductions
    assert any(r.local_execution == local_id and r.identical and
               r.source == f"default/development/{dev_execution}" for r in kept)
    assert any(r["local_execution"] == local_id for r in load_local("reproductions"))


def test_forced_promotion_is_recorded_as_forced(remote, workdir, capsys):
    _root, package_path = workdir
    endpoint = ["--config", config_path(remote.home)]
    code, _, err = _cli(capsys, "register", package_path, "--version", "forced1", *endpoint)
    assert code == 0, err
    code, out, err = _cli(capsys, "promote", "bridgeflow.pipeline", "--version", "forced1",
                          "--to", "staging", "--force", "--json", *endpoint)
    assert code == 0, err
    assert '"forced": true' in out and '"green_execution": null' in out
    assert _stored(remote, TASK, "staging", "bridgeflow.square", "forced1") is not None


def test_unknown_execution_and_entity(remote, capsys):
    endpoint = ["--config", config_path(remote.home)]
    code, out, err = _cli(capsys, "reproduce", "nosuchexecution0", *endpoint)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "nosuchexecution0" in err and "does not exist" in err
    with Remote(config_file=str(config_path(remote.home)), env={}) as client:
        with pytest.raises(RemoteNotFound, match="nosuchexecution0"):
            client.fetch_execution("nosuchexecution0")
        with pytest.raises(RemoteNotFound):
            client.execute("bridgeflow.nothing", "v0", {"n": 1})
        with pytest.raises(RemoteNotFound):
            client.fetch_workflow("bridgeflow.nothing", "v0")


def test_remote_api_execute_wait_outputs_fetch(remote, workdir):
    _root, package_path = workdir
    with Remote(config_file=str(config_path(remote.home)), env={}) as client:
        client.register(str(package_path), "api1")
        execution = client.execute("bridgeflow.pipeline", "api1", {"n": 6, "name": "bo"},
                                   kind="launch plan", envvars={"A": "1"}, tags=["t"],
                                   overwrite_cache=True)
        assert (execution.project, execution.domain) == ("default", "development")
        # The execution options reach the admin in the execution spec, as flytekit sends them.
        spec = client.fetch_execution(execution).spec
        assert [(kv.key, kv.value) for kv in spec.envs.values] == [("A", "1")]
        assert list(spec.tags) == ["t"] and spec.overwrite_cache
        assert spec.launch_plan.name == "bridgeflow.pipeline" and spec.launch_plan.version == "api1"
        done = client.wait(execution, poll_interval=0.2, timeout=300)
        assert done.closure.phase == 4  # SUCCEEDED
        assert client.outputs(execution) == {"o0": "bo:36"}
        task_run = client.execute("bridgeflow.square", "api1", {"x": 7})
        client.wait(task_run, poll_interval=0.2, timeout=300)
        assert client.outputs(task_run) == {"o0": 49}
        fetched = client.fetch_workflow("bridgeflow.pipeline", "api1")
        assert fetched.id.version == "api1"
        assert any(n.id == "n0" for n in fetched.closure.compiled_workflow.primary.template.nodes)


def test_flytekit_package_registers_unchanged(remote, tmp_path, capsys):
    """pyflyte's own package, pushed by Skiff: the admin receives pyflyte's bytes."""
    (tmp_path / "regflow").mkdir()
    (tmp_path / "regflow" / "__init__.py").write_text("")
    (tmp_path / "regflow" / "flow.py").write_text(textwrap.dedent('''
        from flytekit import task, workflow

        @task
        def double(x: int) -> int:
            return 2 * x

        @workflow
        def wf(x: int = 2) -> int:
            return double(x=x)
    '''))
    out = tmp_path / "flyte.tgz"
    subprocess.run(["pyflyte", "--pkgs", "regflow", "package", "--image", "example:1", "--fast",
                    "-f", "-o", str(out)], cwd=tmp_path, check=True, capture_output=True)
    code, _, err = _cli(capsys, "register", out, "--version", "fk1", "--config",
                        config_path(remote.home))
    assert code == 0, err
    package = read_package(out)
    for entity in package.entities:
        stored = _stored(remote, entity.kind, "development", entity.name, "fk1")
        assert stored is not None, entity.name
        if entity.kind == TASK:
            args = list(stored.template.container.args)
            bundle = next(a for a in args if a.endswith(package.bundle_name))
            assert not any("{{ .remote_package_path }}" in a for a in args)
        else:
            bundle = None
        expected = hydrate(entity.kind, entity.spec, "", "", "", bundle)
        if entity.kind == LAUNCH_PLAN:
            expected = launch_plan_pb2.LaunchPlan(id=expected.id, spec=expected.spec)
        assert without_identifiers(entity.kind, stored) == expected, entity.name

    # flytekit's compiled workflow survives the trip through the admin's closure: promotion
    # (forced: its image does not exist here) copies what pyflyte wrote.
    code, _, err = _cli(capsys, "promote", "regflow.flow.wf", "--version", "fk1", "--to",
                        "staging", "--force", "--config", config_path(remote.home))
    assert code == 0, err
    for entity in package.entities:
        dev = without_identifiers(entity.kind, _stored(remote, entity.kind, "development",
                                                       entity.name, "fk1"))
        staged = without_identifiers(entity.kind, _stored(remote, entity.kind, "staging",
                                                          entity.name, "fk1"))
        assert staged == dev, entity.name


FILES_FLOW = textwrap.dedent('''
    import os
    import tempfile

    from sdk import Directory, File, LaunchPlan, task, workflow


    @task
    def inc(x: int) -> int:
        return x + 1


    @workflow
    def inner(x: int) -> int:
        return inc(x=x)


    inner_lp = LaunchPlan.get_or_create(inner, name="bridge_inner_lp")


    @workflow
    def outer(x: int) -> int:
        return inc(x=inner_lp(x=x))


    @task
    def shout(doc: File) -> File:
        with open(doc) as handle:
            text = handle.read()
        path = os.path.join(tempfile.mkdtemp(), "loud.txt")
        with open(path, "w") as handle:
            handle.write(text.upper())
        return File(path)


    @task
    def count_bangs(doc: File) -> int:
        with open(doc) as handle:
            return handle.read().count("!")


    @workflow
    def files(doc: File) -> int:
        return count_bangs(doc=shout(doc=doc))


    @task
    def nap(seconds: int) -> int:
        import time

        time.sleep(seconds)
        return seconds


    @task
    def loud_tree(tree: Directory) -> Directory:
        out = os.path.join(tempfile.mkdtemp(), "loud")
        for base, _dirs, names in os.walk(tree.path):
            for name in names:
                source = os.path.join(base, name)
                target = os.path.join(out, os.path.relpath(source, tree.path))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(source) as src, open(target, "w") as dst:
                    dst.write(src.read().upper())
        return Directory(out)


    @workflow
    def trees(tree: Directory) -> Directory:
        return loud_tree(tree=tree)


    @task
    def boom(x: int) -> int:
        raise ValueError(f"refusing {x}")


    @workflow
    def explode(x: int = 1) -> int:
        return boom(x=x)


    @task
    def which_execution() -> str:
        return os.environ["FLYTE_INTERNAL_EXECUTION_ID"]


    @workflow
    def execution_name() -> str:
        return which_execution()
''')


def test_file_inputs_go_through_the_data_proxy_and_reproduce(remote, sandbox_home, tmp_path,
                                                             capsys, monkeypatch):
    root = tmp_path / "src"
    root.mkdir()
    (root / "bridgefiles.py").write_text(FILES_FLOW)
    doc = tmp_path / "doc.txt"
    doc.write_text("hi! there!!\n")
    monkeypatch.chdir(root)
    endpoint = ["--config", config_path(remote.home)]
    code, out, err = _cli(capsys, "run", "--remote", "--version", "files1", *endpoint,
                          "bridgefiles.py", "files", "--doc", doc)
    assert code == 0, err
    assert out.strip() == "o0: 3"
    execution = err.split("execution default/development/")[1].split()[0]
    # The local file went up through the remote's data proxy into the remote's MinIO.
    from sdk.remote.executions import execution_data

    with Remote(config_file=str(config_path(remote.home)), env={}) as client:
        inputs, _ = execution_data(client.connection, client.fetch_execution(execution).id)
    uri = inputs.literals["doc"].scalar.blob.uri
    assert uri.startswith("s3://") and uri.endswith("/doc.txt")
    assert ObjectStore.from_state(remote).get_bytes(uri) == b"hi! there!!\n"

    # The registered workflow, run by name: the local file goes up the same way.
    other = tmp_path / "other.txt"
    other.write_text("!!!!\n")
    code, out, err = _cli(capsys, "run", "--remote", *endpoint, "remote-workflow",
                          "bridgefiles.files", "--version", "files1", "--doc", other)
    assert code == 0, err
    assert out.strip() == "o0: 4"

    code, out, err = _cli(capsys, "reproduce", execution, "--json", *endpoint)
    assert code == 0, err
    import json

    result = json.loads(out)
    assert result["identical"] is True and result["diff"] == []
    nodes = {n.node_id: n.state for n in
             open_store(sandbox_home.database_url).nodes(result["local"])}
    assert nodes == {"n0": "succeeded", "n1": "succeeded"}


def test_reproduce_shows_outputs_that_differ(remote, tmp_path, capsys, monkeypatch):
    """A task that returns its own execution id computes something else locally: the diff
    names the node and the workflow output, and the exit code is 1."""
    root = tmp_path / "src"
    root.mkdir()
    (root / "bridgefiles.py").write_text(FILES_FLOW)
    monkeypatch.chdir(root)
    endpoint = ["--config", config_path(remote.home)]
    code, out, err = _cli(capsys, "run", "--remote", "--version", "ids1", *endpoint,
                          "bridgefiles.py", "execution_name")
    assert code == 0, err
    execution = err.split("execution default/development/")[1].split()[0]
    assert out.strip() == f"o0: {execution}"
    code, out, err = _cli(capsys, "reproduce", f"flyte://v1/default/development/{execution}",
                          *endpoint)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f'- n0.o0: "{execution}"' and lines[1].startswith("+ n0.o0: ")
    assert lines[2] == f'- outputs.o0: "{execution}"' and lines[3].startswith("+ outputs.o0: ")
    assert "outputs differ" in err


def test_terminate_a_running_execution(remote, tmp_path, capsys, monkeypatch):
    root = tmp_path / "src"
    root.mkdir()
    (root / "bridgefiles.py").write_text(FILES_FLOW)
    monkeypatch.chdir(root)
    endpoint = ["--config", config_path(remote.home)]
    code, _, err = _cli(capsys, "run", "--remote", "--version", "nap1", "--no-wait", *endpoint,
                        "bridgefiles.py", "nap", "--seconds", "120")
    assert code == 0, err
    name = err.split("execution default/development/")[1].split()[0]
    with Remote(config_file=str(config_path(remote.home)), env={}) as client:
        execution = client.fetch_execution(name)
        with pytest.raises(RemoteError, match=f"execution '{name}' .* did not finish within 1 s"):
            client.wait(execution, poll_interval=0.2, timeout=1)
        client.terminate(execution, cause="test says stop")
        done = client.wait(execution, poll_interval=0.2, timeout=120)
        assert done.closure.phase == 7  # ABORTED
        from sdk.remote.executions import execution_id

        with pytest.raises(RemoteNotFound):
            client.terminate(execution_id("default", "development", "nosuchexecution1"))


def test_offloaded_literals_are_read_back_through_the_data_proxy(remote):
    """Flyte offloads large literals (offloaded_metadata.uri); reading inputs resolves them."""
    from flyteidl.core import literals_pb2

    from sdk.remote.data import resolve_literal
    from sdk.types import TypeEngine

    big = TypeEngine.to_literal(list(range(1000)), list[int])
    uri = f"s3://{remote.bucket}/offloaded/test/big.pb"
    ObjectStore.from_state(remote).put_bytes(uri, big.SerializeToString())
    pointer = literals_pb2.Literal(offloaded_metadata=literals_pb2.LiteralOffloadedMetadata(
        uri=uri, size_bytes=big.ByteSize()))
    nested = literals_pb2.Literal(map=literals_pb2.LiteralMap(literals={"xs": pointer}))
    with Remote(config_file=str(config_path(remote.home)), env={}) as client:
        resolved = resolve_literal(client.connection, nested)
    assert resolved.map.literals["xs"] == big


def test_without_an_endpoint_the_local_sandbox_admin_is_used(sandbox_home, workdir, capsys,
                                                             monkeypatch, tmp_path):
    _root, package_path = workdir
    for name in ("FLYTECTL_CONFIG", "FLYTE_PLATFORM_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.flyte/config.yaml
    code, out, err = _cli(capsys, "register", package_path, "--version", "localadmin1")
    assert code == 0, err
    assert out.count("registered ") == 5
    assert _stored(sandbox_home, TASK, "development", "bridgeflow.square", "localadmin1") is not None


def test_reproduce_a_workflow_calling_a_launch_plan(remote, sandbox_home, tmp_path, capsys,
                                                    monkeypatch):
    """A launch plan node is a separate execution on Flyte; the sandbox inlines it, so the
    called launch plan and its workflow are fetched and registered locally as well."""
    root = tmp_path / "src"
    root.mkdir()
    (root / "bridgefiles.py").write_text(FILES_FLOW)
    monkeypatch.chdir(root)
    endpoint = ["--config", config_path(remote.home)]
    code, out, err = _cli(capsys, "run", "--remote", "--version", "lpnode1", *endpoint,
                          "bridgefiles.py", "outer", "--x", "4")
    assert code == 0, err
    assert out.strip() == "o0: 6"
    execution = err.split("execution default/development/")[1].split()[0]
    code, out, err = _cli(capsys, "reproduce", execution, "--json", *endpoint)
    assert code == 0, err
    import json

    result = json.loads(out)
    assert result["identical"] is True, result["diff"]
    nodes = {n.node_id for n in open_store(sandbox_home.database_url).nodes(result["local"])}
    assert {"n0-n0", "n1"} <= nodes
    # When the admin reports the launch plan node itself, it is bound locally from its
    # inner node and compared too.
    assert {"n1", "outputs"} <= set(result["compared"])


def test_a_failed_remote_run_exits_1_with_the_task_error(remote, tmp_path, capsys, monkeypatch):
    root = tmp_path / "src"
    root.mkdir()
    (root / "bridgefiles.py").write_text(FILES_FLOW)
    monkeypatch.chdir(root)
    code, out, err = _cli(capsys, "run", "--remote", "--version", "boom1", "--config",
                          config_path(remote.home), "bridgefiles.py", "explode")
    assert code == 1 and out == ""
    last = err.strip().splitlines()[-1]
    assert last.startswith("Error: execution ") and "ended FAILED" in last
    assert "refusing 1" in last


def test_reproduce_directories_with_the_remote_storage_configured(remote, sandbox_home, tmp_path,
                                                                  capsys, monkeypatch):
    """Directory inputs are copied and directory outputs compared file by file when the
    config names the admin's storage (the data proxy lists nothing)."""
    root = tmp_path / "src"
    root.mkdir()
    (root / "bridgefiles.py").write_text(FILES_FLOW)
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("alpha")
    (tree / "sub" / "b.txt").write_text("beta")
    config = tmp_path / "config.yaml"
    config.write_text(textwrap.dedent(f"""
        admin:
          endpoint: dns:///{remote.admin_endpoint}
          insecure: true
          authType: ClientSecret
          clientId: {client(remote.home).client_id}
          clientSecretLocation: {client(remote.home).secret_path}
        storage:
          connection:
            endpoint: {remote.minio_endpoint}
            access-key: {remote.access_key}
            secret-key: {remote.secret_key}
    """))
    monkeypatch.chdir(root)
    code, out, err = _cli(capsys, "run", "--remote", "--version", "trees1", "--config", config,
                          "bridgefiles.py", "trees", "--tree", tree)
    assert code == 0, err
    execution = err.split("execution default/development/")[1].split()[0]
    code, out, err = _cli(capsys, "reproduce", execution, "--json", "--config", config)
    assert code == 0, err
    import json

    result = json.loads(out)
    assert result["identical"] is True, result["diff"]
    # Compared file by file: the local output tree holds the same upper-cased files.
    local = open_store(sandbox_home.database_url).nodes(result["local"])
    outputs = {n.node_id: n.outputs for n in local}
    from flyteidl.core import literals_pb2

    uri = literals_pb2.LiteralMap.FromString(outputs["n0"]).literals["o0"].scalar.blob.uri
    objects = ObjectStore.from_state(sandbox_home)
    assert objects.get_bytes(uri.rstrip("/") + "/sub/b.txt") == b"BETA"


def test_reproduce_a_run_of_this_sandbox_where_the_version_is_registered(sandbox_home, workdir,
                                                                        capsys, monkeypatch,
                                                                        tmp_path):
    """The version a remote run used is often registered locally too: reproduction reuses it
    (same templates, same code bundle by content) instead of failing on a conflict."""
    _root, package_path = workdir
    for name in ("FLYTECTL_CONFIG", "FLYTE_PLATFORM_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    code, _, err = _cli(capsys, "register", package_path, "--version", "selfrepro1")
    assert code == 0, err
    code, out, err = _cli(capsys, "run", "--remote", "remote-launchplan", "pipeline_lp",
                          "--version", "selfrepro1", "--n", "3")
    assert code == 0, err
    execution = next(line.split()[1].rsplit("/", 1)[-1] for line in out.splitlines() + err.splitlines()
                     if line.startswith("execution ") and "/" in line.split()[1])
    code, out, err = _cli(capsys, "reproduce", execution)
    assert code == 0, err
    assert "identical outputs" in out + err

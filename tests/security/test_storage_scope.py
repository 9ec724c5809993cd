"""A task container gets temporary storage credentials scoped to its attempt, never the
sandbox's root key: from inside a container, reading another execution's outputs, writing
outside its own prefixes and listing the bucket all fail, while its own work succeeds."""
from __future__ import annotations

import concurrent.futures
import json

import pytest

from flyteidl.core import workflow_pb2

from sandbox.engine import create_execution, run_execution
from sandbox.engine.setup import context_from_state
from sandbox.registry import read_package, register_package
from test_engine_support import (
    binding, ints, package, plain, script_task, task_node, template,
)

pytestmark = pytest.mark.sandbox

# What a probe task's script starts with: `attempt(action)` says whether storage allowed it.
ATTEMPT = '''
import json, os
from sdk import io
def attempt(action):
    try:
        action()
        return "allowed"
    except Exception as exc:
        return "denied" if "AccessDenied" in str(exc) or "403" in str(exc) else repr(exc)[:300]
'''

PROBE = ATTEMPT + '''other, execution = os.environ["OTHER_OUTPUTS"], os.environ["FLYTE_INTERNAL_EXECUTION_ID"]
own_raw = prefix.replace("/metadata/", "/raw/")
seen = {
    "read_other_execution": attempt(lambda: io.read_bytes(other)),
    "write_other_node": attempt(lambda: io.write_bytes(
        prefix.replace("/n0/", "/n9/") + "/outputs.pb", b"x")),
    "write_code_bundles": attempt(lambda: io.write_bytes(
        "s3://skiff/fast/sec/dev/fastevil.tar.gz", b"x")),
    "list_bucket": attempt(lambda: io.list_keys("s3://skiff/") if hasattr(io, "list_keys")
                           else io.download_directory("s3://skiff/", "/tmp/all")),
    "write_own_raw": attempt(lambda: io.write_bytes(own_raw + "/data.bin", b"ok")),
    "read_own_raw": attempt(lambda: io.read_bytes(own_raw + "/data.bin")),
    "root_key_in_env": any(k in ("FLYTE_AWS_SECRET_ACCESS_KEY", "MINIO_ROOT_PASSWORD")
                           for k in os.environ),
    "session_token": bool(os.environ.get("AWS_SESSION_TOKEN")),
}
out["o"] = json.dumps(seen)
'''


def _run(state, tmp_path, name, body, env=None):
    # this sandbox's own image: its skiff-execute signs with the session token
    task = script_task(f"{name}.t", body, {}, {"o": str}, env=env or {}, image=state.runtime_image)
    wf = template(f"{name}.wf", {}, {"r": str}, [task_node("n0", f"{name}.t", {})],
                  {"r": "n0.o"})
    ctx = context_from_state(state)
    reg = register_package(ctx.store, ctx.objects, read_package(package(tmp_path, [task], [wf])),
                           "sec", "dev")
    execution_id = create_execution(ctx.store, "sec", "dev", f"{name}.wf", reg.version, ints({}))
    return execution_id, plain(run_execution(ctx, execution_id))["r"]


def test_a_task_reaches_only_its_own_data(sandbox_home, tmp_path, caplog):
    import logging

    first, _ = _run(sandbox_home, tmp_path, "victim", "out['o'] = 'private result'")
    other = f"s3://{sandbox_home.bucket}/metadata/sec/dev/{first}/n0/0/outputs.pb"
    with caplog.at_level(logging.DEBUG, logger="sandbox.runtime.docker_runner"):
        _, result = _run(sandbox_home, tmp_path, "thief", PROBE, env={"OTHER_OUTPUTS": other})
    # n0 is a first ready node (nothing prepared its container ahead): its credentials were
    # minted in the background from the moment the scheduler started it, not by its attempt
    minted = [r.getMessage() for r in caplog.records
              if r.getMessage().startswith("storage credentials of n0:")]
    assert minted and all(m.startswith("storage credentials of n0: ahead") for m in minted)
    seen = json.loads(result)
    assert seen == {
        "read_other_execution": "denied", "write_other_node": "denied",
        "write_code_bundles": "denied", "list_bucket": "denied",
        "write_own_raw": "allowed", "read_own_raw": "allowed",
        "root_key_in_env": False, "session_token": True,
    }


def test_the_root_key_is_not_in_docker_inspect(sandbox_home, tmp_path):
    import threading
    import time

    from sandbox.runtime.docker_runner import docker_api

    seen = {}

    def watch():
        api = docker_api()
        for _ in range(600):
            found = api.containers(filters={"label": "skiff.node=n0", "status": "running"})
            mine = [c for c in found if c["Labels"].get("skiff.execution", "").startswith("")]
            for container in mine:
                env = api.inspect_container(container["Id"])["Config"]["Env"]
                if any(v.startswith("LINGERING=") for v in env):
                    seen["env"] = env
                    return
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    _run(sandbox_home, tmp_path, "inspected", "import time; time.sleep(3); out['o'] = 'x'",
         env={"LINGERING": "1"})
    watcher.join()
    env = "\n".join(seen["env"])
    assert sandbox_home.secret_key not in env and sandbox_home.access_key not in env
    assert "AWS_SESSION_TOKEN=" in env


def test_credentials_for_an_equal_grant_are_minted_once_and_work(sandbox_home):
    from sandbox.engine.storage_grant import StorageGrant
    from sandbox.runtime.storage_credentials import StorageCredentialIssuer
    from sdk.s3_client import S3Client, S3Config

    issuer = StorageCredentialIssuer.from_state(sandbox_home)
    grant = StorageGrant(sandbox_home.bucket, ("raw/sec/dev/minted-once/",),
                         ("raw/sec/dev/minted-once/n0/",))
    issuer.mint_ahead(grant, 900)
    first = issuer.issue(grant, 900)
    again = issuer.issue(grant, 900)
    assert (first.how, again.how) == ("ahead", "ahead")
    assert first.env == again.env
    other = issuer.issue(StorageGrant(sandbox_home.bucket, ("raw/sec/dev/other/",),
                                      ("raw/sec/dev/other/n0/",)), 900)
    assert other.how == "minted" and other.env != first.env
    client = S3Client(S3Config.from_env(first.env))
    client.put_bytes(sandbox_home.bucket, "raw/sec/dev/minted-once/n0/x", b"ok")
    assert client.get_bytes(sandbox_home.bucket, "raw/sec/dev/minted-once/n0/x") == b"ok"
    # attempts asking for an equal grant at once (a map node's elements) wait for one mint
    together = StorageGrant(sandbox_home.bucket, ("raw/sec/dev/together/",),
                            ("raw/sec/dev/together/n0/",))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        issued = list(pool.map(lambda _: issuer.issue(together, 900), range(4)))
    assert sorted(i.how for i in issued) == ["ahead"] * 3 + ["minted"]
    assert len({i.env["AWS_ACCESS_KEY_ID"] for i in issued}) == 1


SIBLING_PROBE = '''
import os
from sdk import io
def attempt(uri):
    try:
        io.read_bytes(uri)
        return "allowed"
    except Exception as exc:
        return "denied" if "AccessDenied" in str(exc) or "403" in str(exc) else repr(exc)[:300]
node = prefix.rstrip("/").rsplit("/", 1)[0]  # .../<execution>/n2/0 -> .../n2
out["o"] = attempt(node.replace("/n2", "/n0") + "/0/outputs.pb") + " " + attempt(
    node.replace("/n2", "/n1") + "/0/outputs.pb")
'''


def test_a_task_reads_only_the_nodes_it_is_bound_to(sandbox_home, tmp_path):
    # n0 -> n1 -> n2: n2 is bound to n1 only, so n0's outputs (stored before n2 runs) are
    # out of its reach, even within its own execution; n1's are its inputs' source
    image = sandbox_home.runtime_image
    first = script_task("scope.first", "out['o'] = 'private'", {}, {"o": str}, image=image)
    then = script_task("scope.then", "out['o'] = inp['x']", {"x": str}, {"o": str}, image=image)
    probe = script_task("scope.probe", SIBLING_PROBE, {"x": str}, {"o": str}, image=image)
    wf = template("scope.wf", {}, {"r": str},
                  [task_node("n0", "scope.first", {}),
                   task_node("n1", "scope.then", {"x": "n0.o"}),
                   task_node("n2", "scope.probe", {"x": "n1.o"})], {"r": "n2.o"})
    ctx = context_from_state(sandbox_home)
    reg = register_package(ctx.store, ctx.objects,
                           read_package(package(tmp_path, [first, then, probe], [wf])),
                           "sec", "dev")
    execution_id = create_execution(ctx.store, "sec", "dev", "scope.wf", reg.version, ints({}))
    assert plain(run_execution(ctx, execution_id))["r"] == "denied allowed"


ELEMENT_PROBE = ATTEMPT + '''execution = prefix.rstrip("/").rsplit("/", 2)[0]  # .../<execution>/n1-<i>/0 -> .../<execution>
out["o"] = json.dumps({
    "key": os.environ["AWS_ACCESS_KEY_ID"],
    "write_own_map_node": attempt(lambda: io.write_bytes(execution + "/n1-99/0/probe", b"x")),
    "write_upstream": attempt(lambda: io.write_bytes(execution + "/n0/0/probe", b"x")),
    "read_unbound_upstream": attempt(lambda: io.read_bytes(execution + "/n0/0/outputs.pb")),
})
'''


def test_the_elements_of_a_map_node_share_credentials_scoped_to_it(sandbox_home, tmp_path):
    # n0 -> n1 (a map over two elements, not bound to n0): both elements run with the same
    # credentials (minted once), which write under n1's elements only and read nothing of n0
    image = sandbox_home.runtime_image
    first = script_task("elements.first", "out['o'] = 'private'", {}, {"o": str}, image=image)
    probe = script_task("elements.probe", ELEMENT_PROBE, {"x": int}, {"o": str}, image=image)
    for variables, name in ((probe.template.interface.inputs, "x"),
                            (probe.template.interface.outputs, "o")):
        kind = variables.variables[name].type
        kind.collection_type.simple = kind.simple  # a list of what the element takes
    array = workflow_pb2.Node(id="n1", upstream_node_ids=["n0"])
    array.inputs.add(var="x").binding.CopyFrom(binding([1, 2]))
    array.array_node.node.CopyFrom(task_node("n1-sub", "elements.probe", {}))
    wf = template("elements.wf", {}, {}, [task_node("n0", "elements.first", {}), array], {})
    wf.interface.outputs.variables["r"].type.collection_type.simple = 3  # list[str]
    wf.outputs.add(var="r").binding.promise.node_id = "n1"
    wf.outputs[0].binding.promise.var = "o"
    ctx = context_from_state(sandbox_home)
    reg = register_package(ctx.store, ctx.objects,
                           read_package(package(tmp_path, [first, probe], [wf])), "sec", "dev")
    execution_id = create_execution(ctx.store, "sec", "dev", "elements.wf", reg.version, ints({}))
    seen = [json.loads(text) for text in plain(run_execution(ctx, execution_id))["r"]]
    assert len({s.pop("key") for s in seen}) == 1
    assert seen == [{"write_own_map_node": "allowed", "write_upstream": "denied",
                     "read_unbound_upstream": "denied"}] * 2

"""MinIO killed: the sandbox says it is not ready, `skiff sandbox up` repairs it on the same
port (or the admin follows a new one), and an execution running through the outage finishes
without spending any retry and without library warnings."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from reliability_support import SKIFF, figures, skiff
from sandbox.home import SandboxState
from sandbox.services import minio_server
from sandbox.admin.client_config import local_channel

pytestmark = pytest.mark.sandbox


def _status(home, cli: bool = False) -> tuple[int, dict]:
    """(exit code, report) of `skiff sandbox status --json`, or of the function behind it."""
    if cli:
        result = skiff("sandbox", "status", "--json", home=home)
        return result.returncode, json.loads(result.stdout)
    from sandbox import services

    report = services.status(Path(home))
    return (0 if report["ready"] else 1), report


def _kill_minio(home) -> SandboxState:
    state = SandboxState.load(Path(home))
    os.kill(state.minio_pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while minio_server.is_running(state) and time.monotonic() < deadline:
        time.sleep(0.05)
    return state


def _admin_upload_works(state: SandboxState) -> bool:
    """The admin hands out an upload URL on the MinIO that is up, and a PUT to it lands."""
    import hashlib
    import base64
    import urllib.request

    import grpc
    from flyteidl.service import dataproxy_pb2, dataproxy_pb2_grpc

    body = b"after the restart"
    md5 = hashlib.md5(body).digest()
    with local_channel(state) as channel:
        location = dataproxy_pb2_grpc.DataProxyServiceStub(channel).CreateUploadLocation(
            dataproxy_pb2.CreateUploadLocationRequest(
                project="flytesnacks", domain="development", filename="probe.txt",
                content_md5=md5), timeout=30)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(location.signed_url, data=body, method="PUT",
                                     headers={"Content-MD5": base64.b64encode(md5).decode()})
    return opener.open(request, timeout=30).status == 200


def _squat(port: int) -> socket.socket:
    """Listen on `port` (what another program taking MinIO's port would do)."""
    deadline = time.monotonic() + 20
    while True:
        squatter = socket.socket()
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            squatter.bind(("127.0.0.1", port))
            squatter.listen()
            return squatter
        except OSError:
            squatter.close()
            if time.monotonic() > deadline:
                held = subprocess.run(["ss", "-tanp"], capture_output=True, text=True).stdout
                raise AssertionError("\n".join(l for l in held.splitlines() if f":{port}" in l))
            time.sleep(0.2)


def test_minio_kill_then_up_keeps_the_port_and_the_admin_follows(fault_home):
    home = fault_home.home
    before = SandboxState.load(Path(home))
    _kill_minio(home)
    code, report = _status(home, cli=True)
    assert code == 1 and report["ready"] is False and report["minio_healthy"] is False

    up = skiff("sandbox", "up", home=home)
    assert up.returncode == 0, up.stderr
    after = SandboxState.load(Path(home))
    assert after.minio_endpoint == before.minio_endpoint  # same port after a kill -9
    code, report = _status(home)
    assert code == 0 and report["ready"] is True
    assert _admin_upload_works(after)

    # Its port taken meanwhile: MinIO moves, and the admin is restarted to follow it.
    _kill_minio(home)
    port = int(after.minio_endpoint.rsplit(":", 1)[1])
    squatter = _squat(port)
    try:
        up = skiff("sandbox", "up", home=home)
        assert up.returncode == 0, up.stderr
        moved = SandboxState.load(Path(home))
        assert moved.minio_endpoint != after.minio_endpoint
        assert moved.admin_storage_endpoint == moved.minio_endpoint
        code, report = _status(home)
        assert code == 0 and report["ready"] is True
        assert _admin_upload_works(moved)
    finally:
        squatter.close()
    # The admin server killed as well: not ready until `up` brings it back.
    _kill_minio(home)
    os.kill(SandboxState.load(Path(home)).admin_pid, signal.SIGKILL)
    code, report = _status(home)
    assert code == 1 and not report["admin_running"] and not report["minio_healthy"]
    up = skiff("sandbox", "up", home=home)
    assert up.returncode == 0, up.stderr
    code, report = _status(home)
    assert code == 0 and report["ready"] is True
    assert _admin_upload_works(SandboxState.load(Path(home)))
    figures("minio kill -9 then sandbox up", port_kept=True, moved_when_taken=True,
            admin_followed=True, half_dead_repaired=True)


OUTAGE_FLOW = '''
import time
from sdk import File, task, workflow


@task
def across(f: File, pause: float) -> File:
    time.sleep(pause)  # MinIO is stopped meanwhile
    with open(f) as handle:  # read while MinIO is down
        text = handle.read().strip()
    with open("out.txt", "w") as out:
        out.write(text + "+across")
    return File("out.txt")  # written while MinIO is down


@task
def finish(f: File) -> str:
    with open(f) as handle:
        return handle.read()


@workflow
def outage(f: File, pause: float = 2.0) -> str:
    return finish(f=across(f=f, pause=pause))
'''
OUTAGE_S = 60.0


def test_execution_survives_a_60s_storage_outage_quietly(fault_home, tmp_path):
    """MinIO stopped for 60 s while a task reads and writes storage (its input File is read
    and its output File written during the outage; the engine writes the next node's inputs
    and mints its container's credentials meanwhile), then `skiff sandbox up` restarts it on
    the same port: the run succeeds, every node at attempt 0 (no user or system retry
    spent), and stderr holds no library warning, at most Skiff's one outage line."""
    home = fault_home.home
    (tmp_path / "outage_wf.py").write_text(OUTAGE_FLOW)
    (tmp_path / "seed.txt").write_text("seed\n")
    env = dict(os.environ, SKIFF_HOME=str(home))
    run = subprocess.Popen([SKIFF, "run", "--sandbox", "--json", "outage_wf.py", "outage",
                            "--f", "seed.txt"],
                           cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    from sandbox.store import open_store

    before = SandboxState.load(Path(home))
    store = open_store(before.database_url)
    deadline = time.monotonic() + 180
    execution = None
    while time.monotonic() < deadline and run.poll() is None:
        rows = [r for r in store.executions(5) if r.workflow.endswith("outage_wf.outage")]
        node = store.node(rows[0].id, "n0") if rows else None
        if node is not None and node.state == "running":
            execution = rows[0]
            break
        time.sleep(0.1)
    assert execution is not None, f"the run never started its first node: {run.stderr.read()}"
    _kill_minio(home)
    down_at = time.monotonic()
    # The outage overlaps the other waiting this test needs: the sandbox says it is down.
    code, report = _status(home)
    assert code == 1 and report["minio_healthy"] is False
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
    assert run.poll() is None, "the run ended during the outage"
    up = skiff("sandbox", "up", home=home)
    outage = time.monotonic() - down_at
    assert up.returncode == 0, up.stderr
    assert SandboxState.load(Path(home)).minio_endpoint == before.minio_endpoint
    out, err = run.communicate(timeout=240)
    assert run.returncode == 0, err
    assert json.loads(out) == {"o0": "seed+across"}
    nodes = store.nodes(execution.id)
    assert [(n.node_id, n.state, n.attempt, n.user_failures, n.system_failures)
            for n in nodes] == [("n0", "succeeded", 0, 0, 0), ("n1", "succeeded", 0, 0, 0)]
    noise = [line for line in err.splitlines()
             if "urllib3" in line or "Retrying" in line or "Traceback" in line
             or ("WARNING" in line and "does not answer" not in line)]
    assert noise == []
    assert sum("does not answer" in line for line in err.splitlines()) <= 1
    figures("60 s storage outage mid-task", outage_s=round(outage, 1), nodes=len(nodes),
            user_retries_spent=sum(n.user_failures for n in nodes),
            system_retries_spent=sum(n.system_failures for n in nodes),
            stderr_lines=len(err.splitlines()),
            outage_lines=sum("does not answer" in line for line in err.splitlines()))

"""The admin server as a detached process of a sandbox home, started and stopped like MinIO."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from sandbox import home as sandbox_home
from sandbox.services.minio_server import free_port
from sandbox.services.daemons import live_cmdline, terminate
from sdk.errors import SandboxError

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def is_running(state) -> bool:
    """True when state.admin_pid is a live admin server of this very home."""
    cmdline = live_cmdline(state.admin_pid)
    if cmdline is None:
        return False
    # A recycled pid belongs to another program, or to the admin of another home.
    return b"sandbox.admin.server" in cmdline and state.home.encode() in cmdline


def is_healthy(endpoint: str, timeout: float = 2.0) -> bool:
    """The server answers GetPublicClientConfig (the one service open without a token)."""
    if not endpoint:
        return False
    import grpc
    from flyteidl.service import auth_pb2, auth_pb2_grpc

    with grpc.insecure_channel(endpoint, options=[("grpc.enable_http_proxy", 0)]) as channel:
        try:
            auth_pb2_grpc.AuthMetadataServiceStub(channel).GetPublicClientConfig(
                auth_pb2.PublicClientAuthConfigRequest(), timeout=timeout)
        except grpc.RpcError:
            return False
    return True


def _port_of(url: str) -> int | None:
    tail = url.rstrip("/").rsplit(":", 1)[-1].split("/", 1)[0] if url else ""
    return int(tail) if tail.isdigit() else None


def start(state, say=print) -> None:
    """Start the admin server for `state` (recording endpoint and pid) unless it already runs."""
    follows_storage = state.admin_storage_endpoint == state.minio_endpoint
    serves_tokens = bool(state.admin_token_endpoint)  # an admin from before auth is replaced
    if is_running(state) and follows_storage and serves_tokens and is_healthy(state.admin_endpoint):
        return
    if is_running(state):  # not answering, or holding a MinIO endpoint that moved
        stop(state)
    home = Path(state.home)
    logs = sandbox_home.logs_dir(home)
    logs.mkdir(parents=True, exist_ok=True)
    from sandbox.admin.auth_server import token_url
    from sandbox.admin.auth_tokens import ensure_client

    ensure_client(home)  # created here, before the server (or anything else) reads it
    port = free_port(_port_of(state.admin_endpoint))
    token_port = free_port(_port_of(state.admin_token_endpoint))
    if token_port == port:
        token_port = free_port()
    env = dict(os.environ, SKIFF_HOME=str(home))
    with sandbox_home.open_private_log(logs / "admin.log") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.admin.server", "--home", str(home), "--port",
             str(port), "--token-port", str(token_port)],
            env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True, cwd=home,
            umask=sandbox_home.PRIVATE_UMASK)  # it and its runners write logs in the home
    state.admin_pid = process.pid
    state.admin_endpoint = f"127.0.0.1:{port}"
    state.admin_token_endpoint = token_url(token_port)
    state.admin_storage_endpoint = state.minio_endpoint
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            state.admin_pid = None
            raise SandboxError(f"the admin server exited with code {process.returncode} while "
                               f"starting; see {logs / 'admin.log'}")
        if is_healthy(state.admin_endpoint, timeout=1.0):
            say(f"admin API on {state.admin_endpoint}")
            return
        time.sleep(0.1)
    stop(state)
    raise SandboxError(f"the admin server did not answer on {state.admin_endpoint} within "
                       f"{START_TIMEOUT_S:.0f} s; see {logs / 'admin.log'}")


def stop(state) -> bool:
    """Stop the admin server (executions it started keep running); True when one ran."""
    if not is_running(state):
        state.admin_pid = None
        return False
    terminate(state.admin_pid, lambda: is_running(state), STOP_TIMEOUT_S)
    state.admin_pid = None
    return True



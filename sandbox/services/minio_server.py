"""The sandbox's MinIO: find or build the binary, run it detached on loopback, stop it.

The credentials are generated once per sandbox home and handed to MinIO through its
environment only; they are never printed or logged (MinIO runs with --quiet --anonymous).
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox import home as sandbox_home
from sandbox.home import SandboxState
from sandbox.services.locks import file_lock
from sandbox.services.daemons import live_cmdline, terminate
from sdk.errors import SandboxError

if TYPE_CHECKING:
    from minio import Minio

log = logging.getLogger(__name__)

# The module proxy refuses MinIO's RELEASE.* tags; this pseudo-version is the newest community
# source (2026-02-12). It needs Go >= 1.24.
MINIO_MODULE = "github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
POLL_S = 0.03  # readiness is polled tightly: `sandbox up` waits for the slowest server only
# MinIO sets its Go memory limit (GOMEMLIMIT) to the machine's available memory, so its heap
# garbage is collected late and its resident memory only grows with the data moved through it
# (114 MB after up, 200 MB after two 1 GiB round trips, 400 MB after the benchmark's
# workloads). A 256 MiB limit keeps it near 150 MB at no measurable CPU cost (96-192 MiB cost
# 1.5-2.5x its CPU per GET). MinIO derives its concurrent request cap from the same limit
# (limit / 3 MiB: 84 at 256 MiB), too few for a wide map task: the cap is set on its own.
# A value set in the environment of `skiff sandbox up` wins.
MEMORY_SETTINGS = {"MINIO_MEMLIMIT": "256MiB", "MINIO_API_REQUESTS_MAX": "1024"}

# Loopback requests must never go through a proxy configured in the environment.
_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def find_binary() -> Path | None:
    """SKIFF_MINIO_BINARY, then `minio` on PATH, then the one built into the shared cache."""
    configured = os.environ.get("SKIFF_MINIO_BINARY")
    if configured:
        path = Path(configured)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise SandboxError(
                f"SKIFF_MINIO_BINARY={configured} is not an executable file; "
                "fix the path or unset it to let Skiff build MinIO"
            )
        return path
    on_path = shutil.which("minio")
    if on_path:
        return Path(on_path)
    cached = sandbox_home.cache_dir() / "bin" / "minio"
    return cached if cached.is_file() else None


def ensure_binary(say=print) -> Path:
    """The MinIO binary, built from source into $SKIFF_CACHE_DIR/bin once when none is found."""
    found = find_binary()
    if found:
        return found
    bin_dir = sandbox_home.cache_dir() / "bin"
    with file_lock(sandbox_home.cache_dir() / "locks" / "minio-build.lock"):
        found = find_binary()  # another process may have built it while we waited
        if found:
            return found
        go = _find_go()
        if not go:
            raise SandboxError(
                "MinIO is not installed and Go is missing to build it; install Go >= 1.24 "
                "(or set SKIFF_MINIO_BINARY to a minio server binary)"
            )
        say(f"building MinIO from source, a few minutes, once (into {bin_dir})")
        env = dict(os.environ, CGO_ENABLED="0", GOBIN=str(bin_dir))
        started = time.monotonic()
        result = subprocess.run(
            [go, "install", MINIO_MODULE], env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            tail = "\n".join(result.stderr.strip().splitlines()[-5:])
            raise SandboxError(
                f"building MinIO ({MINIO_MODULE}) failed:\n{tail}\n"
                "check Go >= 1.24 and access to the Go module proxy, then run `skiff sandbox up` again"
            )
        log.info("built MinIO in %.0f s", time.monotonic() - started)
    return bin_dir / "minio"


def _find_go() -> str | None:
    """`go` on PATH, else where the official tarball puts it."""
    official = Path("/usr/local/go/bin/go")
    return shutil.which("go") or (str(official) if official.is_file() else None)


def free_port(preferred: int | None = None) -> int:
    """`preferred` when it can be bound on 127.0.0.1, else a port the kernel picks."""
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            # As the servers bind: a port whose killed server left connections in TIME_WAIT
            # is free for them, so a restarted MinIO or admin keeps its port.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise SandboxError("no free TCP port on 127.0.0.1 for MinIO")


def is_running(state: SandboxState) -> bool:
    """True when state.minio_pid is a live MinIO serving this home's data directory."""
    cmdline = live_cmdline(state.minio_pid)
    if cmdline is None:
        return False
    # Guards against a recycled pid that now belongs to another program.
    data_dir = str(sandbox_home.minio_data_dir(Path(state.home))).encode()
    return data_dir in cmdline


def is_healthy(endpoint: str) -> bool:
    try:
        with _NO_PROXY_OPENER.open(f"{endpoint}/minio/health/live", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(state: SandboxState, say=print) -> None:
    """Start MinIO for `state` (filling endpoint, credentials and pid) unless it already runs."""
    process = launch(state, say)
    if process is not None:
        wait_ready(state, process)


def launch(state: SandboxState, say=print) -> subprocess.Popen | None:
    """Spawn MinIO for `state` (filling endpoint, credentials and pid) without waiting for it;
    None when it already runs and answers. `wait_ready` finishes the start."""
    if is_running(state) and is_healthy(state.minio_endpoint):
        return None
    if is_running(state):  # alive but not answering: restart it cleanly
        stop(state)
    binary = ensure_binary(say)
    home = Path(state.home)
    data_dir = sandbox_home.minio_data_dir(home)
    data_dir.mkdir(parents=True, exist_ok=True)
    logs = sandbox_home.logs_dir(home)
    logs.mkdir(parents=True, exist_ok=True)
    if not (state.access_key and state.secret_key):
        # Kept for the life of the home: MinIO encrypts its own config with the root credentials.
        state.access_key = "skiff-" + secrets.token_hex(6)
        state.secret_key = secrets.token_urlsafe(30)
    api_port = free_port(_port_of(state.minio_endpoint))
    console_port = free_port(_port_of(state.minio_console))
    if console_port == api_port:
        console_port = free_port()
    env = dict(
        os.environ,
        MINIO_ROOT_USER=state.access_key,
        MINIO_ROOT_PASSWORD=state.secret_key,
        MINIO_UPDATE="off",
        MINIO_BROWSER_REDIRECT="off",
    )
    env.update({name: value for name, value in MEMORY_SETTINGS.items() if name not in os.environ})
    with sandbox_home.open_private_log(logs / "minio.log") as log_file:
        process = subprocess.Popen(
            [
                str(binary), "server", str(data_dir),
                "--address", f"127.0.0.1:{api_port}",
                "--console-address", f"127.0.0.1:{console_port}",
                "--quiet", "--anonymous",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the CLI that started it
            cwd=home,
            umask=sandbox_home.PRIVATE_UMASK,  # its data and logs are the user's alone
        )
    state.minio_pid = process.pid
    state.minio_endpoint = f"http://127.0.0.1:{api_port}"
    state.minio_console = f"http://127.0.0.1:{console_port}"
    return process


def wait_ready(state: SandboxState, process: subprocess.Popen) -> None:
    """Wait until the MinIO that `launch` spawned serves S3, then make sure the bucket exists."""
    _wait_until_healthy(state, process, sandbox_home.logs_dir(Path(state.home)) / "minio.log")
    ensure_bucket(state)


def _s3_serving(endpoint: str) -> bool:
    """The S3 API serves requests. Just after /minio/health/live it may still answer 503 with
    `Retry-After: 60` (seen in 1 of 4 fresh starts here), which the MinIO client honours: the
    first bucket call would then stall `sandbox up` for a minute. An unsigned request gets 403
    once it serves."""
    try:
        with _NO_PROXY_OPENER.open(f"{endpoint}/", timeout=2):
            return True
    except urllib.error.HTTPError as error:
        return error.code != 503
    except (urllib.error.URLError, OSError):
        return False


def _wait_until_healthy(state: SandboxState, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SandboxError(
                f"MinIO exited with code {process.returncode} while starting; "
                f"see {log_path}:\n{_tail(log_path)}"
            )
        if is_healthy(state.minio_endpoint) and _s3_serving(state.minio_endpoint):
            return
        time.sleep(POLL_S)
    stop(state)
    raise SandboxError(
        f"MinIO did not answer at {state.minio_endpoint} within {START_TIMEOUT_S:.0f} s; "
        f"see {log_path}"
    )


def client(state: SandboxState) -> Minio:
    """A MinIO client for this sandbox, with its credentials."""
    from minio import Minio  # lazy: a heavy import that only the bucket check needs

    host = state.minio_endpoint.removeprefix("http://")
    return Minio(host, access_key=state.access_key, secret_key=state.secret_key, secure=False)


def ensure_bucket(state: SandboxState) -> None:
    # A single-drive MinIO keeps each bucket as a folder of its data directory: when it is
    # there, the client (a second of imports) is not needed to know the bucket exists.
    if (sandbox_home.minio_data_dir(Path(state.home)) / state.bucket).is_dir():
        return
    storage = client(state)
    if not storage.bucket_exists(state.bucket):
        storage.make_bucket(state.bucket)


def stop(state: SandboxState) -> bool:
    """Stop MinIO (its data stays); True when one was running."""
    if not is_running(state):
        state.minio_pid = None
        return False
    terminate(state.minio_pid, lambda: is_running(state), STOP_TIMEOUT_S)
    state.minio_pid = None
    return True


def _port_of(endpoint: str) -> int | None:
    try:
        return int(endpoint.rsplit(":", 1)[1]) if endpoint else None
    except (IndexError, ValueError):
        return None


def _tail(path: Path, lines: int = 10) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"

"""The console as a detached process of a sandbox home, started and stopped like the admin.

$SKIFF_HOME/console.json (mode 0600) records its token, port and pid; the token is made once
per home and kept across restarts, so a login link stays valid until the home is removed."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from sandbox import home as sandbox_home
from sandbox.console.access import base_url, login_url, new_token, read_console, write_console
from sandbox.services.daemons import live_cmdline, terminate
from sandbox.services.minio_server import free_port
from sdk.errors import SandboxError

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
POLL_S = 0.03


def _is_console(pid, home: str) -> bool:
    cmdline = live_cmdline(pid)
    return cmdline is not None and b"sandbox.console.server" in cmdline and \
        home.encode() in cmdline


def is_running(home) -> bool:
    return _is_console(read_console(home).get("pid"), str(home))


def is_healthy(port: int | None, timeout: float = 2.0) -> bool:
    """The server answers (a 401 to a request without the cookie is an answer)."""
    if not port:
        return False
    try:
        urllib.request.urlopen(base_url(port) + "api/projects", timeout=timeout)
    except urllib.error.HTTPError as exc:
        return exc.code == 401
    except OSError:
        return False
    return True


def url(home) -> str | None:
    """The console's address (without the token) when it runs."""
    record = read_console(home)
    return base_url(record["port"]) if record.get("port") and is_running(home) else None


def login_link(home, path: str = "/") -> str | None:
    record = read_console(home)
    if not (record.get("port") and record.get("token") and is_running(home)):
        return None
    return login_url(record["port"], record["token"], path)


def start(state, say=print) -> str:
    """Start the console for `state` unless it runs; returns its base URL."""
    launched = launch(state)
    if isinstance(launched, str):
        return launched
    return wait_ready(state, launched, say)


def launch(state) -> str | subprocess.Popen:
    """Spawn the console for `state` without waiting for it (its port and pid are recorded in
    console.json); its base URL instead when it already runs and answers."""
    home = Path(state.home)
    record = read_console(home)
    if is_running(home) and is_healthy(record.get("port")):
        return base_url(record["port"])
    if is_running(home):
        stop(home)
    record.setdefault("token", new_token())
    port = free_port(record.get("port"))
    record.update(port=port, pid=None)
    write_console(home, record)  # the token must be on disk before the server reads it
    logs = sandbox_home.logs_dir(home)
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SKIFF_HOME=str(home))
    with sandbox_home.open_private_log(logs / "console.log") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.console.server", "--home", str(home), "--port",
             str(port)], env=env, stdin=subprocess.DEVNULL, stdout=log_file,
            stderr=subprocess.STDOUT, start_new_session=True, cwd=home,
            umask=sandbox_home.PRIVATE_UMASK)
    record["pid"] = process.pid
    write_console(home, record)
    return process


def wait_ready(state, process: subprocess.Popen, say=print) -> str:
    """Wait until the console that `launch` spawned answers; returns its base URL."""
    home = Path(state.home)
    port = read_console(home)["port"]
    logs = sandbox_home.logs_dir(home)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SandboxError(f"the console exited with code {process.returncode} while "
                               f"starting; see {logs / 'console.log'}")
        if is_healthy(port, timeout=1.0):
            say(f"console on {base_url(port)}")
            return base_url(port)
        time.sleep(POLL_S)
    stop(home)
    raise SandboxError(f"the console did not answer on {base_url(port)} within "
                       f"{START_TIMEOUT_S:.0f} s; see {logs / 'console.log'}")


def stop(home) -> bool:
    """Stop the console; True when one ran."""
    record = read_console(home)
    pid = record.get("pid")
    if not _is_console(pid, str(home)):
        return False
    terminate(pid, lambda: _is_console(pid, str(home)), STOP_TIMEOUT_S)
    record["pid"] = None
    write_console(home, record)
    return True

"""`python3 -m sdk.warm_worker`: a warm task worker, the long-lived process of a reused
container (`skiff run --sandbox --reuse-containers`).

It imports what `skiff-execute` needs once, then serves one task attempt at a time on a unix
socket that the engine bind-mounts in (SOCKET_ENV). Each attempt runs in a child forked from
this warm process, in its own session, with the attempt's own environment (its storage
credentials and secrets arrive with the request and never enter this process's environment),
the image's working directory emptied before it, and its output piped back to the engine as it
comes. After the child ends, every other process in the container is killed and /tmp and the
working directory are emptied, so nothing one task leaves behind reaches the next. The
worker enforces the attempt's timeout, tells an out-of-memory kill (the container's cgroup
counter) from other signals, and kills the child when the engine says so or goes away.

The user's task module is imported into this process too (before the first child that needs
it), so that later children find it loaded, as Flyte's reusable containers do: a module's
import-time side effects happen once per worker.

Protocol, per connection: one JSON line {"argv": [...], "env": {...}, "timeout": s|null};
then frames from the worker: b"o" + 4-byte length + output bytes, and finally b"x" + length
+ JSON {"exit": int, "oom": bool, "timed_out": bool}. A byte from the engine meanwhile (or
its end of the connection closing) kills the attempt. The worker exits when its stdin
closes (the engine that started it ended) or after IDLE_ENV seconds without a request.
"""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import sys
import time

SOCKET_ENV = "SKIFF_WARM_SOCKET"  # the unix socket's path inside the container
IDLE_ENV = "SKIFF_WARM_IDLE_S"  # exit after this long without a request
READY_FILE = "ready"  # written beside the socket once it listens
OUTPUT, EXIT = b"o", b"x"
_KILL_GRACE_S = 0.0


def _preload_skiff() -> None:
    """What every task's skiff-execute imports, imported once here."""
    import sdk.entrypoint  # noqa: F401
    import sdk.io  # noqa: F401
    import sdk.s3_client  # noqa: F401
    import sdk.types.engine  # noqa: F401
    from flyteidl.core import errors_pb2, literals_pb2  # noqa: F401

    from sdk import task, workflow  # noqa: F401


def _option(argv: list[str], flag: str) -> str:
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return ""


class Worker:
    def __init__(self, socket_path: str, idle_s: float):
        self.socket_path = socket_path
        self.idle_s = idle_s
        self.workdir = os.getcwd()
        self.loaded: set[str] = set()
        # the image's environment, which a task container would have; the attempt's own
        # variables come with each request
        self.base_env = {k: v for k, v in os.environ.items()
                         if k not in (SOCKET_ENV, IDLE_ENV)}

    # ---- the loop --------------------------------------------------------------------

    def serve(self) -> None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        listener.bind(self.socket_path)
        os.chmod(self.socket_path, 0o666)  # the engine may run as another user
        listener.listen(4)
        with open(os.path.join(os.path.dirname(self.socket_path), READY_FILE), "w") as ready:
            ready.write(str(os.getpid()))
        last = time.monotonic()
        while True:
            readable, _, _ = select.select([listener, 0], [], [], 5.0)
            if 0 in readable and not os.read(0, 4096):
                return  # stdin closed: the engine that started this worker is gone
            if listener in readable:
                connection, _ = listener.accept()
                try:
                    self.handle(connection)
                finally:
                    connection.close()
                    self.clean()
                last = time.monotonic()
            elif time.monotonic() - last > self.idle_s:
                return

    def handle(self, connection: socket.socket) -> None:
        request = json.loads(_read_line(connection))
        argv, env, timeout = request["argv"], request["env"], request.get("timeout")
        self.preload(argv, env)
        read_end, write_end = os.pipe()
        oom_before = _oom_kills()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_end)
            _run_child(argv, {**self.base_env, **env}, self.workdir, write_end)
        os.close(write_end)
        status = self._follow(connection, pid, read_end, timeout)
        status["oom"] = (status["exit"] == 128 + signal.SIGKILL and not status["timed_out"]
                         and not status.get("killed") and _oom_kills() > oom_before)
        _send(connection, EXIT, json.dumps(status).encode())

    def _follow(self, connection, pid: int, output_fd: int, timeout) -> dict:
        """Pump the child's output to the engine until it ends; kill it on timeout or when
        the engine asks. Its status as the engine reads a container's."""
        deadline = time.monotonic() + timeout if timeout else None
        child_fd = os.pidfd_open(pid)
        timed_out = killed = False
        exit_code = None
        watching = [output_fd, child_fd, connection]
        while output_fd in watching or exit_code is None:
            wait = None if deadline is None else max(deadline - time.monotonic(), 0)
            readable, _, _ = select.select(watching, [], [], wait)
            if not readable and deadline is not None and exit_code is None:
                timed_out = True
                _kill_group(pid)
                deadline = None
                continue
            if connection in readable:
                watching.remove(connection)  # a kill request, or the engine went away
                if exit_code is None:
                    killed = True
                    _kill_group(pid)
            if child_fd in readable:
                watching.remove(child_fd)
                os.close(child_fd)
                _, status = os.waitpid(pid, 0)
                exit_code = (os.WEXITSTATUS(status) if os.WIFEXITED(status)
                             else 128 + os.WTERMSIG(status))
                _kill_others()  # what it left running would hold the output pipe open
            if output_fd in readable:
                data = os.read(output_fd, 65536)
                if not data:
                    watching.remove(output_fd)
                    os.close(output_fd)
                elif not killed:
                    try:
                        _send(connection, OUTPUT, data)
                    except OSError:
                        killed = True
                        _kill_group(pid)
        return {"exit": exit_code, "timed_out": timed_out, "killed": killed}

    def preload(self, argv: list[str], env: dict) -> None:
        """Import the task's module here, once, so the children fork with it loaded. A
        failure is left to the child, which reports it as skiff-execute always does."""
        module = _option(argv, "--task-module")
        if not module or module in self.loaded:
            return
        self.loaded.add(module)
        saved = dict(os.environ)
        try:
            from sdk import code_bundle

            # The bundle's files, linked as the child will link them (same paths: a module's
            # __file__ stays right), without the attempt's credentials or secrets.
            os.environ.update({k: v for k, v in env.items()
                               if k.startswith("SKIFF_SHARED_BUNDLE_")})
            bundle = _option(argv, "--code-bundle")
            if bundle and code_bundle.link_shared(bundle, self.workdir):
                if self.workdir not in sys.path:
                    sys.path.insert(0, self.workdir)
                import importlib

                importlib.import_module(module)
        except BaseException:  # noqa: BLE001 - the child imports it again and reports
            pass
        finally:
            os.environ.clear()
            os.environ.update(saved)
            self.clean()

    def clean(self) -> None:
        """Nothing of a finished task survives: its processes, /tmp, the working directory."""
        _kill_others()
        for directory in {"/tmp", self.workdir} - {"/", ""}:
            _empty(directory, keep=os.path.dirname(self.socket_path))


def _run_child(argv: list[str], env: dict, workdir: str, output_fd: int) -> None:
    code = 1
    try:
        os.setsid()
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
            signal.signal(number, signal.SIG_DFL)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(output_fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.environ.clear()
        os.environ.update(env)
        os.chdir(workdir)
        sys.argv = ["skiff-execute", *argv]
        from sdk import entrypoint

        code = entrypoint.main(argv)
        import atexit

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - whatever happens, the child never returns
        import traceback

        traceback.print_exc()
        try:
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
    os._exit(code)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _kill_others() -> None:
    """Kill every process in the container but this one (the worker is its PID 1, so the
    task's strays are all its descendants), then reap them."""
    me = os.getpid()
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != me:
            try:
                os.kill(int(name), signal.SIGKILL)
            except OSError:
                pass
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.001)  # killed, not yet reaped


def _empty(directory: str, keep: str) -> None:
    import shutil

    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        path = os.path.join(directory, name)
        if path == keep:
            continue
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass


def _oom_kills() -> int:
    """How many processes the kernel killed for memory in this container (cgroup v2 or v1)."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as handle:
                for line in handle:
                    name, _, value = line.partition(" ")
                    if name == "oom_kill":
                        return int(value)
        except OSError:
            continue
    return 0


def _read_line(connection: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            raise ConnectionError("the engine closed the connection before its request")
        data += chunk
    return data


def _send(connection: socket.socket, kind: bytes, data: bytes) -> None:
    connection.sendall(kind + struct.pack(">I", len(data)) + data)


def main() -> None:
    _preload_skiff()
    Worker(os.environ[SOCKET_ENV], float(os.environ.get(IDLE_ENV, "300"))).serve()
    _kill_others()
    os._exit(0)


if __name__ == "__main__":
    main()

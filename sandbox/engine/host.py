"""The name of this host, as the store records which engine process runs an execution."""
from __future__ import annotations

import os


def host_name() -> str:
    """socket.gethostname() without importing socket (a few ms of every cached rerun): on
    Linux and macOS both are uname's node name."""
    return os.uname().nodename


def process_alive(pid: int) -> bool:
    """Whether process `pid` of this host still runs. A process that was killed but not yet
    reaped (a zombie: the detached engine of `run --detach` is reparented to init, which in a
    container may never reap it) has ended, although signal 0 still reaches it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's: running
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            # "pid (comm) state ...": the state follows the last ")" (comm may hold one)
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True  # no /proc (macOS): signal 0 is all there is

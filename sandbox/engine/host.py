"""The name of this host, as the store records which engine process runs an execution."""
from __future__ import annotations

import os


def host_name() -> str:
    """socket.gethostname() without importing socket (a few ms of every cached rerun): on
    Linux and macOS both are uname's node name."""
    return os.uname().nodename

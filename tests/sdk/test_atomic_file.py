"""sdk.atomic_file: a regular file is replaced whole (never half-written, with its mode from the
start); a path that is not a regular file (a pipe, /dev/null, /dev/stdout) is written to, never
replaced (as root, a rename over /dev/null left a regular file in its place)."""
from __future__ import annotations

import os
import stat
import threading

from sdk.atomic_file import write_atomically


def test_a_regular_file_is_replaced_with_its_mode(tmp_path):
    target = tmp_path / "state.json"
    target.write_text("old")
    write_atomically(str(target), b"new", mode=0o600)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary left


def test_a_pipe_is_written_to_and_stays_a_pipe(tmp_path):
    # A FIFO stands for /dev/null and /dev/stdout: the same path through the code, and a
    # failing run of this test cannot break the machine's /dev/null.
    pipe = tmp_path / "out"
    os.mkfifo(pipe)
    received = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)  # never holds the run
    reader.start()
    write_atomically(str(pipe), b"package bytes")
    reader.join(10)
    assert received == [b"package bytes"]
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]

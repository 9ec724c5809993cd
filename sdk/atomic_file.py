"""Writing a file so that readers see the old content or the new, never a part: a temporary
file in the same directory, then a rename over the target."""
from __future__ import annotations

import os
import stat


def _create_temporary(directory: str) -> tuple[int, str]:
    """A new file of this user only (0600) in `directory`, as tempfile.mkstemp makes one; not
    tempfile itself, whose imports (random, shutil, bz2, lzma) cost every CLI start 15 ms."""
    for _ in range(100):
        temporary = os.path.join(directory, f".tmp-{os.getpid()}-{os.urandom(6).hex()}")
        try:
            return os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                           0o600), temporary
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name in {directory}")


def write_atomically(path: str, data: bytes, mode: int | None = None) -> None:
    """Replace `path` with `data`. `mode` is set before anything is written (state.json holds
    secrets: it must never be readable by others, not even half-written). A `path` that is
    not a regular file (`-o /dev/null`, `/dev/stdout`, a pipe) is written to, never replaced:
    renaming over /dev/null as root would leave a regular file in its place."""
    try:
        special = not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        special = False
    if special:
        with open(path, "wb") as stream:
            stream.write(data)
        return
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = _create_temporary(directory)
    try:
        if mode is not None:
            os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise

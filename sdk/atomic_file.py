"""Writing a file so that readers see the old content or the new, never a part: a temporary
file in the same directory, then a rename over the target."""
from __future__ import annotations

import os
import tempfile


def write_atomically(path: str, data: bytes, mode: int | None = None) -> None:
    """Replace `path` with `data`. `mode` is set before anything is written (state.json holds
    secrets: it must never be readable by others, not even half-written)."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", dir=directory)
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

"""Getting a task's code bundle into its container's working directory (skiff-execute).

Either fetched from storage and unpacked (every container for itself, as Flyte does), or, when
the engine mounted the execution's unpacked bundle read-only (sandbox.engine.shared_bundle) and
named it in SHARED_URI_ENV / SHARED_DIR_ENV, linked: each top-level entry of the mount gets a
symbolic link in the working directory, so imports and data files opened by relative path
work as after an unpack. Standard library only: this runs in every container's start-up.
"""
from __future__ import annotations

import os

SHARED_URI_ENV = "SKIFF_SHARED_BUNDLE_URI"  # the bundle the mount holds
SHARED_DIR_ENV = "SKIFF_SHARED_BUNDLE_DIR"  # where it is mounted


def safe_extract(archive, dest_dir: str) -> None:
    """Extract refusing absolute paths, `..`, links out of dest_dir and device files."""
    import tarfile

    if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
        archive.extractall(dest_dir, filter="data")
        return
    # Debian bookworm's Python 3.11.2 predates extraction filters: check each member here.
    root = os.path.realpath(dest_dir)
    for member in archive.getmembers():
        target = os.path.realpath(os.path.join(root, member.name))
        link_target = os.path.realpath(os.path.join(os.path.dirname(target), member.linkname)) if member.issym() else None
        inside = lambda path: path == root or path.startswith(root + os.sep)  # noqa: E731
        if (
            not inside(target)
            or (link_target is not None and not inside(link_target))
            or (member.islnk() and not inside(os.path.realpath(os.path.join(root, member.linkname))))
            or member.isdev()
        ):
            raise ValueError(f"refusing to extract {member.name!r}: it would land outside {dest_dir}")
    archive.extractall(dest_dir)


def fetch(uri: str, dest_dir: str) -> None:
    """Download the bundle and unpack it into dest_dir."""
    # Read into memory, not a temporary file: a code bundle is mostly source, and this saves
    # a disk round trip and tempfile's import in every container.
    import io as stdio
    import tarfile

    from sdk import io

    data = io.read_bytes(uri)
    os.makedirs(dest_dir, exist_ok=True)
    with tarfile.open(fileobj=stdio.BytesIO(data), mode="r:*") as archive:
        safe_extract(archive, dest_dir)


def link_shared(uri: str, dest_dir: str) -> bool:
    """Link the mounted, unpacked bundle's entries into dest_dir when the engine mounted
    exactly `uri`; False (nothing linked) otherwise, or when an entry of the same name is in
    dest_dir already (then the caller fetches and unpacks over it, as Flyte would)."""
    shared = os.environ.get(SHARED_DIR_ENV)
    if not shared or os.environ.get(SHARED_URI_ENV) != uri or not os.path.isdir(shared):
        return False
    os.makedirs(dest_dir, exist_ok=True)
    names = os.listdir(shared)
    if any(os.path.lexists(os.path.join(dest_dir, name)) for name in names):
        return False
    for name in names:
        os.symlink(os.path.join(shared, name), os.path.join(dest_dir, name))
    return True


def prepare(uri: str, dest_dir: str) -> None:
    """The bundle's files in dest_dir: linked from the shared mount, else fetched."""
    if not link_shared(uri, dest_dir):
        fetch(uri, dest_dir)

"""One fetch and unpack of a code bundle per execution, shared read-only by its task containers.

Without this every task container downloads the bundle from MinIO and unpacks it before it
imports the task. Here the engine fetches each bundle an execution's tasks name once, unpacks
it under `$SKIFF_HOME/bundles/<execution>/<digest of its URI>/code` (its URI written beside, in
`bundle-uri`), and bind-mounts that directory read-only into each
container that runs Skiff's own entrypoint (`skiff-execute`), with two environment variables
naming the bundle and where it is mounted; the entrypoint then links the bundle's entries into
its working directory instead of fetching (sdk.entrypoint). Read-only, one task cannot change
the code another runs. Containers of other entrypoints (flytekit's pyflyte-fast-execute) are
left as they are and fetch the bundle themselves. The directory goes when the execution's run
ends; a resumed execution unpacks it again if it is gone. Nothing about the container's
arguments changes, so the same task spec runs unchanged on a Flyte cluster.
"""
from __future__ import annotations

import logging
import os
import threading

from sdk.code_bundle import CODE_DIR, SHARED_DIR_ENV, SHARED_URI_ENV, URI_FILE, safe_extract
from sdk.sha256 import sha256

log = logging.getLogger(__name__)

MOUNT_POINT = "/opt/skiff-bundle"  # where a container sees the unpacked bundle (read-only)


def bundle_uri(args: list[str]) -> str | None:
    """The code bundle a skiff-execute container fetches, or None (another entrypoint, no
    bundle, or a template left unfilled)."""
    if args[:1] != ["skiff-execute"] or "--code-bundle" not in args:
        return None
    index = args.index("--code-bundle") + 1
    uri = args[index] if index < len(args) else ""
    return uri if uri.startswith("s3://") and "{{" not in uri else None


class SharedBundles:
    """Unpacked bundles by execution; `share(request, execution_id)` mounts the one the
    request's container would fetch."""

    def __init__(self, objects, directory: str):
        self.objects, self.directory = objects, directory
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        # Executions whose run ended: an attempt still being set up then (a terminate's
        # race) must not leave a bundle behind.
        self._released: set[str] = set()

    def _unpacked(self, execution_id: str, uri: str) -> str | None:
        """The directory holding `uri` unpacked for `execution_id`, made on first use; None
        when it cannot be made (the container then fetches the bundle itself)."""
        folder = os.path.join(self.directory, execution_id, sha256(uri.encode()).hexdigest()[:24])
        with self._lock:
            lock = self._locks.setdefault((execution_id, uri), threading.Lock())
        with lock:
            if execution_id in self._released:
                return None
            if os.path.isdir(folder):
                return folder
            try:
                data = self.objects.get_bytes(uri)
                if data is None:
                    return None  # the container reports the missing bundle itself
                _unpack(data, folder, uri)
            except Exception as exc:  # noqa: BLE001 - sharing is an optimisation: fall back
                log.warning("cannot unpack code bundle %s for execution %s (%s); each task "
                            "container fetches it", uri, execution_id, exc)
                return None
            if execution_id in self._released:  # it ended while this was unpacked
                _remove(folder)
                return None
            return folder

    def share(self, request, execution_id: str) -> None:
        """Mount the unpacked bundle into `request`'s container, read-only, when it runs
        skiff-execute with a bundle from this sandbox's storage."""
        uri = bundle_uri(request.args)
        if uri is None or request.command:
            return
        folder = self._unpacked(execution_id, uri)
        if folder is None:
            return
        request.mounts = [*request.mounts, (folder, MOUNT_POINT)]
        request.env = {**request.env, SHARED_URI_ENV: uri, SHARED_DIR_ENV: MOUNT_POINT}

    def release(self, execution_id: str) -> None:
        """The execution's run ended: remove its unpacked bundles (one being unpacked right now
        removes itself when done). A resume of the execution may share them again."""
        with self._lock:
            self._locks = {k: v for k, v in self._locks.items() if k[0] != execution_id}
            self._released.add(execution_id)
        _remove(os.path.join(self.directory, execution_id))

    def resume(self, execution_id: str) -> None:
        """The execution runs (again) in this process: its bundles may be shared."""
        with self._lock:
            self._released.discard(execution_id)


def _remove(path: str) -> None:
    import shutil  # only when bundles were unpacked: a cached rerun never needs it

    shutil.rmtree(path, ignore_errors=True)


def _unpack(data: bytes, folder: str, uri: str) -> None:
    """Unpack into `folder`/code, with `uri` in `folder`/bundle-uri: made in a sibling
    temporary directory, then renamed, so a folder that exists is whole."""
    import io
    import tarfile
    import tempfile

    parent = os.path.dirname(folder)
    os.makedirs(parent, mode=0o755, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix=".unpacking-", dir=parent)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            safe_extract(archive, os.path.join(scratch, CODE_DIR))
        with open(os.path.join(scratch, URI_FILE), "w", encoding="utf-8") as handle:
            handle.write(uri)
        for directory, dirs, files in os.walk(scratch):
            os.chmod(directory, 0o755)  # readable by the containers' unprivileged user
            for name in files:
                path = os.path.join(directory, name)
                if not os.path.islink(path):
                    os.chmod(path, os.stat(path).st_mode & 0o755 | 0o444)
        os.rename(scratch, folder)
    except BaseException:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
        raise

"""The task cache: Flyte's key (project, domain, task, cache version, typed interface, inputs
minus cache_ignore_input_vars); a hit completes a node without Docker or MinIO."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import time

from flyteidl.core import literals_pb2
from sandbox.engine.host import host_name, process_alive
from sandbox.engine.literals import literal_map_digest
from sdk.sha256 import sha256


def is_cacheable(task_template) -> bool:
    return bool(task_template.metadata.discoverable)


def cache_key(project: str, domain: str, task_template, inputs: literals_pb2.LiteralMap) -> str:
    meta = task_template.metadata
    digest = sha256()
    for part in (project, domain, task_template.id.name, meta.discovery_version):
        digest.update(part.encode() + b"\0")
    digest.update(task_template.interface.SerializeToString(deterministic=True))
    digest.update(literal_map_digest(inputs.literals, set(meta.cache_ignore_input_vars)).encode())
    return digest.hexdigest()


def lookup(store, key: str) -> literals_pb2.LiteralMap | None:
    data = store.cache_get(key)
    return literals_pb2.LiteralMap.FromString(data) if data is not None else None


def remember(store, key: str, project: str, domain: str, task_template,
             outputs: literals_pb2.LiteralMap, execution_id: str, overwrite: bool = False) -> None:
    """Store the outputs under `key`; with overwrite (the execution's overwrite_cache) they
    replace an entry already there, else the first entry written stays."""
    store.cache_put(key, project, domain, task_template.id.name,
                    task_template.metadata.discovery_version, outputs.SerializeToString(),
                    execution_id, overwrite=overwrite)


_POLL_SECONDS = 0.5
_DEFAULT_HOLD = dt.timedelta(hours=1)
_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


@contextlib.contextmanager
def serialized(store, key: str, node_label: str, hold: dt.timedelta | None):
    """cache_serialize: one computation per key at a time, across threads and engines.

    Yields the cached outputs when another computation finished while we waited (do not run),
    else None while this engine holds the reservation (run, then `remember`)."""
    from sandbox.store.repository import utcnow

    with _local_guard:
        lock = _local_locks.setdefault(key, threading.Lock())
    pid, host = os.getpid(), host_name()
    with lock:
        while True:
            hit = lookup(store, key)
            if hit is not None:
                break
            expires = utcnow() + (hold or _DEFAULT_HOLD)
            if store.reserve_cache_key(key, pid, host, node_label, expires, process_alive):
                break
            time.sleep(_POLL_SECONDS)  # another engine computes it; it is not a hot path
        if hit is not None:
            yield hit
            return
        try:
            yield None
        finally:
            store.release_cache_key(key, pid, host)

"""The task cache: Flyte's key (project, domain, task, cache version, typed interface, inputs
minus cache_ignore_input_vars); a hit completes a node without Docker or MinIO."""
from __future__ import annotations

import hashlib

from flyteidl.core import literals_pb2
from sandbox.engine.literals import literal_map_digest


def is_cacheable(task_template) -> bool:
    return bool(task_template.metadata.discoverable)


def cache_key(project: str, domain: str, task_template, inputs: literals_pb2.LiteralMap) -> str:
    meta = task_template.metadata
    digest = hashlib.sha256()
    for part in (project, domain, task_template.id.name, meta.discovery_version):
        digest.update(part.encode() + b"\0")
    digest.update(task_template.interface.SerializeToString(deterministic=True))
    digest.update(literal_map_digest(inputs.literals, set(meta.cache_ignore_input_vars)).encode())
    return digest.hexdigest()


def lookup(store, key: str) -> literals_pb2.LiteralMap | None:
    data = store.cache_get(key)
    return literals_pb2.LiteralMap.FromString(data) if data is not None else None


def remember(store, key: str, project: str, domain: str, task_template,
             outputs: literals_pb2.LiteralMap, execution_id: str) -> None:
    store.cache_put(key, project, domain, task_template.id.name,
                    task_template.metadata.discovery_version, outputs.SerializeToString(),
                    execution_id)

"""The task cache: Flyte's key (project, domain, task, cache version, typed interface, inputs
minus cache_ignore_input_vars); a hit completes a node without Docker or MinIO."""
from __future__ import annotations

import hashlib

from flyteidl.core import literals_pb2
from sqlalchemy import delete, select

from sandbox.engine.literals import literal_map_digest
from sandbox.store.models import CacheEntry


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


def lookup(session, key: str) -> literals_pb2.LiteralMap | None:
    row = session.get(CacheEntry, key)
    return literals_pb2.LiteralMap.FromString(row.outputs) if row else None


def store(session, key: str, project: str, domain: str, task_template,
          outputs: literals_pb2.LiteralMap, execution_id: str) -> None:
    if session.get(CacheEntry, key) is None:
        session.add(CacheEntry(key=key, project=project, domain=domain,
                               task=task_template.id.name,
                               cache_version=task_template.metadata.discovery_version,
                               outputs=outputs.SerializeToString(), execution_id=execution_id))


def list_entries(session, task: str | None = None) -> list[CacheEntry]:
    query = select(CacheEntry).order_by(CacheEntry.created_at)
    if task:
        query = query.where(CacheEntry.task == task)
    return list(session.execute(query).scalars())


def clear(session, task: str | None = None) -> int:
    query = delete(CacheEntry)
    if task:
        query = query.where(CacheEntry.task == task)
    return session.execute(query).rowcount

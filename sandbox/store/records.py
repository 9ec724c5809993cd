"""Plain rows returned by the store (one field per column of sandbox.store.models)."""
from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass
class ExecutionRecord:
    id: str
    project: str
    domain: str
    launch_plan: str | None
    target_kind: int
    workflow: str
    version: str
    inputs: bytes
    outputs: bytes | None
    state: str
    error: str | None
    created_at: dt.datetime | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    engine_pid: int | None
    engine_host: str | None


@dataclasses.dataclass
class NodeRecord:
    id: int
    execution_id: str
    node_id: str
    task: str | None
    state: str
    attempt: int
    user_failures: int
    system_failures: int
    input_uri: str | None
    output_uri: str | None
    outputs: bytes | None
    error: str | None
    container_id: str | None
    logs: str | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration: float | None


@dataclasses.dataclass
class CacheRecord:
    key: str
    project: str
    domain: str
    task: str
    cache_version: str
    outputs: bytes
    execution_id: str | None
    created_at: dt.datetime | None


def columns(record_type) -> list[str]:
    return [f.name for f in dataclasses.fields(record_type)]


_DATETIME_FIELDS = {"created_at", "started_at", "ended_at"}


def from_row(record_type, row):
    values = dict(zip(columns(record_type), row))
    for name in _DATETIME_FIELDS & values.keys():
        if isinstance(values[name], str):
            values[name] = dt.datetime.fromisoformat(values[name])
    for name in ("inputs", "outputs"):
        if isinstance(values.get(name), memoryview):
            values[name] = bytes(values[name])
    return record_type(**values)

"""Plain rows returned by the store (one field per column of sandbox.store.models)."""
from __future__ import annotations

import datetime as dt

# A node in one of these states has its outputs stored and never runs again.
COMPLETED_STATES = ("succeeded", "cached")
# A node in one of these states has not ended: a terminate records it "aborted".
UNFINISHED_STATES = ("queued", "running", "retrying", "waiting")
# An execution in one of these states has ended (an interrupted one can still be resumed).
ENDED_EXECUTION_STATES = ("succeeded", "failed", "aborted")
# The executions list (CLI, admin, console) is newest first, optionally filtered by
# project/domain or state: these indexes keep a page cheap with many executions. Declared in
# sandbox.store.models, created on existing stores too (sandbox.store.db.create_tables).
EXECUTION_INDEXES = {
    "ix_executions_created_at": ("created_at",),
    "ix_executions_project_domain_created_at": ("project", "domain", "created_at"),
    "ix_executions_state_created_at": ("state", "created_at"),
}


class _Record:
    """A row: one attribute per column, given by keyword. Plain classes rather than dataclasses:
    building these three dataclasses cost every `skiff` start that touches the store ~1.7 ms.
    A subclass lists its columns as annotations and ends with `__slots__ = tuple(__annotations__)`
    (the class body's own annotations, in order)."""

    __slots__ = ()

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.pop(name))
        if values:
            raise TypeError(f"{type(self).__name__} has no columns {sorted(values)}")

    def __eq__(self, other):
        return type(other) is type(self) and all(
            getattr(self, n) == getattr(other, n) for n in self.__slots__)

    def __repr__(self):
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"


class ExecutionRecord(_Record):
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
    abort_cause: str | None
    __slots__ = tuple(__annotations__)


class NodeRecord(_Record):
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
    __slots__ = tuple(__annotations__)


class AttemptRecord(_Record):
    id: int
    execution_id: str
    node_id: str
    attempt: int
    state: str
    queued_at: dt.datetime | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    exit_code: int | None
    exit_status: str | None
    __slots__ = tuple(__annotations__)


class CacheRecord(_Record):
    key: str
    project: str
    domain: str
    task: str
    cache_version: str
    outputs: bytes
    execution_id: str | None
    created_at: dt.datetime | None
    __slots__ = tuple(__annotations__)


def columns(record_type) -> list[str]:
    return list(record_type.__slots__)


_DATETIME_FIELDS = {"created_at", "queued_at", "started_at", "ended_at"}


def from_row(record_type, row):
    values = dict(zip(columns(record_type), row))
    for name in _DATETIME_FIELDS & values.keys():
        if isinstance(values[name], str):
            values[name] = dt.datetime.fromisoformat(values[name])
    for name in ("inputs", "outputs"):
        if isinstance(values.get(name), memoryview):
            values[name] = bytes(values[name])
    return record_type(**values)

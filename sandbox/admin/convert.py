"""Mapping the engine's records to Flyte admin messages: phases, timestamps, identifiers."""
from __future__ import annotations

import datetime as dt

from flyteidl.core import execution_pb2, identifier_pb2
from google.protobuf import duration_pb2, timestamp_pb2

WorkflowPhase = execution_pb2.WorkflowExecution
NodePhase = execution_pb2.NodeExecution
TaskPhase = execution_pb2.TaskExecution

# The engine's execution states -> core.WorkflowExecution.Phase.
_EXECUTION_PHASES = {
    "queued": WorkflowPhase.QUEUED,
    "running": WorkflowPhase.RUNNING,
    "succeeded": WorkflowPhase.SUCCEEDED,
    "failed": WorkflowPhase.FAILED,
    "interrupted": WorkflowPhase.ABORTED,
    "aborted": WorkflowPhase.ABORTED,
}
_NODE_PHASES = {
    "queued": NodePhase.QUEUED,
    "running": NodePhase.RUNNING,
    "retrying": NodePhase.RUNNING,
    "waiting": NodePhase.RUNNING,
    "succeeded": NodePhase.SUCCEEDED,
    "cached": NodePhase.SUCCEEDED,
    "failed": NodePhase.FAILED,
    "skipped": NodePhase.SKIPPED,
    "aborted": NodePhase.ABORTED,
}
_TASK_PHASES = {
    "queued": TaskPhase.QUEUED,
    "running": TaskPhase.RUNNING,
    "retrying": TaskPhase.RUNNING,
    "waiting": TaskPhase.RUNNING,
    "succeeded": TaskPhase.SUCCEEDED,
    "cached": TaskPhase.SUCCEEDED,
    "failed": TaskPhase.FAILED,
    "aborted": TaskPhase.ABORTED,
}
TERMINAL_STATES = {"succeeded", "failed", "interrupted", "aborted"}


def execution_phase(state: str) -> int:
    return _EXECUTION_PHASES.get(state, WorkflowPhase.UNDEFINED)


def node_phase(state: str) -> int:
    return _NODE_PHASES.get(state, NodePhase.UNDEFINED)


def task_phase(state: str) -> int:
    return _TASK_PHASES.get(state, TaskPhase.UNDEFINED)


def as_datetime(value) -> dt.datetime | None:
    """A naive UTC datetime from the store; SQLite read through sqlite3 gives ISO text."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


def timestamp(value) -> timestamp_pb2.Timestamp | None:
    """A naive UTC datetime (or its ISO text) as a protobuf Timestamp (None stays None)."""
    value = as_datetime(value)
    if value is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value.replace(tzinfo=dt.timezone.utc))
    return stamp


def duration(start, end) -> duration_pb2.Duration | None:
    """From start to end (or to now while running); None before the start."""
    start, end = as_datetime(start), as_datetime(end)
    if start is None:
        return None
    span = duration_pb2.Duration()
    end = end or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    span.FromTimedelta(max(end - start, dt.timedelta(0)))
    return span


def execution_id(project: str, domain: str,
                 name: str) -> identifier_pb2.WorkflowExecutionIdentifier:
    return identifier_pb2.WorkflowExecutionIdentifier(project=project, domain=domain, name=name)


def describe_id(ident) -> str:
    """An identifier as flytectl prints it, for error messages."""
    parts = [ident.project, ident.domain, ident.name]
    if getattr(ident, "version", ""):
        parts.append(ident.version)
    return "/".join(parts)

"""Tables of the store. Specs and literals are kept as serialized flyteidl bytes."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sandbox.store.records import EXECUTION_INDEXES


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class RegisteredEntity(Base):
    """A task, workflow or launch plan spec under project/domain/name/version."""

    __tablename__ = "registered_entities"
    __table_args__ = (UniqueConstraint("resource_type", "project", "domain", "name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_type: Mapped[int] = mapped_column(Integer)  # core.ResourceType: 1 task, 2 wf, 3 lp
    project: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(512))
    version: Mapped[str] = mapped_column(String(255))
    spec: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Execution(Base):
    __tablename__ = "executions"
    __table_args__ = tuple(Index(name, *columns) for name, columns in EXECUTION_INDEXES.items())

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255))
    launch_plan: Mapped[str | None] = mapped_column(String(512), nullable=True)
    target_kind: Mapped[int] = mapped_column(Integer, default=2)  # 1 task, 2 workflow
    workflow: Mapped[str] = mapped_column(String(512))  # the workflow (or task) that runs
    version: Mapped[str] = mapped_column(String(255))
    inputs: Mapped[bytes] = mapped_column(LargeBinary)  # core.LiteralMap as launched
    outputs: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    state: Mapped[str] = mapped_column(String(32), default="queued")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # The engine process running it, so a second `resume` does not run nodes twice.
    engine_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    engine_host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # Set by a terminate (CLI, admin, console, Ctrl-C): the engine running the execution
    # watches it, stops the containers and records the nodes ABORTED.
    abort_cause: Mapped[str | None] = mapped_column(Text, nullable=True)


class NodeExecution(Base):
    __tablename__ = "node_executions"
    __table_args__ = (UniqueConstraint("execution_id", "node_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    node_id: Mapped[str] = mapped_column(String(255))
    task: Mapped[str | None] = mapped_column(String(512), nullable=True)
    # queued, running, cached, retrying, succeeded, failed
    state: Mapped[str] = mapped_column(String(32), default="queued")
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    user_failures: Mapped[int] = mapped_column(Integer, default=0)
    system_failures: Mapped[int] = mapped_column(Integer, default=0)
    input_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    output_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    outputs: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    container_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    logs: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)


class NodeAttempt(Base):
    """When each attempt of a task node ran and how it ended (the node row keeps only the
    last attempt's times): the console's timeline draws one bar per attempt from these."""

    __tablename__ = "node_attempts"
    __table_args__ = (UniqueConstraint("execution_id", "node_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    execution_id: Mapped[str] = mapped_column(ForeignKey("executions.id", ondelete="CASCADE"))
    node_id: Mapped[str] = mapped_column(String(255))
    attempt: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32))  # queued, running, succeeded, failed
    queued_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # How the attempt's container ended: its exit code (None without a container, or when
    # the runtime itself failed) and a short reason ("exit 1", "out of memory", "timed out
    # after 5s", "killed from outside", "aborted: ..."), for the console's node page.
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    exit_status: Mapped[str | None] = mapped_column(Text, nullable=True)


class CacheEntry(Base):
    __tablename__ = "cache_entries"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    project: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255))
    task: Mapped[str] = mapped_column(String(512))
    cache_version: Mapped[str] = mapped_column(String(255))
    outputs: Mapped[bytes] = mapped_column(LargeBinary)  # core.LiteralMap
    execution_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CacheReservation(Base):
    """Who is computing a cache_serializable task's result right now (others wait for it)."""

    __tablename__ = "cache_reservations"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner_pid: Mapped[int] = mapped_column(Integer)
    owner_host: Mapped[str] = mapped_column(String(255))
    node: Mapped[str] = mapped_column(String(512))  # "<execution>/<node>", for messages
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)

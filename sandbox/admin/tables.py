"""The admin server's own tables, beside the engine's store: projects, launch plan states,
execution requests, promotion and reproduction records.

Declared with SQLAlchemy (created by `init_admin_tables`), read and written with plain SQL
through the engine's `Store.db`, like the engine's own tables.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sandbox.store.repository import utcnow

DEFAULT_PROJECTS = ("default", "flytesnacks")
DEFAULT_DOMAINS = ("development", "staging", "production")


class AdminBase(DeclarativeBase):
    pass


class Project(AdminBase):
    __tablename__ = "admin_projects"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[int] = mapped_column(Integer, default=0)  # admin.Project.ProjectState
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LaunchPlanState(AdminBase):
    """ACTIVE (1) or INACTIVE (0) per launch plan version; one active version per name."""

    __tablename__ = "admin_launch_plan_states"
    __table_args__ = (UniqueConstraint("project", "domain", "name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project: Mapped[str] = mapped_column(String(255))
    domain: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(512))
    version: Mapped[str] = mapped_column(String(255))
    state: Mapped[int] = mapped_column(Integer, default=0)


class ExecutionRequest(AdminBase):
    """What a client asked for (admin.ExecutionSpec) and how it was ended, by execution id."""

    __tablename__ = "admin_executions"

    execution_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec: Mapped[bytes] = mapped_column(LargeBinary)
    runner_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    aborted_cause: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Promotion(AdminBase):
    __tablename__ = "admin_promotions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(512))
    version: Mapped[str] = mapped_column(String(255))
    from_domain: Mapped[str] = mapped_column(String(255))
    to_domain: Mapped[str] = mapped_column(String(255))
    admin_endpoint: Mapped[str] = mapped_column(String(512), default="")
    forced: Mapped[int] = mapped_column(Integer, default=0)
    evidence_execution: Mapped[str] = mapped_column(String(255), default="")
    entities: Mapped[str] = mapped_column(Text, default="")  # one "<kind>:<name>" per line
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Reproduction(AdminBase):
    __tablename__ = "admin_reproductions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(1024))  # the remote execution URL or id
    source_endpoint: Mapped[str] = mapped_column(String(512), default="")
    local_execution: Mapped[str] = mapped_column(String(64), default="")
    identical: Mapped[int] = mapped_column(Integer, default=0)
    diff: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


def init_admin_tables(database_url: str) -> None:
    """Create the admin tables (idempotent) and the projects every Flyte user expects."""
    from sqlalchemy import select

    from sandbox.store.db import get_engine

    engine = get_engine(database_url)
    AdminBase.metadata.create_all(engine)
    table = Project.__table__
    with engine.begin() as conn:
        for project in DEFAULT_PROJECTS:
            if conn.execute(select(table.c.id).where(table.c.id == project)).first() is None:
                conn.execute(Project.__table__.insert().values(
                    id=project, name=project, description="", state=0, created_at=utcnow()))

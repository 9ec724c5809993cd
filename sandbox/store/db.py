"""Engines and sessions for the store.

SQLite gets WAL mode and a busy timeout so two engine processes (two CLI invocations) can share
one file; any other SQLAlchemy URL (Postgres) is used as given.
"""
from __future__ import annotations

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from sandbox.store.models import Base

_BUSY_TIMEOUT_MS = 30_000
_engines: dict[str, Engine] = {}


def _tune_sqlite(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def get_engine(database_url: str) -> Engine:
    """One engine per URL per process (engines own connection pools)."""
    engine = _engines.get(database_url)
    if engine is None:
        if database_url.startswith("sqlite"):
            engine = create_engine(
                database_url,
                connect_args={"timeout": _BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            )
            event.listen(engine, "connect", _tune_sqlite)
        else:
            engine = create_engine(database_url, pool_pre_ping=True)
        _engines[database_url] = engine
    return engine


def create_tables(database_url: str) -> None:
    """Create the tables that do not exist yet, and add the columns and indexes a newer Skiff
    declares to existing ones (idempotent; columns are only ever added, all nullable, so
    nothing stored is touched)."""
    from sqlalchemy import inspect

    engine = get_engine(database_url)
    Base.metadata.create_all(engine)
    inspector = inspect(engine)
    with engine.begin() as conn:
        for table in Base.metadata.sorted_tables:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in have:
                    kind = column.type.compile(dialect=engine.dialect)
                    conn.exec_driver_sql(
                        f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}")
            indexed = {i["name"] for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in indexed:
                    index.create(conn, checkfirst=True)


def sessions(database_url: str) -> sessionmaker:
    """ORM sessions on the store, for tools that prefer the models to sandbox.store.Store."""
    create_tables(database_url)
    return sessionmaker(get_engine(database_url), expire_on_commit=False)

"""The sandbox's persistent store: registry, executions, node executions, cache.

Tables are declared with SQLAlchemy (sandbox.store.models) and created by `init_store`; reads
and writes go through `Store` (plain SQL over DB-API), which uses the standard library's
sqlite3 for SQLite URLs so a CLI command does not pay SQLAlchemy's import time.
"""
from __future__ import annotations

_initialised: set[str] = set()
_stores: dict = {}


def init_store(database_url: str) -> None:
    """Create the tables that do not exist yet (idempotent)."""
    from sandbox.store.db import create_tables

    create_tables(database_url)
    _initialised.add(database_url)


def open_store(database_url: str):
    """The Store on `database_url` (one per process), creating its tables the first time."""
    from sandbox.store.repository import Store

    store = _stores.get(database_url)
    if store is None:
        store = _stores[database_url] = Store(database_url)
    if database_url not in _initialised:
        if not (store.db.is_sqlite and _sqlite_is_current(store)):
            init_store(database_url)
        _initialised.add(database_url)
    return store


def _sqlite_is_current(store) -> bool:
    """All tables, every column of sandbox.store.records and the executions' indexes (cheap:
    no SQLAlchemy import)."""
    from sandbox.store.records import (
        EXECUTION_INDEXES, AttemptRecord, CacheRecord, ExecutionRecord, NodeRecord, columns,
    )

    for table, record in (("executions", ExecutionRecord), ("node_executions", NodeRecord),
                          ("cache_entries", CacheRecord), ("node_attempts", AttemptRecord)):
        have = {row[1] for row in store.db.query(f"PRAGMA table_info({table})")}
        if not set(columns(record)) <= have:
            return False
    kinds: dict[str, set[str]] = {"table": set(), "index": set()}
    for kind, name in store.db.query("SELECT type, name FROM sqlite_master WHERE type IN "
                                     "('table', 'index')"):
        kinds[kind].add(name)
    return ({"registered_entities", "cache_reservations", "node_attempts"} <= kinds["table"]
            and EXECUTION_INDEXES.keys() <= kinds["index"])


__all__ = ["init_store", "open_store"]

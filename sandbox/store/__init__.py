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


def store_is_current(database_url: str) -> bool:
    """True when `database_url` is an existing SQLite file whose tables are all current: then
    `init_store` has nothing to do, and `sandbox up` skips SQLAlchemy's import. False for any
    other URL or any doubt."""
    from pathlib import Path

    if not database_url.startswith("sqlite:///") or not Path(database_url[10:]).is_file():
        return False
    try:
        return _sqlite_is_current(_stores.get(database_url) or _new_store(database_url))
    except Exception:  # noqa: BLE001 - init_store will say what is wrong
        return False


def _new_store(database_url: str):
    from sandbox.store.repository import Store

    return Store(database_url)


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


__all__ = ["init_store", "open_store", "store_is_current"]

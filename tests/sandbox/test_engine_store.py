"""The store's reads and writes, through the standard library's sqlite3 and through a
SQLAlchemy engine (the path Postgres takes), against the same tables."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from sandbox.store import open_store
from sandbox.store.db import sessions
from sandbox.store.models import Execution, NodeExecution


@pytest.fixture(params=["sqlite:///", "sqlite+pysqlite:///"])
def store(request, tmp_path):
    return open_store(f"{request.param}{tmp_path / 'store.db'}")


def _execution(store, execution_id="e1"):
    with store.transaction() as cursor:
        store.add_execution(cursor, id=execution_id, project="p", domain="d", launch_plan=None,
                            target_kind=2, workflow="wf", version="v1", inputs=b"\x01in",
                            node_tasks={"n0": "t.a", "n1": "t.b"})


def test_entities_executions_nodes_round_trip(store):
    with store.transaction() as cursor:
        store.add_entity(cursor, 1, "p", "d", "t.a", "v1", b"spec-1")
        store.add_entity(cursor, 1, "p", "d", "t.a", "v2", b"spec-2")
    assert store.entity_spec(1, "p", "d", "t.a") == b"spec-2"  # latest
    assert store.entity_spec(1, "p", "d", "t.a", "v1") == b"spec-1"
    assert store.entity_specs("p", "d", "v1") == {(1, "t.a"): b"spec-1"}
    assert store.entity_spec(2, "p", "d", "t.a") is None

    _execution(store)
    execution = store.execution("e1")
    assert (execution.state, execution.inputs, execution.launch_plan) == ("queued", b"\x01in", None)
    assert isinstance(execution.created_at, dt.datetime)
    started = dt.datetime(2026, 1, 2, 3, 4, 5, 678901)
    store.update_execution("e1", state="running", started_at=started)
    assert store.execution("e1").started_at == started

    row = store.update_node("e1", "n1", state="succeeded", outputs=b"\x00out", duration=1.5)
    assert (row.node_id, row.task, row.state, row.outputs, row.duration) == (
        "n1", "t.b", "succeeded", b"\x00out", 1.5)
    assert [n.node_id for n in store.nodes("e1")] == ["n0", "n1"]
    assert store.ensure_node("e1", "n0-0", "t.a").state == "queued"
    assert store.ensure_node("e1", "n0-0", "t.x").task == "t.a"  # existing row kept


def test_rows_are_readable_through_the_sqlalchemy_models(store):
    _execution(store, "e2")
    store.update_node("e2", "n0", state="failed", error="boom")
    with sessions(store.url)() as session:
        assert session.get(Execution, "e2").workflow == "wf"
        errors = {n.node_id: n.error for n in session.query(NodeExecution).filter_by(
            execution_id="e2")}
    assert errors == {"n0": "boom", "n1": None}


def test_cache_first_writer_wins_and_clear_by_task(store):
    store.cache_put("k1", "p", "d", "t.a", "1", b"first", "e1")
    store.cache_put("k1", "p", "d", "t.a", "1", b"second", "e2")
    store.cache_put("k2", "p", "d", "t.b", "1", b"other", "e1")
    assert store.cache_get("k1") == b"first"
    assert [e.key for e in store.cache_entries("t.a")] == ["k1"]
    assert store.cache_clear("t.a") == 1
    assert store.cache_get("k1") is None and store.cache_get("k2") == b"other"


def test_claim_refuses_a_second_live_engine(store):
    _execution(store, "e3")
    store.update_execution("e3", state="running")
    assert store.claim_execution("e3", 111, "host", lambda pid: True) is None
    assert store.claim_execution("e3", 222, "host", lambda pid: True) == 111
    assert store.claim_execution("e3", 222, "host", lambda pid: False) is None  # 111 died


def test_concurrent_writers_wait_for_each_other(store):
    _execution(store, "e4")
    errors = []

    def bump(node_id):
        try:
            for attempt in range(30):
                store.update_node("e4", node_id, attempt=attempt)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(n,)) for n in ("n0", "n1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert {n.attempt for n in store.nodes("e4")} == {29}


def test_store_is_current_only_for_a_sqlite_store_with_every_table(tmp_path):
    """`sandbox up` skips creating the tables (and SQLAlchemy's import) only when this says so:
    it must say no for a missing file, another URL, and a store that lacks a table."""
    import sqlite3

    from sandbox.store import init_store, store_is_current

    url = f"sqlite:///{tmp_path / 'up.db'}"
    assert not store_is_current(url)
    assert not (tmp_path / "up.db").exists()  # asking does not create the file
    init_store(url)
    assert store_is_current(url)
    assert not store_is_current(f"sqlite+pysqlite:///{tmp_path / 'up.db'}")
    with sqlite3.connect(tmp_path / "up.db") as conn:
        conn.execute("DROP TABLE node_attempts")
    assert not store_is_current(url)
    init_store(url)
    assert store_is_current(url)

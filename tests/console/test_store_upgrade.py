"""A skiff.db written by an older Skiff (node_attempts without exit columns, executions without
the list's indexes) gains them when a newer Skiff opens it, with nothing stored lost; and the
exit status each attempt records reads as a user would want it."""
from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys

from sandbox.engine.attempt import SYSTEM, USER, AttemptOutcome, exit_status
from sandbox.runtime.container import ContainerRequest, ContainerResult
from sandbox.store import open_store
from sandbox.store.records import EXECUTION_INDEXES

_OPEN_AND_READ = """
import sys
from sandbox.store import open_store
store = open_store(sys.argv[1])
for a in store.attempts("e1"):
    print(a.node_id, a.attempt, a.state, a.exit_code, a.exit_status)
print(store.execution("e1").state, store.count_executions())
"""


def _make_old_store(path) -> None:
    """The current tables, then what this Skiff added taken away again (an older skiff.db)."""
    store = open_store(f"sqlite:///{path}")
    with store.transaction() as cursor:
        store.add_execution(cursor, id="e1", project="p", domain="d", launch_plan=None,
                            target_kind=2, workflow="wf", version="v1", inputs=b"in",
                            node_tasks={"n0": "t.a"})
    store.queue_attempt("e1", "n0", 0, dt.datetime(2026, 1, 1, 10, 0, 0))
    conn = sqlite3.connect(path)
    for name in EXECUTION_INDEXES:
        conn.execute(f"DROP INDEX {name}")
    conn.execute("ALTER TABLE node_attempts DROP COLUMN exit_code")
    conn.execute("ALTER TABLE node_attempts DROP COLUMN exit_status")
    conn.execute("UPDATE node_attempts SET state = 'failed'")
    conn.commit()
    conn.close()


def test_an_older_store_gains_exit_columns_and_indexes_and_keeps_its_rows(tmp_path):
    path = tmp_path / "skiff.db"
    _make_old_store(path)
    # A new process, as the next `skiff` command after an upgrade would be.
    opened = subprocess.run([sys.executable, "-c", _OPEN_AND_READ, f"sqlite:///{path}"],
                            capture_output=True, text=True, timeout=60)
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.splitlines() == ["n0 0 failed None None", "queued 1"]
    conn = sqlite3.connect(path)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(node_attempts)")}
    indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE "
                                              "type = 'index'")}
    # The list's query uses the new index instead of sorting every execution.
    plan = " ".join(str(row) for row in conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM executions ORDER BY created_at DESC LIMIT 50"))
    conn.close()
    assert {"exit_code", "exit_status"} <= columns
    assert EXECUTION_INDEXES.keys() <= indexes
    assert "ix_executions_created_at" in plan and "TEMP B-TREE" not in plan
    # The upgraded store records exit statuses.
    store = open_store(f"sqlite:///{path}")
    store.end_attempt("e1", "n0", 1, "failed", dt.datetime(2026, 1, 1, 10, 0, 5),
                      exit_code=137, exit_status="out of memory (OOM killed, exit 137)")
    second = [a for a in store.attempts("e1") if a.attempt == 1][0]
    assert (second.exit_code, second.exit_status) == (137, "out of memory (OOM killed, exit 137)")


def test_exit_status_names_how_the_container_ended():
    request = ContainerRequest(image="i", args=[], env={}, labels={}, timeout=5.0)

    def status(outcome=None, **result):
        result = ContainerResult(container_id="c", logs="", **{"exit_code": None, **result})
        return exit_status(result, outcome or AttemptOutcome(error_kind=USER), request)

    assert status(AttemptOutcome(outputs=object()), exit_code=0) == "exit 0"
    assert status(exit_code=1) == "user error, exit 1"
    assert status(exit_code=0) == "user error, exit 0"  # error.pb written, flytekit exits 0
    assert status(AttemptOutcome(error_kind=SYSTEM), exit_code=1) == "system error, exit 1"
    assert status(exit_code=137, oom_killed=True) == "out of memory (OOM killed, exit 137)"
    assert status(exit_code=137, timed_out=True) == "timed out after 5s (killed)"
    assert status(exit_code=137) == "killed (SIGKILL, exit 137)"
    assert status(exit_code=143) == "killed (SIGTERM, exit 143)"
    assert status(system_error="image skiff-x not found\nmore") == \
        "container runtime error: image skiff-x not found"

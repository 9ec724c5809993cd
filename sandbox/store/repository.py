"""Every read and write the engine and the CLI make, as plain SQL over sandbox.store.models'
tables. Each method is one transaction unless it takes a cursor from `transaction()`."""
from __future__ import annotations

import datetime as dt

from sandbox.store.connection import Database
from sandbox.store.records import (
    AttemptRecord, UNFINISHED_STATES, CacheRecord, ExecutionRecord, NodeRecord, columns,
    from_row,
)

_EXECUTION_COLUMNS = ", ".join(columns(ExecutionRecord))
_NODE_COLUMNS = ", ".join(columns(NodeRecord))
_CACHE_COLUMNS = ", ".join(columns(CacheRecord))
_ATTEMPT_COLUMNS = ", ".join(columns(AttemptRecord))
_NODE_FIELDS = set(columns(NodeRecord)) - {"id", "execution_id", "node_id"}
_EXECUTION_FIELDS = set(columns(ExecutionRecord)) - {"id"}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Store:
    def __init__(self, database_url: str):
        self.db = Database(database_url)
        self.url = database_url

    def transaction(self):
        return self.db.transaction()

    def integrity_error(self):
        return self.db.integrity_error()

    # ---- registry -------------------------------------------------------------------------

    def entity_specs(self, project: str, domain: str, version: str) -> dict[tuple[int, str], bytes]:
        rows = self.db.query(
            "SELECT resource_type, name, spec FROM registered_entities "
            "WHERE project = ? AND domain = ? AND version = ?", (project, domain, version))
        return {(kind, name): bytes(spec) for kind, name, spec in rows}

    def entity_spec(self, kind: int, project: str, domain: str, name: str,
                    version: str | None = None) -> bytes | None:
        """The spec of that version, or of the latest registered one when version is None."""
        sql = ("SELECT spec FROM registered_entities WHERE resource_type = ? AND project = ? "
               "AND domain = ? AND name = ?")
        params = [kind, project, domain, name]
        if version:
            sql += " AND version = ?"
            params.append(version)
        rows = self.db.query(sql + " ORDER BY id DESC LIMIT 1", params)
        return bytes(rows[0][0]) if rows else None

    @staticmethod
    def add_entity(cursor, kind: int, project: str, domain: str, name: str, version: str,
                   spec: bytes) -> None:
        cursor.execute(
            "INSERT INTO registered_entities (resource_type, project, domain, name, version, "
            "spec, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, project, domain, name, version, spec, utcnow()))

    # ---- executions -----------------------------------------------------------------------

    @staticmethod
    def add_execution(cursor, *, id, project, domain, launch_plan, target_kind, workflow,
                      version, inputs, node_tasks: dict[str, str]) -> None:
        now = utcnow()
        cursor.execute(
            "INSERT INTO executions (id, project, domain, launch_plan, target_kind, workflow, "
            "version, inputs, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
            (id, project, domain, launch_plan, target_kind, workflow, version, inputs, now))
        for node_id, task in node_tasks.items():
            cursor.execute(
                "INSERT INTO node_executions (execution_id, node_id, task, state, attempt, "
                "user_failures, system_failures) VALUES (?, ?, ?, 'queued', 0, 0, 0)",
                (id, node_id, task))

    @staticmethod
    def copy_node_result(cursor, execution_id: str, node: NodeRecord) -> None:
        """Give the (queued) node of `execution_id` the state and outputs `node` has in
        another execution: a recovered execution's completed nodes do not run again."""
        cursor.execute(
            "UPDATE node_executions SET state = ?, attempt = ?, outputs = ?, input_uri = ?, "
            "output_uri = ?, started_at = ?, ended_at = ?, duration = ?, logs = ? "
            "WHERE execution_id = ? AND node_id = ?",
            (node.state, node.attempt, node.outputs, node.input_uri, node.output_uri,
             node.started_at, node.ended_at, node.duration, node.logs, execution_id,
             node.node_id))

    def execution(self, execution_id: str) -> ExecutionRecord | None:
        rows = self.db.query(f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE id = ?",
                             (execution_id,))
        return from_row(ExecutionRecord, rows[0]) if rows else None

    def executions(self, limit: int) -> list[ExecutionRecord]:
        rows = self.db.query(f"SELECT {_EXECUTION_COLUMNS} FROM executions "
                             "ORDER BY created_at DESC LIMIT ?", (limit,))
        return [from_row(ExecutionRecord, r) for r in rows]

    def update_execution(self, execution_id: str, **fields) -> None:
        unknown = fields.keys() - _EXECUTION_FIELDS
        assert not unknown, f"not execution columns: {unknown}"
        names = list(fields)
        with self.transaction() as cursor:
            cursor.execute(f"UPDATE executions SET {', '.join(f'{n} = ?' for n in names)} "
                           "WHERE id = ?", [fields[n] for n in names] + [execution_id])

    def claim_execution(self, execution_id: str, pid: int, host: str, is_alive) -> int | None:
        """Record this process as the execution's engine; the pid of another live engine
        already running it (nothing changed), else None."""
        with self.transaction() as cursor:
            rows = cursor.execute("SELECT engine_pid, engine_host, state FROM executions "
                                  "WHERE id = ?", (execution_id,)).fetchall()
            owner, owner_host, state = rows[0]
            if (state in ("running", "queued") and owner and owner != pid
                    and owner_host == host and is_alive(owner)):
                return owner
            cursor.execute("UPDATE executions SET engine_pid = ?, engine_host = ? WHERE id = ?",
                           (pid, host, execution_id))
        return None

    def request_abort(self, execution_id: str, cause: str) -> None:
        """Ask the engine running the execution to stop it (it polls `abort_cause`)."""
        with self.transaction() as cursor:
            cursor.execute("UPDATE executions SET abort_cause = ? WHERE id = ?",
                           (cause, execution_id))

    def abort_cause(self, execution_id: str) -> str | None:
        rows = self.db.query("SELECT abort_cause FROM executions WHERE id = ?", (execution_id,))
        return rows[0][0] if rows else None

    def abort_unfinished_nodes(self, execution_id: str, cause: str,
                               ended_at: dt.datetime) -> int:
        """Record every node that has not ended as aborted; how many there were."""
        marks = ", ".join("?" for _ in UNFINISHED_STATES)
        with self.transaction() as cursor:
            return cursor.execute(
                "UPDATE node_executions SET state = 'aborted', error = ?, ended_at = ? "
                f"WHERE execution_id = ? AND state IN ({marks})",
                (f"aborted: {cause}", ended_at, execution_id, *UNFINISHED_STATES)).rowcount

    def count_executions(self) -> int:
        return self.db.query("SELECT COUNT(*) FROM executions")[0][0]

    # ---- node executions --------------------------------------------------------------------

    def nodes(self, execution_id: str) -> list[NodeRecord]:
        rows = self.db.query(f"SELECT {_NODE_COLUMNS} FROM node_executions "
                             "WHERE execution_id = ? ORDER BY id", (execution_id,))
        return [from_row(NodeRecord, r) for r in rows]

    def node(self, execution_id: str, node_id: str) -> NodeRecord | None:
        rows = self.db.query(f"SELECT {_NODE_COLUMNS} FROM node_executions "
                             "WHERE execution_id = ? AND node_id = ?", (execution_id, node_id))
        return from_row(NodeRecord, rows[0]) if rows else None

    def ensure_node(self, execution_id: str, node_id: str, task: str | None) -> NodeRecord:
        """The node's row, created queued when missing (sub-nodes of array nodes)."""
        row = self.node(execution_id, node_id)
        if row is not None:
            return row
        try:
            with self.transaction() as cursor:
                cursor.execute(
                    "INSERT INTO node_executions (execution_id, node_id, task, state, attempt, "
                    "user_failures, system_failures) VALUES (?, ?, ?, 'queued', 0, 0, 0)",
                    (execution_id, node_id, task))
        except self.integrity_error():
            pass  # created by a concurrent engine: use its row
        return self.node(execution_id, node_id)

    def update_node(self, execution_id: str, node_id: str, **fields) -> NodeRecord:
        """Commit the new values, then return the whole row as stored."""
        unknown = fields.keys() - _NODE_FIELDS
        assert not unknown, f"not node execution columns: {unknown}"
        names = list(fields)
        with self.transaction() as cursor:
            cursor.execute(
                f"UPDATE node_executions SET {', '.join(f'{n} = ?' for n in names)} "
                "WHERE execution_id = ? AND node_id = ?",
                [fields[n] for n in names] + [execution_id, node_id])
            rows = cursor.execute(f"SELECT {_NODE_COLUMNS} FROM node_executions "
                                  "WHERE execution_id = ? AND node_id = ?",
                                  (execution_id, node_id)).fetchall()
        return from_row(NodeRecord, rows[0])

    def append_node_logs(self, execution_id: str, node_id: str, text: str) -> None:
        """Add `text` to the end of the node's log (written while its container runs; the
        log only ever grows, so a reader's offset stays valid)."""
        with self.transaction() as cursor:
            cursor.execute("UPDATE node_executions SET logs = COALESCE(logs, '') || ? "
                           "WHERE execution_id = ? AND node_id = ?", (text, execution_id, node_id))

    def read_node_logs(self, execution_id: str, node_id: str,
                       offset: int = 0) -> tuple[str, str] | None:
        """(the node's log from character `offset` on, the node's state), or None when the
        execution has no such node."""
        rows = self.db.query("SELECT substr(COALESCE(logs, ''), ?), state FROM node_executions "
                             "WHERE execution_id = ? AND node_id = ?",
                             (max(offset, 0) + 1, execution_id, node_id))
        return (rows[0][0] or "", rows[0][1]) if rows else None

    # ---- attempts of task nodes ------------------------------------------------------------

    def queue_attempt(self, execution_id: str, node_id: str, attempt: int,
                      queued_at: dt.datetime) -> None:
        """Record that an attempt is being set up (inputs, container); kept as it was when
        a resumed engine sets it up again."""
        try:
            with self.transaction() as cursor:
                cursor.execute(
                    "INSERT INTO node_attempts (execution_id, node_id, attempt, state, "
                    "queued_at) VALUES (?, ?, ?, 'queued', ?)",
                    (execution_id, node_id, attempt, queued_at))
        except self.integrity_error():
            pass

    def start_attempt(self, execution_id: str, node_id: str, attempt: int,
                      started_at: dt.datetime) -> None:
        """Record that an attempt's container runs."""
        with self.transaction() as cursor:
            updated = cursor.execute(
                "UPDATE node_attempts SET state = 'running', started_at = ? WHERE "
                "execution_id = ? AND node_id = ? AND attempt = ? AND started_at IS NULL",
                (started_at, execution_id, node_id, attempt)).rowcount
            exists = updated or cursor.execute(
                "SELECT 1 FROM node_attempts WHERE execution_id = ? AND node_id = ? AND "
                "attempt = ?", (execution_id, node_id, attempt)).fetchall()
            if not exists:
                cursor.execute(
                    "INSERT INTO node_attempts (execution_id, node_id, attempt, state, "
                    "started_at) VALUES (?, ?, ?, 'running', ?)",
                    (execution_id, node_id, attempt, started_at))

    def end_attempt(self, execution_id: str, node_id: str, attempt: int, state: str,
                    ended_at: dt.datetime, started_at: dt.datetime | None = None, *,
                    exit_code: int | None = None, exit_status: str | None = None) -> None:
        """Record how an attempt ended (one that never got a container counts from when it
        was queued): its state, the container's exit code and a short reason.
        `started_at` stands in for an attempt this process did not start (an adopted
        container)."""
        with self.transaction() as cursor:
            updated = cursor.execute(
                "UPDATE node_attempts SET state = ?, ended_at = ?, started_at = "
                "COALESCE(started_at, queued_at), exit_code = ?, exit_status = ? WHERE "
                "execution_id = ? AND node_id = ? AND attempt = ?",
                (state, ended_at, exit_code, exit_status, execution_id, node_id,
                 attempt)).rowcount
            if not updated:
                cursor.execute(
                    "INSERT INTO node_attempts (execution_id, node_id, attempt, state, "
                    "started_at, ended_at, exit_code, exit_status) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (execution_id, node_id, attempt, state, started_at or ended_at, ended_at,
                     exit_code, exit_status))

    def attempts(self, execution_id: str) -> list[AttemptRecord]:
        rows = self.db.query(f"SELECT {_ATTEMPT_COLUMNS} FROM node_attempts WHERE "
                             "execution_id = ? ORDER BY node_id, attempt", (execution_id,))
        return [from_row(AttemptRecord, r) for r in rows]

    # ---- cache ------------------------------------------------------------------------------

    def cache_get(self, key: str) -> bytes | None:
        rows = self.db.query("SELECT outputs FROM cache_entries WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    def cache_put(self, key: str, project: str, domain: str, task: str, cache_version: str,
                  outputs: bytes, execution_id: str, overwrite: bool = False) -> None:
        """Keep the first result written under a key (a concurrent writer's is equal), or with
        overwrite replace it (an execution run with overwrite_cache)."""
        try:
            with self.transaction() as cursor:
                if overwrite:
                    cursor.execute("DELETE FROM cache_entries WHERE key = ?", (key,))
                cursor.execute(
                    "INSERT INTO cache_entries (key, project, domain, task, cache_version, "
                    "outputs, execution_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (key, project, domain, task, cache_version, outputs, execution_id,
                     utcnow()))
        except self.integrity_error():
            pass

    def reserve_cache_key(self, key: str, pid: int, host: str, node: str,
                          expires_at: dt.datetime, is_alive) -> bool:
        """Take the reservation of `key` unless another live engine holds an unexpired one."""
        with self.transaction() as cursor:
            rows = cursor.execute("SELECT owner_pid, owner_host, expires_at FROM "
                                  "cache_reservations WHERE key = ?", (key,)).fetchall()
            if rows:
                pid_, host_, expires = rows[0]
                if isinstance(expires, str):
                    expires = dt.datetime.fromisoformat(expires)
                held = expires > utcnow() and not (host_ == host and not is_alive(pid_))
                if held and (pid_, host_) != (pid, host):
                    return False
                cursor.execute("DELETE FROM cache_reservations WHERE key = ?", (key,))
            cursor.execute("INSERT INTO cache_reservations (key, owner_pid, owner_host, node, "
                           "expires_at) VALUES (?, ?, ?, ?, ?)",
                           (key, pid, host, node, expires_at))
        return True

    def release_cache_key(self, key: str, pid: int, host: str) -> None:
        with self.transaction() as cursor:
            cursor.execute("DELETE FROM cache_reservations WHERE key = ? AND owner_pid = ? AND "
                           "owner_host = ?", (key, pid, host))

    def cache_entries(self, task: str | None = None) -> list[CacheRecord]:
        sql = f"SELECT {_CACHE_COLUMNS} FROM cache_entries"
        params = []
        if task:
            sql += " WHERE task = ?"
            params.append(task)
        return [from_row(CacheRecord, r) for r in self.db.query(sql + " ORDER BY created_at",
                                                                 params)]

    def cache_clear(self, task: str | None = None) -> int:
        with self.transaction() as cursor:
            if task:
                return cursor.execute("DELETE FROM cache_entries WHERE task = ?",
                                      (task,)).rowcount
            return cursor.execute("DELETE FROM cache_entries").rowcount


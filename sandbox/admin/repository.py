"""Plain SQL over the admin tables (sandbox.admin.tables) and listings of the engine's registry."""
from __future__ import annotations

import dataclasses

from sandbox.store.repository import utcnow  # plain SQL readers need no SQLAlchemy for it


@dataclasses.dataclass
class EntityRow:
    kind: int
    project: str
    domain: str
    name: str
    version: str
    spec: bytes
    created_at: object


class AdminRepository:
    """Reads and writes of the admin's own tables, on the engine's Store connection."""

    def __init__(self, store):
        self.store = store
        self.db = store.db

    # ---- projects ------------------------------------------------------------------------

    def projects(self) -> list[tuple[str, str, str, int]]:
        return self.db.query("SELECT id, name, description, state FROM admin_projects ORDER BY id")

    def project(self, project_id: str):
        rows = self.db.query("SELECT id, name, description, state FROM admin_projects "
                             "WHERE id = ?", (project_id,))
        return rows[0] if rows else None

    def add_project(self, project_id: str, name: str, description: str) -> bool:
        """Add a project; False when it already exists."""
        try:
            with self.store.transaction() as cursor:
                cursor.execute("INSERT INTO admin_projects (id, name, description, state, "
                               "created_at) VALUES (?, ?, ?, 0, ?)",
                               (project_id, name or project_id, description, utcnow()))
        except self.store.integrity_error():
            return False
        return True

    def update_project(self, project_id: str, name: str, description: str, state: int) -> None:
        with self.store.transaction() as cursor:
            cursor.execute("UPDATE admin_projects SET name = ?, description = ?, state = ? "
                           "WHERE id = ?", (name or project_id, description, state, project_id))

    # ---- registered entities ---------------------------------------------------------------

    def entities(self, kind: int, project: str, domain: str, name: str = "",
                 version: str = "") -> list[EntityRow]:
        """Registered entities of one kind, newest first; name and version narrow the list."""
        sql = ("SELECT resource_type, project, domain, name, version, spec, created_at FROM "
               "registered_entities WHERE resource_type = ? AND project = ? AND domain = ?")
        params: list = [kind, project, domain]
        if name:
            sql += " AND name = ?"
            params.append(name)
        if version:
            sql += " AND version = ?"
            params.append(version)
        rows = self.db.query(sql + " ORDER BY id DESC", params)
        return [EntityRow(r[0], r[1], r[2], r[3], r[4], bytes(r[5]), r[6]) for r in rows]

    def created_at(self, kind: int, project: str, domain: str, name: str, version: str):
        rows = self.db.query("SELECT created_at FROM registered_entities WHERE resource_type = ? "
                             "AND project = ? AND domain = ? AND name = ? AND version = ?",
                             (kind, project, domain, name, version))
        return rows[0][0] if rows else None

    # ---- launch plan states ----------------------------------------------------------------

    def launch_plan_state(self, project: str, domain: str, name: str, version: str) -> int:
        rows = self.db.query("SELECT state FROM admin_launch_plan_states WHERE project = ? AND "
                             "domain = ? AND name = ? AND version = ?",
                             (project, domain, name, version))
        return rows[0][0] if rows else 0

    def active_launch_plan_version(self, project: str, domain: str, name: str) -> str | None:
        rows = self.db.query("SELECT version FROM admin_launch_plan_states WHERE project = ? AND "
                             "domain = ? AND name = ? AND state = 1", (project, domain, name))
        return rows[0][0] if rows else None

    def set_launch_plan_state(self, project: str, domain: str, name: str, version: str,
                              state: int) -> None:
        """Activating one version deactivates the others of the same name, as in Flyte."""
        with self.store.transaction() as cursor:
            if state == 1:
                cursor.execute("UPDATE admin_launch_plan_states SET state = 0 WHERE project = ? "
                               "AND domain = ? AND name = ?", (project, domain, name))
            cursor.execute("DELETE FROM admin_launch_plan_states WHERE project = ? AND "
                           "domain = ? AND name = ? AND version = ?",
                           (project, domain, name, version))
            cursor.execute("INSERT INTO admin_launch_plan_states (project, domain, name, "
                           "version, state) VALUES (?, ?, ?, ?, ?)",
                           (project, domain, name, version, state))

    # ---- execution requests -----------------------------------------------------------------

    def add_execution_request(self, execution_id: str, spec: bytes) -> None:
        with self.store.transaction() as cursor:
            cursor.execute("INSERT INTO admin_executions (execution_id, spec, created_at) "
                           "VALUES (?, ?, ?)", (execution_id, spec, utcnow()))

    def execution_request(self, execution_id: str):
        """(spec bytes, runner pid, aborted cause) or None for an execution not made here."""
        rows = self.db.query("SELECT spec, runner_pid, aborted_cause FROM admin_executions "
                             "WHERE execution_id = ?", (execution_id,))
        return (bytes(rows[0][0]), rows[0][1], rows[0][2]) if rows else None

    def set_runner(self, execution_id: str, pid: int) -> None:
        with self.store.transaction() as cursor:
            cursor.execute("UPDATE admin_executions SET runner_pid = ? WHERE execution_id = ?",
                           (pid, execution_id))

    def set_aborted(self, execution_id: str, cause: str) -> None:
        with self.store.transaction() as cursor:
            updated = cursor.execute("UPDATE admin_executions SET aborted_cause = ? WHERE "
                                     "execution_id = ?", (cause, execution_id)).rowcount
            if not updated:
                cursor.execute("INSERT INTO admin_executions (execution_id, spec, "
                               "aborted_cause, created_at) VALUES (?, ?, ?, ?)",
                               (execution_id, b"", cause, utcnow()))

    def executions(self, project: str, domain: str) -> list[str]:
        rows = self.db.query("SELECT id FROM executions WHERE project = ? AND domain = ? "
                             "ORDER BY created_at DESC", (project, domain))
        return [r[0] for r in rows]

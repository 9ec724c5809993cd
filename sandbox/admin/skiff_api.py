"""Skiff's own API (skiff.sandbox.v1.SandboxService): watch executions, stream node logs,
manage the cache, and keep promotion and reproduction records."""
from __future__ import annotations

import time

import grpc

from sandbox.admin import convert
from sandbox.admin.errors import AdminError, invalid, not_found, rpc, status_message
from sandbox.admin.gen import sandbox_pb2, sandbox_pb2_grpc
from sandbox.admin.tables import utcnow
from sandbox.engine.live_logs import read_node_log

DEFAULT_POLL_S = 0.2
TERMINAL_NODE_STATES = {"succeeded", "cached", "failed", "aborted", "skipped"}


def add_to_server(service, server) -> None:
    sandbox_pb2_grpc.add_SandboxServiceServicer_to_server(service, server)


def _abort(context, error: Exception) -> None:
    """End a stream with the status an AdminError carries (INTERNAL otherwise)."""
    context.abort(getattr(error, "code", grpc.StatusCode.INTERNAL), status_message(error))


class SkiffSandboxService(sandbox_pb2_grpc.SandboxServiceServicer):
    def __init__(self, state, store, admin):
        self.state = state
        self.store = store
        self.admin = admin
        self.db = store.db

    def _execution(self, execution_id: str):
        record = self.store.execution(execution_id)
        if record is None:
            raise not_found(f"execution {execution_id!r} does not exist; see "
                            "`skiff executions list`")
        return record

    # ---- watching --------------------------------------------------------------------------

    def WatchExecution(self, request, context):
        try:
            self._execution(request.execution_id)
        except AdminError as error:
            _abort(context, error)
        poll = request.poll_interval_seconds or DEFAULT_POLL_S
        seen: dict[str, tuple] = {}
        last = None  # the last change sent
        while context.is_active():
            record = self.store.execution(request.execution_id)
            for node in self.store.nodes(request.execution_id):
                key = (node.state, node.attempt, node.error)
                if seen.get(node.node_id) == key:
                    continue
                seen[node.node_id] = key
                last = sandbox_pb2.NodeStateChange(
                    execution_id=record.id, node_id=node.node_id, task=node.task or "",
                    state=node.state, attempt=node.attempt, error=node.error or "",
                    execution_state=record.state, observed_at=convert.timestamp(utcnow()))
                yield last
            if record.state in convert.TERMINAL_STATES:
                # The execution ended after its nodes' last changes were sent: the final
                # message must still carry its end state.
                if last is not None and last.execution_state != record.state:
                    last.execution_state = record.state
                    last.observed_at.CopyFrom(convert.timestamp(utcnow()))
                    yield last
                return
            time.sleep(poll)

    def StreamNodeLogs(self, request, context):
        try:
            self._execution(request.execution_id)
            if self.store.node(request.execution_id, request.node_id) is None:
                raise not_found(f"node {request.node_id!r} of execution "
                                f"{request.execution_id} does not exist")
        except AdminError as error:
            _abort(context, error)
        # The engine stores output while the container runs (sandbox.engine.live_logs) and
        # only appends: read on from where the last chunk ended.
        sent = 0
        while context.is_active():
            text, state = read_node_log(self.store, request.execution_id, request.node_id,
                                        sent)
            if text:
                yield sandbox_pb2.LogChunk(text=text)
                sent += len(text)
            if not request.follow or state in TERMINAL_NODE_STATES:
                if request.follow:  # lines stored just before it ended
                    text, _ = read_node_log(self.store, request.execution_id,
                                            request.node_id, sent)
                    if text:
                        yield sandbox_pb2.LogChunk(text=text)
                return
            if self.store.execution(request.execution_id).state in convert.TERMINAL_STATES:
                return
            time.sleep(DEFAULT_POLL_S)

    # ---- cache ----------------------------------------------------------------------------

    @rpc
    def ListCacheEntries(self, request, context):
        entries = [sandbox_pb2.CacheEntry(
            key=e.key, project=e.project, domain=e.domain, task=e.task,
            cache_version=e.cache_version, execution_id=e.execution_id or "",
            created_at=convert.timestamp(e.created_at))
            for e in self.store.cache_entries(request.task or None)]
        return sandbox_pb2.ListCacheEntriesResponse(entries=entries)

    @rpc
    def ClearCache(self, request, context):
        # An empty request must not wipe everything: the caller names a task or says `all`.
        if bool(request.task) == request.all:
            raise invalid("ClearCache needs exactly one target: `task` (a task name) or "
                          "`all: true` for every task's entries")
        return sandbox_pb2.ClearCacheResponse(removed=self.store.cache_clear(request.task or None))

    # ---- promotions -------------------------------------------------------------------------

    @rpc
    def CreatePromotion(self, request, context):
        p = request.promotion
        for field in ("project", "name", "version", "from_domain", "to_domain"):
            if not getattr(p, field):
                raise invalid(f"a promotion record needs {field}")
        if not p.forced and not p.evidence_execution:
            raise invalid(f"promotion of {p.name} {p.version}: give the succeeded execution "
                          "that allows it (evidence_execution), or mark it forced")
        now = utcnow()
        with self.store.transaction() as cursor:
            cursor.execute(
                "INSERT INTO admin_promotions (project, name, version, from_domain, to_domain, "
                "admin_endpoint, forced, evidence_execution, entities, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (p.project, p.name, p.version, p.from_domain, p.to_domain, p.admin_endpoint,
                 int(p.forced), p.evidence_execution, "\n".join(p.entities), now))
            # Read inside the write transaction: the row just inserted, not a concurrent one.
            new_id = cursor.execute("SELECT MAX(id) FROM admin_promotions").fetchall()[0][0]
        return self._list_promotions(record_id=new_id)[0]

    def _list_promotions(self, project: str = "", name: str = "", record_id: int | None = None):
        sql = ("SELECT id, project, name, version, from_domain, to_domain, admin_endpoint, "
               "forced, evidence_execution, entities, created_at FROM admin_promotions WHERE 1 = 1")
        params: list = []
        if project:
            sql += " AND project = ?"
            params.append(project)
        if name:
            sql += " AND name = ?"
            params.append(name)
        if record_id is not None:
            sql += " AND id = ?"
            params.append(record_id)
        sql += " ORDER BY id DESC"
        return [sandbox_pb2.PromotionRecord(
            id=r[0], project=r[1], name=r[2], version=r[3], from_domain=r[4], to_domain=r[5],
            admin_endpoint=r[6], forced=bool(r[7]), evidence_execution=r[8],
            entities=[e for e in (r[9] or "").split("\n") if e],
            created_at=convert.timestamp(r[10])) for r in self.db.query(sql, params)]

    @rpc
    def ListPromotions(self, request, context):
        return sandbox_pb2.ListPromotionsResponse(
            promotions=self._list_promotions(request.project, request.name))

    # ---- reproductions ----------------------------------------------------------------------

    @rpc
    def CreateReproduction(self, request, context):
        r = request.reproduction
        if not r.source:
            raise invalid("a reproduction record needs the source execution")
        with self.store.transaction() as cursor:
            cursor.execute(
                "INSERT INTO admin_reproductions (source, source_endpoint, local_execution, "
                "identical, diff, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (r.source, r.source_endpoint, r.local_execution, int(r.identical), r.diff,
                 utcnow()))
            new_id = cursor.execute("SELECT MAX(id) FROM admin_reproductions").fetchall()[0][0]
        return self._list_reproductions(record_id=new_id)[0]

    def _list_reproductions(self, record_id: int | None = None):
        sql = ("SELECT id, source, source_endpoint, local_execution, identical, diff, created_at "
               "FROM admin_reproductions")
        params: list = []
        if record_id is not None:
            sql += " WHERE id = ?"
            params.append(record_id)
        return [sandbox_pb2.ReproductionRecord(
            id=r[0], source=r[1], source_endpoint=r[2], local_execution=r[3],
            identical=bool(r[4]), diff=r[5], created_at=convert.timestamp(r[6]))
            for r in self.db.query(sql + " ORDER BY id DESC", params)]

    @rpc
    def ListReproductions(self, request, context):
        return sandbox_pb2.ListReproductionsResponse(reproductions=self._list_reproductions())

"""Read-only data for the console's pages, as JSON-friendly dicts, from the store (and the
admin's own tables) — never from user code."""
from __future__ import annotations

import datetime as dt
import re

from flyteidl.admin import execution_pb2
from flyteidl.core import literals_pb2

from sandbox.console.graph import GraphBuilder, task_interface
from sandbox.console.uploads import MAX_UPLOAD_BYTES
from sandbox.console.values import parse_map, typed_values
from sandbox.registry import LAUNCH_PLAN, TASK, WORKFLOW, EntityNotFound, get_spec
from sandbox.store.repository import utcnow

STATES = ("queued", "running", "succeeded", "failed", "aborted", "interrupted")
MAX_PAGE = 200
_ATTEMPT_HEADER = re.compile(r"^--- attempt (\d+) ---$", re.M)
KIND_NAMES = {TASK: "task", WORKFLOW: "workflow", LAUNCH_PLAN: "launch plan"}


class NotFound(Exception):
    """A page or object that does not exist (HTTP 404)."""


def iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.timezone.utc).isoformat(timespec="milliseconds")


def _seconds(start, end) -> float | None:
    if start is None:
        return None
    if isinstance(start, str):
        start = dt.datetime.fromisoformat(start)
    if isinstance(end, str):
        end = dt.datetime.fromisoformat(end)
    return round(((end or utcnow()) - start).total_seconds(), 3)


# ---- executions list -------------------------------------------------------------------------

def list_executions(store, project="", domain="", state="", workflow="", page=1,
                    size=50) -> dict:
    where, params = [], []
    for column, value in (("project", project), ("domain", domain), ("state", state)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if workflow:
        where.append("(workflow LIKE ? OR launch_plan LIKE ?)")
        params += [f"%{workflow}%"] * 2
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    size = max(1, min(int(size), MAX_PAGE))
    page = max(1, int(page))
    total = store.db.query(f"SELECT COUNT(*) FROM executions{clause}", params)[0][0]
    rows = store.db.query(
        "SELECT id, project, domain, launch_plan, workflow, version, state, created_at, "
        f"started_at, ended_at, error FROM executions{clause} ORDER BY created_at DESC, id "
        "LIMIT ? OFFSET ?", params + [size, (page - 1) * size])
    items = [{"id": r[0], "project": r[1], "domain": r[2], "launch_plan": r[3],
              "workflow": r[4], "version": r[5], "state": r[6], "created": iso(r[7]),
              "started": iso(r[8]), "ended": iso(r[9]), "duration": _seconds(r[8], r[9]),
              "error": (r[10] or "").splitlines()[0][:200] if r[10] else None} for r in rows]
    return {"items": items, "total": total, "page": page, "size": size,
            "pages": max(1, -(-total // size))}


def projects(store) -> list[dict]:
    from sandbox.admin.tables import DEFAULT_DOMAINS

    try:
        rows = store.db.query("SELECT id, description FROM admin_projects ORDER BY id")
    except Exception:  # noqa: BLE001 - the admin tables are created by `sandbox up`
        rows = [("default", ""), ("flytesnacks", "")]
    return [{"id": r[0], "description": r[1] or "", "domains": list(DEFAULT_DOMAINS)}
            for r in rows]


# ---- one execution ---------------------------------------------------------------------------

def _execution(store, execution_id: str):
    record = store.execution(execution_id)
    if record is None:
        raise NotFound(f"execution {execution_id!r} does not exist")
    return record


def _interface(store, record):
    if record.target_kind == TASK:
        return task_interface(store, record.project, record.domain, record.workflow,
                              record.version)
    try:
        spec = get_spec(store, WORKFLOW, record.project, record.domain, record.workflow,
                        record.version)
    except EntityNotFound:
        return None
    return spec.template.interface


def _request(store, execution_id: str) -> tuple[execution_pb2.ExecutionSpec | None, str | None]:
    try:
        rows = store.db.query("SELECT spec, aborted_cause FROM admin_executions WHERE "
                              "execution_id = ?", (execution_id,))
    except Exception:  # noqa: BLE001 - no admin tables in this store
        return None, None
    if not rows:
        return None, None
    spec = execution_pb2.ExecutionSpec.FromString(bytes(rows[0][0] or b""))
    return spec, rows[0][1]


def execution_detail(store, execution_id: str, full: bool = False) -> dict:
    record = _execution(store, execution_id)
    interface = _interface(store, record)
    inputs_vars = dict(interface.inputs.variables) if interface is not None else None
    outputs_vars = dict(interface.outputs.variables) if interface is not None else None
    spec, aborted = _request(store, execution_id)
    mode = reference = None
    if spec is not None and spec.metadata.mode:
        mode = execution_pb2.ExecutionMetadata.ExecutionMode.Name(spec.metadata.mode).lower()
        reference = spec.metadata.reference_execution.name or None
    try:
        graph = GraphBuilder(store, record.project, record.domain).for_execution(record)
    except EntityNotFound as exc:
        graph = {"nodes": [], "edges": [], "error": str(exc)}
    return {
        "id": record.id, "project": record.project, "domain": record.domain,
        "launch_plan": record.launch_plan, "workflow": record.workflow,
        "kind": KIND_NAMES.get(record.target_kind, "workflow"), "version": record.version,
        "state": record.state, "error": record.error, "aborted_cause": aborted,
        "created": iso(record.created_at), "started": iso(record.started_at),
        "ended": iso(record.ended_at), "duration": _seconds(record.started_at, record.ended_at),
        "mode": mode, "reference_execution": reference,
        "inputs": typed_values(parse_map(record.inputs), inputs_vars, full),
        "outputs": typed_values(parse_map(record.outputs), outputs_vars, full),
        "graph": graph,
    }


def node_states(store, execution_id: str) -> dict:
    """The execution's state and every node row's, for the live DAG and timeline."""
    record = _execution(store, execution_id)
    rows = store.nodes(execution_id)
    attempts = node_attempts(store, execution_id)
    nodes = {}
    for row in rows:
        nodes[row.node_id] = {
            "state": row.state, "attempt": row.attempt, "task": row.task,
            "started": iso(row.started_at), "ended": iso(row.ended_at),
            "duration": _seconds(row.started_at, row.ended_at) if row.started_at else None,
            "error": (row.error or "").splitlines()[0][:300] if row.error else None,
            "attempts": attempts.get(row.node_id) or _fallback_attempts(row),
        }
    return {"state": record.state, "error": record.error, "started": iso(record.started_at),
            "ended": iso(record.ended_at), "created": iso(record.created_at),
            "now": iso(utcnow()), "nodes": nodes}


def _fallback_attempts(row) -> list[dict]:
    """Without per-attempt records: one bar for the last attempt (earlier ones have no times)."""
    if row.started_at is None:
        return []
    return [{"attempt": row.attempt, "state": row.state, "started": iso(row.started_at),
             "ended": iso(row.ended_at)}]


def node_attempts(store, execution_id: str) -> dict[str, list[dict]]:
    """node id -> [{attempt, state, queued, started, ended, exit_code, exit_status}] from the
    store's attempt records."""
    reader = getattr(store, "attempts", None)
    if reader is None:
        return {}
    found: dict[str, list[dict]] = {}
    for item in reader(execution_id):
        found.setdefault(item.node_id, []).append({
            "attempt": item.attempt, "state": item.state, "queued": iso(item.queued_at),
            "started": iso(item.started_at), "ended": iso(item.ended_at),
            "exit_code": item.exit_code, "exit_status": item.exit_status})
    return found


# ---- one node --------------------------------------------------------------------------------

def _plan_node(store, record, node_id: str):
    """(inlined node, task template with overrides) from the engine's own plan, or Nones."""
    from sandbox.engine.launch import load_plan
    from sandbox.engine.overrides import effective_task

    try:
        plan = load_plan(store, record)
    except Exception:  # noqa: BLE001 - an unregistered spec: show what the row has
        return None, None
    node = plan.nodes.get(node_id)
    if node is None or node.WhichOneof("target") != "task_node":
        return node, None
    return node, effective_task(plan.task_for(node), node)


def _cache_info(store, objects, record, row, template) -> dict | None:
    from sandbox.engine import cache

    if template is None or not cache.is_cacheable(template):
        return {"cacheable": False} if template is not None else None
    info = {"cacheable": True, "version": template.metadata.discovery_version,
            "hit": row.state == "cached", "key": None, "stored": False}
    inputs = _node_inputs(objects, row)
    if inputs is not None:
        info["key"] = cache.cache_key(record.project, record.domain, template, inputs)
    elif row.outputs is not None:  # a hit wrote no inputs.pb: find the entry it came from
        for entry in store.cache_entries(template.id.name):
            if entry.outputs == row.outputs:
                info["key"] = entry.key
                break
    if info["key"]:
        info["stored"] = store.cache_get(info["key"]) is not None
    return info


def _node_inputs(objects, row) -> literals_pb2.LiteralMap | None:
    if not row.input_uri or objects is None:
        return None
    try:
        data = objects.get_bytes(row.input_uri)
    except Exception:  # noqa: BLE001 - MinIO down: the page shows no inputs
        return None
    return None if data is None else literals_pb2.LiteralMap.FromString(data)


def node_detail(store, objects, execution_id: str, node_id: str, full: bool = False) -> dict:
    record = _execution(store, execution_id)
    row = store.node(execution_id, node_id)
    if row is None:
        raise NotFound(f"execution {execution_id} has no node {node_id!r}")
    node, template = _plan_node(store, record, node_id)
    interface = template.interface if template is not None else None
    if interface is None and row.task:
        interface = task_interface(store, record.project, record.domain, row.task, None)
    in_vars = dict(interface.inputs.variables) if interface is not None else None
    out_vars = dict(interface.outputs.variables) if interface is not None else None
    children = [{"id": r.node_id, "state": r.state, "task": r.task, "attempt": r.attempt,
                 "duration": _seconds(r.started_at, r.ended_at) if r.started_at else None}
                for r in store.nodes(execution_id) if r.node_id.startswith(node_id + "-")]
    gate = None
    if node is not None and node.WhichOneof("target") == "gate_node":
        condition = node.gate_node.WhichOneof("condition")
        gate = {"kind": condition}
        if condition == "signal":
            from sandbox.console.values import type_name

            gate.update(signal_id=node.gate_node.signal.signal_id,
                        type=type_name(node.gate_node.signal.type))
        elif condition == "approve":
            gate["signal_id"] = node.gate_node.approve.signal_id
    return {
        "execution": execution_id, "execution_state": record.state, "id": node_id,
        "task": row.task, "state": row.state, "attempt": row.attempt,
        "user_failures": row.user_failures, "system_failures": row.system_failures,
        "started": iso(row.started_at), "ended": iso(row.ended_at),
        "duration": _seconds(row.started_at, row.ended_at) if row.started_at else None,
        "error": row.error, "container": row.container_id,
        "input_uri": row.input_uri, "output_uri": row.output_uri,
        "inputs": typed_values(_node_inputs(objects, row), in_vars, full),
        "outputs": typed_values(parse_map(row.outputs), out_vars, full),
        "attempts": node_attempts(store, execution_id).get(node_id) or _fallback_attempts(row),
        "cache": _cache_info(store, objects, record, row, template),
        "gate": gate, "children": children,
    }


# ---- registered entities, cache, promotions, reproductions -----------------------------------

def entities(store, project: str, domain: str) -> list[dict]:
    rows = store.db.query(
        "SELECT resource_type, name, version, created_at FROM registered_entities WHERE "
        "project = ? AND domain = ? ORDER BY resource_type DESC, name, id DESC",
        (project, domain))
    grouped: dict[tuple, dict] = {}
    for kind, name, version, created in rows:
        entry = grouped.setdefault((kind, name), {"kind": KIND_NAMES.get(kind, str(kind)),
                                                  "name": name, "versions": []})
        entry["versions"].append({"version": version, "created": iso(created)})
    return list(grouped.values())


def entity_detail(store, kind: str, project: str, domain: str, name: str) -> dict:
    code = {v: k for k, v in KIND_NAMES.items()}.get(kind)
    if code is None:
        raise NotFound(f"unknown entity kind {kind!r}")
    rows = store.db.query(
        "SELECT version, created_at FROM registered_entities WHERE resource_type = ? AND "
        "project = ? AND domain = ? AND name = ? ORDER BY id DESC", (code, project, domain, name))
    if not rows:
        raise NotFound(f"{kind} {name!r} is not registered in {project}/{domain}")
    column = "launch_plan" if code == LAUNCH_PLAN else "workflow"
    versions = []
    for version, created in rows:
        green = [r[0] for r in store.db.query(
            f"SELECT id FROM executions WHERE project = ? AND domain = ? AND {column} = ? AND "
            "version = ? AND state = 'succeeded' ORDER BY created_at DESC LIMIT 5",
            (project, domain, name, version))]
        versions.append({"version": version, "created": iso(created), "green": green,
                         "promotions": promotions(store, project, name, version)})
    detail = {"kind": kind, "name": name, "project": project, "domain": domain,
              "versions": versions}
    if code == LAUNCH_PLAN:
        detail["launch_form"] = True
    if code == WORKFLOW:
        detail["graph"] = GraphBuilder(store, project, domain).for_workflow(name, rows[0][0])
    return detail


def promotions(store, project: str, name: str, version: str) -> list[dict]:
    try:
        rows = store.db.query(
            "SELECT name, entities, from_domain, to_domain, forced, evidence_execution, "
            "created_at FROM admin_promotions WHERE project = ? AND version = ? ORDER BY id",
            (project, version))
    except Exception:  # noqa: BLE001 - no admin tables
        return []
    # A promotion names its workflow and lists every entity it copied ("<kind>:<name>").
    return [{"from": r[2], "to": r[3], "forced": bool(r[4]), "evidence": r[5] or None,
             "at": iso(r[6])} for r in rows
            if r[0] == name or name in {line.split(":", 1)[-1] for line in
                                        (r[1] or "").splitlines()}]


def launch_form(store, project: str, domain: str, name: str, version: str = "") -> dict:
    """A launch plan's typed inputs with defaults and fixed values, for the launch form."""
    from sandbox.console.values import type_name
    from sdk.types.display import literal_to_plain

    try:
        lp = get_spec(store, LAUNCH_PLAN, project, domain, name, version or None)
    except EntityNotFound as exc:
        raise NotFound(str(exc)) from None
    version = lp.id.version or version or store.db.query(
        "SELECT version FROM registered_entities WHERE resource_type = ? AND project = ? AND "
        "domain = ? AND name = ? ORDER BY id DESC LIMIT 1",
        (LAUNCH_PLAN, project, domain, name))[0][0]
    fields = []
    for var, param in lp.spec.default_inputs.parameters.items():
        field = {"name": var, "type": type_name(param.var.type),
                 "widget": _widget(param.var.type), "required": bool(param.required),
                 "description": param.var.description}
        if param.HasField("default"):
            field["default"] = literal_to_plain(param.default)
        fields.append(field)
    fixed = {k: literal_to_plain(v) for k, v in lp.spec.fixed_inputs.literals.items()}
    return {"project": project, "domain": domain, "name": name, "version": version,
            "workflow": lp.spec.workflow_id.name, "fields": fields, "fixed": fixed,
            "max_upload_mib": MAX_UPLOAD_BYTES // 2**20}


def _widget(literal_type) -> str:
    kind = literal_type.WhichOneof("type")
    if kind == "simple":
        return {1: "int", 2: "float", 3: "str", 4: "bool", 5: "datetime",
                6: "duration"}.get(literal_type.simple, "json")
    if kind == "enum_type":
        return "enum:" + ",".join(literal_type.enum_type.values)
    if kind == "blob":  # a URI, or a file (a directory's files) uploaded from the form
        return "directory" if literal_type.blob.dimensionality else "file"
    if kind == "union_type":
        plain = [v for v in literal_type.union_type.variants
                 if not (v.WhichOneof("type") == "simple" and v.simple == 0)]
        if len(plain) == 1:
            return "optional:" + _widget(plain[0])
    return "json"


def cache_summary(store) -> list[dict]:
    rows = store.db.query("SELECT task, project, domain, cache_version, COUNT(*), "
                          "MAX(created_at) FROM cache_entries GROUP BY task, project, domain, "
                          "cache_version ORDER BY task")
    return [{"task": r[0], "project": r[1], "domain": r[2], "cache_version": r[3],
             "entries": r[4], "latest": iso(r[5])} for r in rows]


def reproductions(store) -> list[dict]:
    try:
        rows = store.db.query("SELECT id, source, source_endpoint, local_execution, identical, "
                              "diff, created_at FROM admin_reproductions ORDER BY id DESC")
    except Exception:  # noqa: BLE001 - no admin tables
        return []
    return [{"id": r[0], "source": r[1], "endpoint": r[2], "execution": r[3] or None,
             "identical": bool(r[4]), "diff": r[5] or "", "at": iso(r[6])} for r in rows]


def split_attempt_logs(logs: str | None) -> list[dict]:
    """The stored logs cut at the engine's "--- attempt N ---" headers."""
    if not logs:
        return []
    marks = list(_ATTEMPT_HEADER.finditer(logs))
    if not marks:
        return [{"attempt": 0, "text": logs}]
    return [{"attempt": int(m.group(1)),
             "text": logs[m.end() + 1:(marks[i + 1].start() if i + 1 < len(marks) else None)]}
            for i, m in enumerate(marks)]


def branch_taken(store, execution_id: str, node_id: str) -> dict:
    """Which case of a branch node ran ("case N" or "else"), found by evaluating its
    conditions on the inputs it had, as the engine did (the engine records only the result).
    {"case": None} while its inputs are not all there yet."""
    from sandbox.engine.bindings import resolve_all
    from sandbox.engine.conditions import evaluate
    from sandbox.engine.launch import load_plan
    from sdk.errors import SkiffError

    record = _execution(store, execution_id)
    node = load_plan(store, record).nodes.get(node_id)
    if node is None or node.WhichOneof("target") != "branch_node":
        raise NotFound(f"execution {execution_id} has no branch node {node_id!r}")
    outputs = {r.node_id: literals_pb2.LiteralMap.FromString(r.outputs)
               for r in store.nodes(execution_id) if r.outputs is not None}
    where = f"branch node {node_id!r}"
    block = node.branch_node.if_else
    try:
        inputs = resolve_all(node.inputs, parse_map(record.inputs), outputs, where)
        for index, case in enumerate([block.case, *block.other]):
            if evaluate(case.condition, inputs, where):
                return {"case": f"case {index + 1}"}
    except SkiffError:
        return {"case": None}
    return {"case": "else"}

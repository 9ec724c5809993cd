"""Promotion: copy one registered version (a workflow, its tasks, its launch plans) from one
domain to the next, byte for byte apart from the identifiers' domain.

It is refused unless the admin lists a succeeded execution of that version in the source
domain; `force` overrides, and the record says so. Every promotion is recorded locally in
$SKIFF_HOME/promotions.jsonl, and by the admin's Skiff API when it is a Skiff sandbox.
"""
from __future__ import annotations

import dataclasses
import datetime
import grpc
from flyteidl.admin import common_pb2, launch_plan_pb2
from flyteidl.core import identifier_pb2

from sdk.remote.errors import PromotionRefused, RemoteNotFound
from sdk.remote.executions import Phase, list_executions
from sdk.remote.register import check_conflicts, create_entity, fetch_registered
from sdk.remote.specs import LAUNCH_PLAN, TASK, WORKFLOW, spec_id, with_domain


@dataclasses.dataclass
class Promotion:
    project: str
    name: str  # the workflow
    version: str
    source: str
    target: str
    forced: bool
    green_execution: str | None  # the succeeded execution that allowed it
    entities: list[str]  # "<kind>:<name>" of everything copied or found already there
    created: list[str]  # "<name>@<version>" created in the target domain now
    existing: list[str]  # "<name>@<version>" the target domain held already
    endpoint: str
    at: str
    recorded_by_admin: bool = False

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _ident(kind, project, domain, name, version):
    return identifier_pb2.Identifier(resource_type=kind, project=project, domain=domain,
                                     name=name, version=version)


def _find_workflow(conn, project, domain, name, version):
    """The admin.Workflow `name` names: a workflow, or the workflow of a launch plan."""
    what = f"look up {name!r} version {version!r} in {project}/{domain}"
    answer = conn.admin.call("GetWorkflow", common_pb2.ObjectGetRequest(
        id=_ident(WORKFLOW, project, domain, name, version)), what,
        allow=(grpc.StatusCode.NOT_FOUND,))
    if not isinstance(answer, grpc.RpcError):
        return answer
    plan = conn.admin.call("GetLaunchPlan", common_pb2.ObjectGetRequest(
        id=_ident(LAUNCH_PLAN, project, domain, name, version)), what,
        allow=(grpc.StatusCode.NOT_FOUND,))
    if isinstance(plan, grpc.RpcError):
        raise RemoteNotFound(f"no workflow or launch plan {name!r} version {version!r} in "
                             f"{project}/{domain} on {conn.config.endpoint}; check the name "
                             "(`<module>.<function>`) and --version")
    wf = plan.spec.workflow_id
    return conn.admin.call("GetWorkflow", common_pb2.ObjectGetRequest(id=wf),
                           f"look up workflow {wf.name!r} version {wf.version!r}")


def _launch_plans(conn, project, domain, workflow_name, version) -> list:
    plans, token = [], ""
    while True:
        page = conn.admin.call("ListLaunchPlans", common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=project, domain=domain), limit=100,
            token=token, filters=f"eq(version,{version})"),
            f"list launch plans in {project}/{domain}")
        plans.extend(p for p in page.launch_plans if p.id.version == version
                     and p.spec.workflow_id.name == workflow_name
                     and p.spec.workflow_id.version == version)
        if not page.token or not page.launch_plans:
            break
        token = page.token
    return [launch_plan_pb2.LaunchPlan(id=p.id, spec=p.spec) for p in plans]


def green_execution(conn, project, domain, workflow_name, version, plan_names) -> str | None:
    """The name of a succeeded execution of this version in project/domain, if any."""
    for execution in list_executions(conn, project, domain, filters="eq(phase,SUCCEEDED)"):
        if execution.closure.phase != Phase.SUCCEEDED:
            continue
        target = execution.spec.launch_plan
        wf = execution.closure.workflow_id
        if (wf.name == workflow_name and wf.version == version) or (
                target.version == version and target.name in plan_names):
            return execution.id.name
    return None


def promote(conn, project: str, name: str, version: str, source: str, target: str,
            force: bool = False) -> Promotion:
    workflow = _find_workflow(conn, project, source, name, version)
    wf_name, wf_version = workflow.id.name, workflow.id.version
    closure = workflow.closure.compiled_workflow
    plans = _launch_plans(conn, project, source, wf_name, wf_version)
    green = green_execution(conn, project, source, wf_name, wf_version,
                            {p.id.name for p in plans} | {wf_name})
    if green is None and not force:
        raise PromotionRefused(
            f"workflow {wf_name!r} version {wf_version!r} has no succeeded execution in "
            f"{project}/{source} on {conn.config.endpoint}; run it there first (or pass --force, "
            "which the promotion record notes)")
    # Specs as registered in the source domain, in dependency order.
    entities = [(TASK, fetch_registered(conn, TASK, t.template.id)) for t in closure.tasks]
    entities.append((WORKFLOW, fetch_registered(conn, WORKFLOW, workflow.id)))
    entities.extend((LAUNCH_PLAN, p) for p in plans)
    moved = [(kind, with_domain(kind, spec, source, target)) for kind, spec in entities]
    existing = check_conflicts(conn, moved)
    known = {(i.resource_type, i.name, i.version) for i in existing}
    created = []
    for kind, spec in moved:
        ident = spec_id(kind, spec)
        if (kind, ident.name, ident.version) in known:
            continue
        if create_entity(conn, kind, spec):
            created.append(ident)
        else:
            existing.append(ident)
    label = lambda i: f"{i.name}@{i.version}"  # noqa: E731
    kinds = {TASK: "task", WORKFLOW: "workflow", LAUNCH_PLAN: "launch_plan"}
    record = Promotion(project, wf_name, wf_version, source, target, green is None, green,
                       [f"{kinds[k]}:{spec_id(k, s).name}" for k, s in moved],
                       [label(i) for i in created], [label(i) for i in existing],
                       conn.config.endpoint,
                       datetime.datetime.now(datetime.timezone.utc).isoformat())
    return record  # the caller keeps it (the sandbox's CLI: sandbox.bridge.records)

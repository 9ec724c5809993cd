"""Registering a package with a Flyte admin, as flytectl registers one.

Identifiers get project, domain and version and nothing else changes, except that the fast
code bundle is uploaded through the data proxy and its location replaces
`{{ .remote_package_path }}`. Every reference is checked (sdk.remote.references), every
entity compared with what the admin already holds, and every new entity put through
flyteadmin's validators and compiler (sdk.remote.preflight) before anything is created or
uploaded, so a package the admin would refuse leaves nothing half-registered; entities are
created after what they reference.
"""
from __future__ import annotations

import dataclasses
import hashlib

import grpc
from flyteidl.admin import common_pb2, launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.service import dataproxy_pb2

from sdk.remote.data import put_presigned
from sdk.remote.errors import RemoteError, VersionConflict
from sdk.remote.specs import (
    LAUNCH_PLAN, TASK, WORKFLOW, describe, normalize_template, spec_id, workflow_spec_from_closure,
)


@dataclasses.dataclass
class RegistrationResult:
    project: str
    domain: str
    version: str
    created: list  # core.Identifier of entities created now
    existing: list  # core.Identifier of entities already registered with the same spec
    bundle_uri: str | None


def _bundle_location(conn, project, domain, name: str, data: bytes):
    request = dataproxy_pb2.CreateUploadLocationRequest(
        project=project, domain=domain, filename=name, content_md5=hashlib.md5(data).digest())
    return conn.data.call("CreateUploadLocation", request,
                          f"get an upload location for code bundle {name}")


def _description(conn, ident):
    """The entity's DescriptionEntity (part of its spec), or None when the admin keeps none."""
    answer = conn.admin.call("GetDescriptionEntity", common_pb2.ObjectGetRequest(id=ident),
                             f"get the description of {describe(ident)}",
                             allow=(grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNIMPLEMENTED,
                                    grpc.StatusCode.INVALID_ARGUMENT))
    if isinstance(answer, grpc.RpcError):
        return None
    answer.ClearField("id")  # a spec's description carries no identifier of its own
    return answer


def fetch_registered(conn, kind: int, ident, with_description: bool = True):
    """The registered spec of `ident` recovered from the admin, or None when it is unknown.

    Task and workflow specs are rebuilt from the admin's closure; their description comes from
    GetDescriptionEntity when the admin serves it (else it is left unset)."""
    request = common_pb2.ObjectGetRequest(id=ident)
    method = {TASK: "GetTask", WORKFLOW: "GetWorkflow", LAUNCH_PLAN: "GetLaunchPlan"}[kind]
    answer = conn.admin.call(method, request, f"look up {describe(ident)}",
                             allow=(grpc.StatusCode.NOT_FOUND,))
    if isinstance(answer, grpc.RpcError):
        return None
    if kind == LAUNCH_PLAN:
        return launch_plan_pb2.LaunchPlan(id=answer.id, spec=answer.spec)
    if kind == TASK:
        spec = task_pb2.TaskSpec(template=answer.closure.compiled_task.template)
    else:
        spec = workflow_spec_from_closure(answer.closure.compiled_workflow)
    description = _description(conn, answer.id) if with_description else None
    if description is not None:
        spec.description.CopyFrom(description)
    return spec


def comparable(kind: int, spec):
    """What flyteadmin tells entities apart by: the task template, the workflow's templates (the
    digest of their compiled closure) or the launch plan's id and spec; a description is kept
    apart by flyteadmin and never makes a version differ. Upstream node ids are sorted and
    promises to workflow inputs name no node, as the compiler has them."""
    if kind == LAUNCH_PLAN:  # only id and spec are sent; a package's closure stays behind
        return launch_plan_pb2.LaunchPlan(id=spec.id, spec=spec.spec)
    copy = type(spec).FromString(spec.SerializeToString())
    copy.ClearField("description")
    if kind == WORKFLOW:
        for template in [copy.template, *copy.sub_workflows]:
            normalize_template(template)
    return copy


def _same(kind: int, registered, ours) -> bool:
    return comparable(kind, registered) == comparable(kind, ours)


def create_entity(conn, kind: int, spec) -> bool:
    """Create one entity; False when the admin holds it already with the same spec (flyteadmin
    answers ALREADY_EXISTS only then, INVALID_ARGUMENT for a different one)."""
    ident = spec_id(kind, spec)
    if kind == TASK:
        method, request = "CreateTask", task_pb2.TaskCreateRequest(id=ident, spec=spec)
    elif kind == WORKFLOW:
        method, request = "CreateWorkflow", workflow_pb2.WorkflowCreateRequest(id=ident, spec=spec)
    else:
        method, request = "CreateLaunchPlan", launch_plan_pb2.LaunchPlanCreateRequest(
            id=ident, spec=spec.spec)
    answer = conn.admin.call(method, request, f"register {describe(ident)}",
                             allow=(grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.INVALID_ARGUMENT,
                                    grpc.StatusCode.FAILED_PRECONDITION))
    if isinstance(answer, grpc.RpcError):
        if answer.code() == grpc.StatusCode.ALREADY_EXISTS:
            return False
        detail = " ".join((answer.details() or "").split())
        if "different" in detail.lower():
            raise VersionConflict(f"{describe(ident)} is already registered with a different "
                                  f"spec ({detail}); register under a new version")
        raise RemoteError(f"the Flyte admin at {conn.config.endpoint} rejected "
                          f"{describe(ident)}: {detail}")
    return True


def _differing_fields(kind: int, registered, ours) -> list[str]:
    """Names of the top-level fields (of a task's template, a workflow's template or a launch
    plan's spec) that differ, for the conflict message."""
    a, b = comparable(kind, registered), comparable(kind, ours)
    if kind == LAUNCH_PLAN:
        a, b = a.spec, b.spec
    elif kind == WORKFLOW and a.sub_workflows != b.sub_workflows:
        return ["sub_workflows"] + _differing_fields_of(a.template, b.template)
    else:
        a, b = a.template, b.template
    return _differing_fields_of(a, b)


def _differing_fields_of(a, b) -> list[str]:
    names = []
    for field in a.DESCRIPTOR.fields:
        if getattr(a, field.name) == getattr(b, field.name):
            continue
        if field.name == "container":  # say which part of the container
            names += [f"container.{sub.name}" for sub in field.message_type.fields
                      if getattr(a.container, sub.name) != getattr(b.container, sub.name)]
        else:
            names.append(field.name)
    return names


def check_conflicts(conn, hydrated) -> list:
    """Identifiers of `hydrated` (kind, spec) pairs that exist already with the same spec;
    VersionConflict naming every one that exists with a different spec, and what differs."""
    existing, conflicts = [], []
    for kind, spec in hydrated:
        registered = fetch_registered(conn, kind, spec_id(kind, spec), with_description=False)
        if registered is None:
            continue
        if _same(kind, registered, spec):
            existing.append(spec_id(kind, spec))
        else:
            fields = ", ".join(_differing_fields(kind, registered, spec)) or "its spec"
            conflicts.append(f"{describe(spec_id(kind, spec))} (differs in {fields})")
    if conflicts:
        raise VersionConflict(f"{'; '.join(conflicts)}: already registered with a different spec "
                              "and nothing was registered; register under a new --version")
    return existing


def register_package(conn, package_path: str, project: str, domain: str,
                     version: str, progress=None) -> RegistrationResult:
    """Register every entity of the package, what it references first. Everything is checked
    before anything is created: references (MissingReference), versions registered with
    another spec (VersionConflict) and what flyteadmin's validators and compiler would refuse
    (AdmissionRefused). An identical package registered again creates nothing.
    `progress(sent, total)`, when given, follows the code bundle's upload."""
    from sdk.compile.hydrate import hydrate
    from sdk.compile.package_reader import read_package
    from sdk.remote.preflight import check_admission
    from sdk.remote.references import creation_order

    package = read_package(package_path)
    location = None
    if package.bundle is not None:  # signing a URL creates nothing; the upload comes later
        location = _bundle_location(conn, project, domain, package.bundle_name, package.bundle)
    bundle_uri = location.native_url if location is not None else None
    hydrated = [(e.kind, hydrate(e.kind, e.spec, project, domain, version, bundle_uri))
                for e in package.entities]
    hydrated = creation_order(conn, hydrated)
    existing = check_conflicts(conn, hydrated)
    known = {(i.resource_type, i.name) for i in existing}
    new = [(kind, spec) for kind, spec in hydrated if (kind, spec_id(kind, spec).name) not in known]
    check_admission(conn, hydrated, new, project, domain)
    if new and location is not None:
        put_presigned(location, package.bundle, f"code bundle {package.bundle_name}", progress)
    created = []
    for kind, spec in new:
        try:
            done = create_entity(conn, kind, spec)
        except RemoteError as exc:
            if created:  # the admin refused what no check here can foresee (its configured limits)
                exc.args = (f"{exc.args[0]}; registered before that: "
                            f"{', '.join(describe(i) for i in created)} (kept: register the fixed "
                            "package under the same version to add the rest)",)
            raise
        (created if done else existing).append(spec_id(kind, spec))
    return RegistrationResult(project, domain, version, created, existing, bundle_uri)

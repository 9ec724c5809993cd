"""flyteadmin's own refusals, checked on a whole package before anything of it is created.

sdk.compile.admission holds the checks (task validator, launch plan inputs, propeller's
compiler); this module feeds them what only the admin knows: the tasks, launch plans and
workflows a package calls but does not carry, and the platform's task resource limits when the
admin serves them. flyteadmin reads those limits from its TASK_RESOURCE matchable attributes
(project-domain, then project, then global, the lookup GetProjectDomainAttributes answers) and
otherwise from its configuration, which no API serves: a task above configured limits is still
refused by the admin at that task.
"""
from __future__ import annotations

import grpc
from flyteidl.admin import common_pb2, matchable_resource_pb2, project_domain_attributes_pb2

from sdk.compile.admission import PlatformLimits, package_problems
from sdk.compile.closure import LaunchPlanInterface
from sdk.remote.errors import RemoteError
from sdk.remote.specs import LAUNCH_PLAN, TASK, WORKFLOW, describe, spec_id


class AdmissionRefused(RemoteError):
    """The admin would refuse an entity of the package; nothing was created."""


_TOLERATED = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNIMPLEMENTED,
              grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED)


def platform_limits(conn, project: str, domain: str) -> PlatformLimits | None:
    """The TASK_RESOURCE limits flyteadmin validates tasks of project/domain against, or None
    when it holds none as attributes (it then uses its configuration)."""
    request = project_domain_attributes_pb2.ProjectDomainAttributesGetRequest(
        project=project, domain=domain,
        resource_type=matchable_resource_pb2.MatchableResource.TASK_RESOURCE)
    answer = conn.admin.call("GetProjectDomainAttributes", request,
                             f"read the task resource limits of {project}/{domain}",
                             allow=_TOLERATED)
    if isinstance(answer, grpc.RpcError):
        return None
    matching = answer.attributes.matching_attributes
    if matching.WhichOneof("target") != "task_resource_attributes":
        return None
    return PlatformLimits.from_attributes(matching.task_resource_attributes.limits)


class _Registered:
    """Entities the package calls but does not carry, read once each from the admin."""

    def __init__(self, conn):
        self.conn = conn
        self.cache = {}

    def _get(self, kind: int, ident):
        ident_key = (kind, ident.project, ident.domain, ident.name, ident.version)
        if ident_key not in self.cache:
            method = {TASK: "GetTask", WORKFLOW: "GetWorkflow", LAUNCH_PLAN: "GetLaunchPlan"}[kind]
            full = type(ident)()
            full.CopyFrom(ident)
            full.resource_type = kind
            answer = self.conn.admin.call(method, common_pb2.ObjectGetRequest(id=full),
                                          f"look up {describe(full)}",
                                          allow=(grpc.StatusCode.NOT_FOUND,))
            self.cache[ident_key] = None if isinstance(answer, grpc.RpcError) else answer
        return self.cache[ident_key]

    def task(self, ident):
        answer = self._get(TASK, ident)
        return answer.closure.compiled_task.template if answer is not None else None

    def plan(self, ident):
        answer = self._get(LAUNCH_PLAN, ident)
        if answer is None:
            return None
        return LaunchPlanInterface(answer.closure.expected_inputs, answer.closure.expected_outputs)

    def workflow_interface(self, ident):
        answer = self._get(WORKFLOW, ident)
        if answer is None:
            return None
        return answer.closure.compiled_workflow.primary.template.interface


def check_admission(conn, hydrated: list, new: list, project: str, domain: str) -> None:
    """AdmissionRefused naming every entity of `new` (kind, spec pairs about to be created)
    that flyteadmin would refuse; `hydrated` is the whole package, in creation order."""
    from sdk.compile.closure import key

    if not new:
        return
    registered = _Registered(conn)
    limits = platform_limits(conn, project, domain) if any(k == TASK for k, _ in new) else None
    problems = package_problems(
        hydrated, registered.task, registered.plan, registered.workflow_interface, limits,
        check={key(spec_id(kind, spec)) for kind, spec in new})
    if problems:
        raise AdmissionRefused(
            f"{'; '.join(problems)}: the admin would refuse "
            f"{'this' if len(problems) == 1 else 'these'} and nothing was registered; fix the "
            "package and register again")

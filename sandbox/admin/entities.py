"""Tasks, workflows and launch plans of AdminService: create stores the spec as received
(identifiers filled by the client), get returns it with the closure Flyte admin adds."""
from __future__ import annotations

from flyteidl.admin import (common_pb2, description_entity_pb2, launch_plan_pb2, task_pb2,
                            workflow_pb2)
from flyteidl.core import compiler_pb2, identifier_pb2

from sandbox.admin import convert
from sandbox.admin.errors import already_exists, invalid, not_found, rpc
from sandbox.admin.listing import filter_value, page
from sandbox.admin.tables import DEFAULT_DOMAINS
from sandbox.registry import LAUNCH_PLAN, TASK, WORKFLOW
from sandbox.admin.closures import registered_closure
from sandbox.admin.validation import check_identifier, check_text
from sdk.compile.admission import task_problems
from sdk.compile.idl_walk import template_nodes
from sdk.compile.package_reader import kind_name
from sdk.secret_names import secret_name_problem

ACTIVE = launch_plan_pb2.ACTIVE


def canonical(message):
    """A copy in which node upstream ids are sorted: flytekit writes them in set order, and
    Flyte's compiler (whose result flyteadmin compares) does not depend on that order."""
    message = type(message).FromString(message.SerializeToString())
    if isinstance(message, workflow_pb2.WorkflowSpec):
        for template in [message.template, *message.sub_workflows]:
            for node in template_nodes(template):
                ids = sorted(node.upstream_node_ids)
                del node.upstream_node_ids[:]
                node.upstream_node_ids.extend(ids)
    return message


class EntityRpcs:
    """Mixin of AdminService: needs self.store and self.repo."""

    # ---- checks shared by every create ----------------------------------------------------

    def check_project_domain(self, project: str, domain: str) -> None:
        if not project or not domain:
            raise invalid("project and domain must be set in the identifier")
        if self.repo.project(project) is None:
            raise invalid(f"project {project!r} does not exist; create it with "
                          f"`skiff project create {project}` (known: "
                          f"{', '.join(p[0] for p in self.repo.projects())})")
        if domain not in DEFAULT_DOMAINS:
            raise invalid(f"domain {domain!r} does not exist; use one of "
                          f"{', '.join(DEFAULT_DOMAINS)}")

    def check_create(self, kind: int, ident, has_spec: bool) -> None:
        """flyteadmin's checks of a create request, in its order: identifier, project and
        domain, spec."""
        check_identifier(ident, kind, f"{kind_name(kind)} identifier")
        self.check_project_domain(ident.project, ident.domain)
        if not has_spec:
            raise invalid(f"missing spec in the request for {kind_name(kind)} "
                          f"{convert.describe_id(ident)}")

    def _create(self, kind: int, ident, message, parse) -> None:
        """Store `message` under `ident` unless an equal one is there (ALREADY_EXISTS, as
        flyteadmin; flytekit treats it as success) or a different one (INVALID_ARGUMENT)."""
        previous = self.store.entity_spec(kind, ident.project, ident.domain, ident.name,
                                          ident.version)
        if previous is not None:
            # Messages, not bytes (maps have no fixed order), and upstream ids in any order.
            if canonical(parse(previous)) == canonical(message):
                raise already_exists(f"{kind_name(kind)} {convert.describe_id(ident)} is "
                                     "already registered with an identical spec")
            raise invalid(f"{kind_name(kind)} {convert.describe_id(ident)} is already "
                          "registered with a different spec; register it under a new version")
        try:
            with self.store.transaction() as cursor:
                self.store.add_entity(cursor, kind, ident.project, ident.domain, ident.name,
                                      ident.version, message.SerializeToString())
        except self.store.integrity_error():  # a concurrent create of the same id won
            return self._create(kind, ident, message, parse)

    def _spec(self, kind: int, ident, parse):
        """The stored spec of `ident` (latest version when the version is empty) and its id."""
        for field in ("project", "domain", "name", "version"):
            check_text(field, getattr(ident, field))
        rows = self.repo.entities(kind, ident.project, ident.domain, ident.name, ident.version)
        if not rows:
            raise not_found(f"{kind_name(kind)} {convert.describe_id(ident)} is not registered; "
                            "register it first (pyflyte register / skiff register)")
        row = rows[0]
        full = identifier_pb2.Identifier(resource_type=kind, project=row.project,
                                         domain=row.domain, name=row.name, version=row.version)
        return parse(row.spec), full, row

    # ---- tasks ------------------------------------------------------------------------------

    @rpc
    def CreateTask(self, request, context):
        spec = request.spec
        self.check_create(TASK, request.id, request.HasField("spec")
                          and spec.HasField("template"))
        if spec.template.id.name and spec.template.id.name != request.id.name:
            raise invalid(f"task {request.id.name!r}: the template is named "
                          f"{spec.template.id.name!r}; the identifiers must agree")
        problems = [secret_name_problem(s.group, s.key, s.group_version)
                    for s in spec.template.security_context.secrets]
        problem = next((p for p in problems if p), None)
        if problem:
            raise invalid(f"task {request.id.name!r} requests a secret whose {problem}")
        # flyteadmin's task validator (no platform limits: the sandbox sets none).
        refused = task_problems(f"task {request.id.name!r}", spec.template)
        if refused:
            raise invalid("; ".join(refused))
        self._create(TASK, request.id, spec, task_pb2.TaskSpec.FromString)
        return task_pb2.TaskCreateResponse()

    def task_message(self, ident) -> task_pb2.Task:
        spec, full, row = self._spec(TASK, ident, task_pb2.TaskSpec.FromString)
        closure = task_pb2.TaskClosure(
            compiled_task=compiler_pb2.CompiledTask(template=spec.template),
            created_at=convert.timestamp(row.created_at))
        return task_pb2.Task(id=full, closure=closure,
                             short_description=spec.description.short_description)

    @rpc
    def GetTask(self, request, context):
        return self.task_message(request.id)

    @rpc
    def ListTasks(self, request, context):
        return task_pb2.TaskList(**self._list(TASK, request, self.task_message, "tasks"))

    @rpc
    def ListTaskIds(self, request, context):
        return self._list_ids(TASK, request)

    # ---- workflows ----------------------------------------------------------------------------

    @rpc
    def CreateWorkflow(self, request, context):
        spec = request.spec
        self.check_create(WORKFLOW, request.id, request.HasField("spec")
                          and spec.HasField("template"))
        # Refuses what flyteadmin's compiler refuses, comparisons with None included.
        self.workflow_closure(spec, request.id, scalar_operands=False)
        self._create(WORKFLOW, request.id, spec, workflow_pb2.WorkflowSpec.FromString)
        return workflow_pb2.WorkflowCreateResponse()

    def workflow_closure(self, spec: workflow_pb2.WorkflowSpec, ident, scalar_operands=True):
        """The closure flyteadmin compiles (sandbox.admin.closures.registered_closure)."""
        return registered_closure(self.store, spec, ident, scalar_operands)

    def workflow_message(self, ident) -> workflow_pb2.Workflow:
        spec, full, row = self._spec(WORKFLOW, ident, workflow_pb2.WorkflowSpec.FromString)
        closure = workflow_pb2.WorkflowClosure(
            compiled_workflow=self.workflow_closure(spec, full),
            created_at=convert.timestamp(row.created_at))
        return workflow_pb2.Workflow(id=full, closure=closure,
                                     short_description=spec.description.short_description)

    @rpc
    def GetWorkflow(self, request, context):
        return self.workflow_message(request.id)

    def workflow_list_entry(self, ident) -> workflow_pb2.Workflow:
        """A workflow as flyteadmin lists it: no compiled closure (it keeps that offloaded),
        only the creation time and the primary template's interface."""
        spec, full, row = self._spec(WORKFLOW, ident, workflow_pb2.WorkflowSpec.FromString)
        closure = workflow_pb2.WorkflowClosure(created_at=convert.timestamp(row.created_at))
        closure.compiled_workflow.primary.template.interface.CopyFrom(spec.template.interface)
        return workflow_pb2.Workflow(id=full, closure=closure,
                                     short_description=spec.description.short_description)

    @rpc
    def ListWorkflows(self, request, context):
        return workflow_pb2.WorkflowList(**self._list(WORKFLOW, request, self.workflow_list_entry,
                                                      "workflows"))

    @rpc
    def ListWorkflowIds(self, request, context):
        return self._list_ids(WORKFLOW, request)

    # ---- launch plans -------------------------------------------------------------------------

    @rpc
    def CreateLaunchPlan(self, request, context):
        wf = request.spec.workflow_id
        self.check_create(LAUNCH_PLAN, request.id, request.HasField("spec"))
        check_identifier(wf, WORKFLOW, "launch plan's workflow identifier")
        if self.store.entity_spec(WORKFLOW, wf.project, wf.domain, wf.name, wf.version) is None:
            raise not_found(f"launch plan {convert.describe_id(request.id)} runs workflow "
                          f"{convert.describe_id(wf)}, which is not registered; register the "
                          "workflow first")
        # The engine's registry keeps launch plans as admin.LaunchPlan (id and spec).
        plan = launch_plan_pb2.LaunchPlan(id=request.id, spec=request.spec)
        self._create(LAUNCH_PLAN, request.id, plan, launch_plan_pb2.LaunchPlan.FromString)
        return launch_plan_pb2.LaunchPlanCreateResponse()

    def launch_plan_message(self, ident) -> launch_plan_pb2.LaunchPlan:
        stored, full, row = self._spec(LAUNCH_PLAN, ident, launch_plan_pb2.LaunchPlan.FromString)
        wf = stored.spec.workflow_id
        outputs = None
        wf_data = self.store.entity_spec(WORKFLOW, wf.project or full.project,
                                         wf.domain or full.domain, wf.name, wf.version or None)
        if wf_data is not None:
            outputs = workflow_pb2.WorkflowSpec.FromString(wf_data).template.interface.outputs
        closure = launch_plan_pb2.LaunchPlanClosure(
            state=self.repo.launch_plan_state(full.project, full.domain, full.name, full.version),
            expected_inputs=stored.spec.default_inputs, expected_outputs=outputs,
            created_at=convert.timestamp(row.created_at),
            updated_at=convert.timestamp(row.created_at))
        return launch_plan_pb2.LaunchPlan(id=full, spec=stored.spec, closure=closure)

    @rpc
    def GetLaunchPlan(self, request, context):
        return self.launch_plan_message(request.id)

    @rpc
    def ListLaunchPlans(self, request, context):
        return launch_plan_pb2.LaunchPlanList(**self._list(
            LAUNCH_PLAN, request, self.launch_plan_message, "launch_plans"))

    @rpc
    def ListLaunchPlanIds(self, request, context):
        return self._list_ids(LAUNCH_PLAN, request)

    @rpc
    def UpdateLaunchPlan(self, request, context):
        ident = request.id
        self._spec(LAUNCH_PLAN, ident, launch_plan_pb2.LaunchPlan.FromString)  # must exist
        self.repo.set_launch_plan_state(ident.project, ident.domain, ident.name, ident.version,
                                        int(request.state))
        return launch_plan_pb2.LaunchPlanUpdateResponse()

    @rpc
    def GetActiveLaunchPlan(self, request, context):
        ident = request.id
        version = self.repo.active_launch_plan_version(ident.project, ident.domain, ident.name)
        if version is None:
            raise not_found(f"launch plan {convert.describe_id(ident)} has no active version; "
                            "activate one first")
        return self.launch_plan_message(identifier_pb2.Identifier(
            resource_type=LAUNCH_PLAN, project=ident.project, domain=ident.domain,
            name=ident.name, version=version))

    @rpc
    def ListActiveLaunchPlans(self, request, context):
        plans = []
        for row in self.repo.entities(LAUNCH_PLAN, request.project, request.domain):
            state = self.repo.launch_plan_state(row.project, row.domain, row.name, row.version)
            if state == ACTIVE:
                plans.append(self.launch_plan_message(identifier_pb2.Identifier(
                    resource_type=LAUNCH_PLAN, project=row.project, domain=row.domain,
                    name=row.name, version=row.version)))
        chunk, token = page(plans, request)
        return launch_plan_pb2.LaunchPlanList(launch_plans=chunk, token=token)

    # ---- descriptions -------------------------------------------------------------------------

    @rpc
    def GetDescriptionEntity(self, request, context):
        """The description a task or workflow spec was registered with. flyteadmin keeps it
        apart from the closure; a client needs it to rebuild the exact registered spec."""
        ident = request.id
        parsers = {TASK: task_pb2.TaskSpec.FromString, WORKFLOW: workflow_pb2.WorkflowSpec.FromString}
        if ident.resource_type not in parsers:
            raise invalid(f"descriptions are kept for tasks and workflows, not for "
                          f"{convert.describe_id(ident)}")
        spec, full, _ = self._spec(ident.resource_type, ident, parsers[ident.resource_type])
        if not spec.HasField("description"):
            raise not_found(f"{kind_name(ident.resource_type)} {convert.describe_id(full)} was "
                            "registered without a description")
        answer = description_entity_pb2.DescriptionEntity()
        answer.CopyFrom(spec.description)
        answer.id.CopyFrom(full)
        return answer

    # ---- listing helpers --------------------------------------------------------------------

    def _list(self, kind: int, request, to_message, field: str) -> dict:
        ident = request.id
        rows = self.repo.entities(kind, ident.project, ident.domain, ident.name)
        version = filter_value(request.filters, "version")
        if version:
            rows = [r for r in rows if r.version == version]
        chunk, token = page(rows, request)
        messages = [to_message(identifier_pb2.Identifier(
            resource_type=kind, project=r.project, domain=r.domain, name=r.name,
            version=r.version)) for r in chunk]
        return {field: messages, "token": token}

    @rpc
    def ListNamedEntities(self, request, context):
        """Names of one kind in a project/domain (flytectl's `get workflow` lists these). As
        flyteadmin: without filters, the names of generated launch plans (.flytegen*) are left
        out; every name is active and has no description (the sandbox keeps none)."""
        if not request.project or not request.domain:
            raise invalid("project and domain must be set to list named entities")
        if request.resource_type not in (TASK, WORKFLOW, LAUNCH_PLAN):
            raise invalid(f"resource type {request.resource_type} has no named entities; use "
                          "TASK, WORKFLOW or LAUNCH_PLAN")
        if request.limit <= 0:
            raise invalid("limit must be positive to list named entities")
        names = sorted({r.name for r in self.repo.entities(request.resource_type, request.project,
                                                            request.domain)})
        if not request.filters:
            names = [n for n in names if not n.startswith(".flytegen")]
        chunk, token = page(names, request)
        return common_pb2.NamedEntityList(token=token, entities=[common_pb2.NamedEntity(
            resource_type=request.resource_type, metadata=common_pb2.NamedEntityMetadata(),
            id=common_pb2.NamedEntityIdentifier(project=request.project, domain=request.domain,
                                                name=name)) for name in chunk])

    def _list_ids(self, kind: int, request) -> common_pb2.NamedEntityIdentifierList:
        names = sorted({r.name for r in self.repo.entities(kind, request.project,
                                                            request.domain)})
        chunk, token = page(names, request)
        return common_pb2.NamedEntityIdentifierList(
            entities=[common_pb2.NamedEntityIdentifier(project=request.project,
                                                       domain=request.domain, name=n)
                      for n in chunk], token=token)

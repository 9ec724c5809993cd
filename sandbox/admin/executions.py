"""Executions, node executions and task executions of AdminService, read from the engine's
store. A created execution runs in a detached `sandbox.engine.detached` process, so the RPC
returns at once."""
from __future__ import annotations

import grpc
from flyteidl.admin import (execution_pb2, launch_plan_pb2, node_execution_pb2, task_execution_pb2,
                            task_pb2)
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2

from sandbox.admin import convert
from sandbox.admin.validation import check_scope, check_text
from sandbox.admin.errors import AdminError, already_exists, invalid, not_found, rpc
from sandbox.admin.execution_config import resolved_spec
from sandbox.admin.listing import filter_values, page
from sandbox.admin.node_tree import NodeTree, TreeNode
from sandbox.engine import create_execution
from sandbox.engine.launch import ExecutionNameTaken, run_again
from sandbox.registry import LAUNCH_PLAN, TASK
from sandbox.store.records import COMPLETED_STATES

class ExecutionRpcs:
    """Mixin of AdminService: needs self.store, self.repo, self.objects, self.launcher,
    self.ended_trees."""

    # ---- executions -----------------------------------------------------------------------

    @rpc
    def CreateExecution(self, request, context):
        check_scope(request.project, request.domain)
        self.check_project_domain(request.project, request.domain)
        target = request.spec.launch_plan
        if not target.name:
            raise invalid("the execution spec names no launch plan or task (spec.launch_plan)")
        check_scope(target.project, target.domain, target.name)
        check_text("version", target.version, path_like=True)
        if (target.project or request.project, target.domain or request.domain) != \
                (request.project, request.domain):
            # flyteadmin runs it in the request's project and domain; the sandbox runs an
            # entity only where it is registered, so it says so instead of answering an id
            # that GetExecution cannot find.
            raise invalid(f"the execution is asked for in {request.project}/{request.domain} but "
                          f"{target.name!r} is registered in {target.project}/{target.domain}; "
                          "the sandbox runs an execution in the launch plan's own project and "
                          f"domain: create it with project {target.project!r} and domain "
                          f"{target.domain!r}")
        if request.name and self.store.execution(request.name) is not None:
            raise already_exists(f"execution {request.project}/{request.domain}/{request.name} "
                                 "already exists; choose another name")
        inputs = request.inputs if request.inputs.literals else request.spec.inputs
        try:
            execution_id = create_execution(
                self.store, target.project or request.project, target.domain or request.domain,
                target.name, target.version or None, inputs, execution_id=request.name or None,
                kind=target.resource_type or None)
        except ExecutionNameTaken as exc:  # taken between the check above and now
            raise already_exists(str(exc)) from exc
        self._start(execution_id, resolved_spec(request, self._launch_plan_of(target, request)))
        return execution_pb2.ExecutionCreateResponse(
            id=convert.execution_id(request.project, request.domain, execution_id))

    def _launch_plan_of(self, target, request):
        if target.resource_type != LAUNCH_PLAN:
            return None
        data = self.store.entity_spec(LAUNCH_PLAN, target.project or request.project,
                                      target.domain or request.domain, target.name,
                                      target.version or None)
        return launch_plan_pb2.LaunchPlan.FromString(data) if data else None

    def _start(self, execution_id: str, spec: execution_pb2.ExecutionSpec) -> None:
        try:
            self.repo.add_execution_request(execution_id, spec.SerializeToString())
            self.launcher.start(execution_id)
        except Exception as exc:  # never leave a queued execution nothing will run
            self.store.update_execution(execution_id, state="failed",
                                        error=f"the sandbox could not start it: {exc}")
            raise

    @rpc
    def RelaunchExecution(self, request, context):
        """The same launch plan, version and inputs again, every node run anew."""
        return self._run_again(request.id, request.name, keep_completed=False,
                               mode=execution_pb2.ExecutionMetadata.RELAUNCH)

    @rpc
    def RecoverExecution(self, request, context):
        """Again from where it failed: nodes that completed keep their outputs."""
        return self._run_again(request.id, request.name, keep_completed=True,
                               mode=execution_pb2.ExecutionMetadata.RECOVERED)

    def _run_again(self, ident, name: str, keep_completed: bool, mode: int):
        original = self._record(ident)
        if name and self.store.execution(name) is not None:
            raise already_exists(f"execution {original.project}/{original.domain}/{name} "
                                 "already exists; choose another name")
        try:
            execution_id = run_again(self.store, original.id, execution_id=name or None,
                                     keep_completed=keep_completed)
        except ExecutionNameTaken as exc:
            raise already_exists(str(exc)) from exc
        spec = self.execution_message(original).spec
        spec.metadata.mode = mode
        spec.metadata.reference_execution.CopyFrom(
            convert.execution_id(original.project, original.domain, original.id))
        self._start(execution_id, spec)
        return execution_pb2.ExecutionCreateResponse(
            id=convert.execution_id(original.project, original.domain, execution_id))

    def _record(self, ident):
        record = self.store.execution(ident.name)
        if record is None or record.project != ident.project or record.domain != ident.domain:
            raise not_found(f"execution {ident.project}/{ident.domain}/{ident.name} does not "
                            "exist; list executions with `skiff executions list` or "
                            "`flytectl get execution`")
        return record

    def execution_message(self, record) -> execution_pb2.Execution:
        request = self.repo.execution_request(record.id)
        spec = execution_pb2.ExecutionSpec()
        aborted_cause = None
        if request is not None:
            spec.ParseFromString(request[0])
            aborted_cause = request[2]
        if not spec.launch_plan.name:  # started by `skiff run`, not through the admin
            spec.launch_plan.CopyFrom(identifier_pb2.Identifier(
                resource_type=LAUNCH_PLAN if record.launch_plan else record.target_kind,
                project=record.project, domain=record.domain,
                name=record.launch_plan or record.workflow, version=record.version))
        closure = execution_pb2.ExecutionClosure(
            phase=convert.execution_phase(record.state),
            created_at=convert.timestamp(record.created_at),
            started_at=convert.timestamp(record.started_at),
            updated_at=convert.timestamp(record.ended_at or record.started_at or record.created_at),
            duration=convert.duration(record.started_at, record.ended_at),
            workflow_id=identifier_pb2.Identifier(
                resource_type=record.target_kind, project=record.project, domain=record.domain,
                name=record.workflow, version=record.version))
        # As flyteadmin: the execution's state (active) is recorded as changed at creation.
        closure.state_change_details.occurred_at.CopyFrom(closure.created_at)
        if aborted_cause is not None:
            closure.abort_metadata.cause = aborted_cause
        elif record.state == "failed":
            closure.error.CopyFrom(core_execution_pb2.ExecutionError(
                code="USER:ExecutionFailed", message=record.error or "failed",
                kind=core_execution_pb2.ExecutionError.USER))
        return execution_pb2.Execution(
            id=convert.execution_id(record.project, record.domain, record.id), spec=spec,
            closure=closure)

    @rpc
    def GetExecution(self, request, context):
        return self.execution_message(self._record(request.id))

    @rpc
    def GetExecutionData(self, request, context):
        record = self._record(request.id)
        response = execution_pb2.WorkflowExecutionGetDataResponse(
            full_inputs=literals_pb2.LiteralMap.FromString(record.inputs or b""))
        if record.state == "succeeded" and record.outputs is not None:
            response.full_outputs.CopyFrom(literals_pb2.LiteralMap.FromString(record.outputs))
        return response

    @rpc
    def ListExecutions(self, request, context):
        records = [self.store.execution(i) for i in
                   self.repo.executions(request.id.project, request.id.domain)]
        messages = [self.execution_message(r) for r in records if r is not None]
        messages = [m for m in messages if _matches_execution_filters(m, request.filters)]
        chunk, token = page(messages, request)
        return execution_pb2.ExecutionList(executions=chunk, token=token)

    @rpc
    def TerminateExecution(self, request, context):
        record = self._record(request.id)
        if record.state in convert.TERMINAL_STATES:
            raise AdminError(grpc.StatusCode.FAILED_PRECONDITION,
                             f"execution {record.project}/{record.domain}/{record.id} has "
                             f"already ended ({record.state}); nothing to terminate")
        cause = request.cause or "terminated"
        self.repo.set_aborted(record.id, cause)
        # Whichever engine runs it (this admin's runner process, `skiff run`, a detached
        # one) stops its containers and records its nodes aborted; then the runner is reaped.
        from sandbox.engine.abort import terminate_execution
        from sdk.errors import SkiffError

        try:
            terminate_execution(self.store, record.id, cause)
        except SkiffError:
            pass  # it ended meanwhile: nothing runs any more
        self.launcher.stop(record.id)
        return execution_pb2.ExecutionTerminateResponse()

    @rpc
    def UpdateExecution(self, request, context):
        self._record(request.id)
        return execution_pb2.ExecutionUpdateResponse()

    # ---- node executions: the tree Flyte's admin shows (sandbox.admin.node_tree) ---------

    def node_tree(self, record) -> NodeTree:
        """Rebuilt per request while the execution runs; kept once it has ended (a client
        syncing a run asks for each of its nodes in turn)."""
        if record.state not in convert.TERMINAL_STATES:
            return NodeTree(self.store, self.objects, record)
        return self.ended_trees.get(record.id, lambda: NodeTree(self.store, self.objects,
                                                                record))

    def node_message(self, record, node: TreeNode) -> node_execution_pb2.NodeExecution:
        row = node.row
        closure = node_execution_pb2.NodeExecutionClosure(
            phase=convert.node_phase(row.state),
            started_at=convert.timestamp(row.started_at),
            created_at=convert.timestamp(row.started_at or record.created_at),
            updated_at=convert.timestamp(row.ended_at or row.started_at or record.created_at),
            duration=convert.duration(row.started_at, row.ended_at))
        if row.state == "failed":
            closure.error.CopyFrom(core_execution_pb2.ExecutionError(
                code="USER:NodeFailed", message=row.error or "failed",
                kind=core_execution_pb2.ExecutionError.USER))
        elif row.output_uri:
            closure.output_uri = f"{row.output_uri}/outputs.pb"
        if node.kind in ("task_node", "dynamic"):
            closure.task_node_metadata.cache_status = node.cache_status
        metadata = node_execution_pb2.NodeExecutionMetaData(
            retry_group=node.retry_group, spec_node_id=node.spec_node_id,
            is_parent_node=node.is_parent, is_dynamic=node.kind == "dynamic",
            is_array=node.kind == "array_node")
        return node_execution_pb2.NodeExecution(
            id=identifier_pb2.NodeExecutionIdentifier(
                node_id=node.flyte_id,
                execution_id=convert.execution_id(record.project, record.domain, record.id)),
            input_uri=row.input_uri or "", closure=closure, metadata=metadata)

    @rpc
    def ListNodeExecutions(self, request, context):
        record = self._record(request.workflow_execution_id)
        tree = self.node_tree(record)
        listed = (tree.children(request.unique_parent_id) if request.unique_parent_id
                  else tree.top_level())
        messages = [self.node_message(record, node) for node in listed]
        chunk, token = page(messages, request)
        return node_execution_pb2.NodeExecutionList(node_executions=chunk, token=token)

    def _node(self, ident):
        """(execution, tree node) of a node execution identifier."""
        record = self._record(ident.execution_id)
        node = self.node_tree(record).nodes.get(ident.node_id)
        if node is None:
            raise not_found(f"node {ident.node_id!r} of execution {record.project}/"
                            f"{record.domain}/{record.id} does not exist (yet); list them with "
                            "ListNodeExecutions")
        return record, node

    @rpc
    def GetNodeExecution(self, request, context):
        record, node = self._node(request.id)
        return self.node_message(record, node)

    def _node_inputs(self, node: TreeNode) -> literals_pb2.LiteralMap:
        """What the node's task received (its input file), else its bindings resolved."""
        data = self.objects.get_bytes(node.row.input_uri) if node.row.input_uri else None
        if data:
            return literals_pb2.LiteralMap.FromString(data)
        return node.inputs or literals_pb2.LiteralMap()

    @rpc
    def GetNodeExecutionData(self, request, context):
        record, node = self._node(request.id)
        response = node_execution_pb2.NodeExecutionGetDataResponse(
            full_inputs=self._node_inputs(node))
        if node.outputs is not None and node.row.state in COMPLETED_STATES:
            response.full_outputs.CopyFrom(node.outputs)
        if node.dynamic is not None:
            response.dynamic_workflow.id.CopyFrom(node.dynamic.primary.template.id)
            response.dynamic_workflow.compiled_workflow.CopyFrom(node.dynamic)
        return response

    @rpc
    def GetDynamicNodeWorkflow(self, request, context):
        record, node = self._node(request.id)
        if node.dynamic is None:
            raise not_found(f"node {node.flyte_id!r} of execution {record.id} is not a dynamic "
                            "node (or has not built its workflow yet)")
        return node_execution_pb2.DynamicNodeWorkflowResponse(compiled_workflow=node.dynamic)

    # ---- task executions: one per attempt of a task node -----------------------------------

    def task_execution_message(self, record, tree_node: TreeNode,
                               attempt: int) -> task_execution_pb2.TaskExecution:
        node = tree_node.row
        last = attempt == node.attempt
        state = node.state if last else "failed"
        closure = task_execution_pb2.TaskExecutionClosure(
            phase=convert.task_phase(state),
            started_at=convert.timestamp(node.started_at),
            created_at=convert.timestamp(node.started_at or record.created_at),
            updated_at=convert.timestamp(node.ended_at or node.started_at or record.created_at),
            duration=convert.duration(node.started_at, node.ended_at) if last else None)
        closure.task_type = self._task_type(record, tree_node)
        if state == "failed":
            closure.error.CopyFrom(core_execution_pb2.ExecutionError(
                code="USER:TaskFailed", message=(node.error if last else "attempt failed") or "",
                kind=core_execution_pb2.ExecutionError.USER))
        elif last and node.output_uri:
            closure.output_uri = f"{node.output_uri}/outputs.pb"
        return task_execution_pb2.TaskExecution(
            id=identifier_pb2.TaskExecutionIdentifier(
                task_id=self._task_id(record, tree_node),
                node_execution_id=identifier_pb2.NodeExecutionIdentifier(
                    node_id=tree_node.flyte_id,
                    execution_id=convert.execution_id(record.project, record.domain, record.id)),
                retry_attempt=attempt),
            input_uri=node.input_uri or "", closure=closure)

    @staticmethod
    def _task_id(record, tree_node: TreeNode) -> identifier_pb2.Identifier:
        if tree_node.task_id is not None:
            return tree_node.task_id
        return identifier_pb2.Identifier(
            resource_type=TASK, project=record.project, domain=record.domain,
            name=tree_node.row.task or "", version=record.version)

    def _task_type(self, record, tree_node: TreeNode) -> str:
        """The task's type (python-task, ...), which propeller reports with every task event."""
        ident = self._task_id(record, tree_node)
        data = self.store.entity_spec(TASK, ident.project, ident.domain, ident.name,
                                      ident.version or None) if ident.name else None
        return task_pb2.TaskSpec.FromString(data).template.type if data else ""

    @rpc
    def ListTaskExecutions(self, request, context):
        record, node = self._node(request.node_execution_id)
        if node.kind not in ("task_node", "dynamic", "array_node") or not node.row.task \
                or node.row.state in ("queued", "cached"):
            return task_execution_pb2.TaskExecutionList()  # a cache hit runs no task
        messages = [self.task_execution_message(record, node, a)
                    for a in range(node.row.attempt + 1)]
        chunk, token = page(messages, request)
        return task_execution_pb2.TaskExecutionList(task_executions=chunk, token=token)

    @rpc
    def GetTaskExecution(self, request, context):
        record, node = self._node(request.id.node_execution_id)
        return self.task_execution_message(record, node, request.id.retry_attempt)

    @rpc
    def GetTaskExecutionData(self, request, context):
        _, node = self._node(request.id.node_execution_id)
        response = task_execution_pb2.TaskExecutionGetDataResponse(
            full_inputs=self._node_inputs(node))
        if (request.id.retry_attempt == node.row.attempt and node.outputs is not None
                and node.row.state in COMPLETED_STATES):
            response.full_outputs.CopyFrom(node.outputs)
        return response


_PHASE_NAMES = {v: k for k, v in core_execution_pb2.WorkflowExecution.Phase.items()}


def _matches_execution_filters(message, filters: str) -> bool:
    """The `eq(...)` and `value_in(...)` terms of a flyteadmin filter that clients use to find
    runs, also by execution tag: as flyteadmin, a tag is a label (key, value) or a spec tag
    (key, ""), and the key and value terms must hold for the same tag (flytekit's eager
    clean-up finds an eager execution's children by their label eager-exec=<parent>)."""
    lp, wf = message.spec.launch_plan, message.closure.workflow_id
    fields = {
        "phase": _PHASE_NAMES.get(message.closure.phase, ""),
        "name": message.id.name, "execution.name": message.id.name,
        "launch_plan.name": lp.name, "launch_plan.version": lp.version,
        "workflow.name": wf.name, "workflow.version": wf.version,
    }
    for field, value in fields.items():
        wanted = filter_values(filters, field)
        if wanted is not None and value not in wanted:
            return False
    keys = filter_values(filters, "execution_tag.key")
    values = filter_values(filters, "execution_tag.value")
    if keys is None and values is None:
        return True
    tags = list(message.spec.labels.values.items()) + [(t, "") for t in message.spec.tags]
    return any((keys is None or k in keys) and (values is None or v in values) for k, v in tags)

"""What the console changes. Executions are created, relaunched, recovered and terminated
through the sandbox's own admin API (the same path flytekit and flytectl take, so an
execution started from the page runs in the admin's detached runner); gate answers and cache
clearing go through the engine's functions the CLI uses."""
from __future__ import annotations

import grpc
from flyteidl.admin import execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2
from flyteidl.service import admin_pb2_grpc

from sandbox.engine import gates
from sandbox.registry import LAUNCH_PLAN, EntityNotFound, get_spec
from sdk.errors import SkiffError

TIMEOUT_S = 30.0


class ActionError(SkiffError):
    """A request the console cannot carry out; the message says why and what to do."""


class Actions:
    def __init__(self, state, store):
        self.state = state
        self.store = store

    def _admin(self):
        if not self.state.admin_endpoint:
            raise ActionError("the sandbox's admin API is not running; run `skiff sandbox up`")
        from sandbox.admin.client_config import local_channel

        channel = local_channel(self.state, "console")  # the admin needs this home's token
        return channel, admin_pb2_grpc.AdminServiceStub(channel)

    def _call(self, method: str, request):
        channel, stub = self._admin()
        try:
            return getattr(stub, method)(request, timeout=TIMEOUT_S)
        except grpc.RpcError as exc:
            raise ActionError(exc.details() or str(exc.code())) from None
        finally:
            channel.close()

    def _id(self, execution_id: str) -> identifier_pb2.WorkflowExecutionIdentifier:
        record = self.store.execution(execution_id)
        if record is None:
            raise ActionError(f"execution {execution_id!r} does not exist")
        return identifier_pb2.WorkflowExecutionIdentifier(
            project=record.project, domain=record.domain, name=record.id)

    def relaunch(self, execution_id: str) -> str:
        response = self._call("RelaunchExecution", execution_pb2.ExecutionRelaunchRequest(
            id=self._id(execution_id)))
        return response.id.name

    def recover(self, execution_id: str) -> str:
        response = self._call("RecoverExecution", execution_pb2.ExecutionRecoverRequest(
            id=self._id(execution_id)))
        return response.id.name

    def terminate(self, execution_id: str, cause: str = "") -> None:
        self._call("TerminateExecution", execution_pb2.ExecutionTerminateRequest(
            id=self._id(execution_id), cause=cause or "terminated from the console"))

    def launch(self, project: str, domain: str, name: str, version: str, values: dict) -> str:
        """Run launch plan `name` with the form's values (plain JSON, typed by the plan's
        interface; omitted inputs take the plan's defaults)."""
        from sandbox.engine.literals import literal_from_value

        try:
            lp = get_spec(self.store, LAUNCH_PLAN, project, domain, name, version or None)
        except EntityNotFound as exc:
            raise ActionError(str(exc)) from None
        parameters = lp.spec.default_inputs.parameters
        inputs = literals_pb2.LiteralMap()
        for var, value in values.items():
            if var not in parameters:
                raise ActionError(f"launch plan {name!r} has no input {var!r}")
            try:
                inputs.literals[var].CopyFrom(literal_from_value(value,
                                                                 parameters[var].var.type))
            except (ValueError, TypeError) as exc:
                raise ActionError(f"launch plan {name!r} input {var!r}: {exc}") from None
        request = execution_pb2.ExecutionCreateRequest(project=project, domain=domain,
                                                       inputs=inputs)
        request.spec.launch_plan.CopyFrom(identifier_pb2.Identifier(
            resource_type=LAUNCH_PLAN, project=project, domain=domain, name=name,
            version=lp.id.version or version))
        request.spec.inputs.CopyFrom(inputs)
        return self._call("CreateExecution", request).id.name

    def approve(self, execution_id: str, node_id: str) -> str:
        return gates.approve(self.store, execution_id, node_id)

    def reject(self, execution_id: str, node_id: str, reason: str) -> str:
        return gates.reject(self.store, execution_id, node_id, reason)

    def signal(self, execution_id: str, node_id: str, value) -> str:
        return gates.signal(self.store, execution_id, node_id, value)

    def clear_cache(self, task: str) -> int:
        if not task:
            raise ActionError("name the task whose cache entries to clear")
        return self.store.cache_clear(task)

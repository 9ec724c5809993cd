"""Flyte's SignalService over the sandbox's gate nodes, so that flytekit's
`FlyteRemote.list_signals` / `set_signal` (and flytectl) answer `wait_for_input` and `approve`
gates as on a cluster. A signal is the gate of an execution with that `signal_id`; setting it
writes the gate's answer, which the engine picks up (sandbox.engine.gates)."""
from __future__ import annotations

from flyteidl.admin import signal_pb2
from flyteidl.core import identifier_pb2, types_pb2
from flyteidl.service import signal_pb2_grpc

from sandbox.admin import convert
from sandbox.admin.errors import invalid, not_found, rpc
from sandbox.engine import gates


class SignalService(signal_pb2_grpc.SignalServiceServicer):
    def __init__(self, store):
        self.store = store

    def _execution(self, ident):
        if not ident.project or not ident.domain or not ident.name:
            raise invalid("missing execution id: project, domain and name are required")
        record = self.store.execution(ident.name)
        if record is None or record.project != ident.project or record.domain != ident.domain:
            raise not_found(f"execution {ident.project}/{ident.domain}/{ident.name} does not "
                            "exist")
        return record

    def _signal(self, record, gate: gates.Gate) -> signal_pb2.Signal:
        message = signal_pb2.Signal(
            id=identifier_pb2.SignalIdentifier(
                signal_id=gate.signal_id,
                execution_id=convert.execution_id(record.project, record.domain, record.id)),
            type=gate.type)
        if gate.value is not None:
            message.value.CopyFrom(gate.value)
        return message

    @rpc
    def GetOrCreateSignal(self, request, context):
        if not request.id.signal_id:
            raise invalid("missing signal_id")
        record = self._execution(request.id.execution_id)
        for gate in gates.gates(self.store, record):
            if gate.signal_id == request.id.signal_id:
                return self._signal(record, gate)
        raise not_found(f"execution {record.id} has no gate for signal "
                        f"{request.id.signal_id!r}")

    @rpc
    def ListSignals(self, request, context):
        if request.limit <= 0:
            raise invalid("limit must be greater than 0")
        record = self._execution(request.workflow_execution_id)
        try:
            offset = int(request.token or 0)
        except ValueError:
            raise invalid(f"invalid pagination token {request.token} for ListSignals") from None
        # Flyte lists the signals propeller has created: those of gates the run has reached.
        reached = [g for g in gates.gates(self.store, record) if g.state not in (None, "queued")]
        page = reached[offset:offset + request.limit]
        token = str(offset + len(page)) if len(page) == request.limit else ""
        return signal_pb2.SignalList(signals=[self._signal(record, g) for g in page], token=token)

    @rpc
    def SetSignal(self, request, context):
        if not request.id.signal_id:
            raise invalid("missing signal_id")
        if not request.HasField("value"):
            raise invalid("missing value")
        record = self._execution(request.id.execution_id)
        try:
            gate = gates.find_signal(self.store, record, request.id.signal_id)
        except gates.GateError as error:
            raise invalid(f"failed to validate that signal [{request.id.signal_id}] exists: "
                          f"{error}") from None
        if not _matches(request.value, gate.type):
            raise invalid(f"requested signal value is not castable to the signal's type "
                          f"({_type_name(gate.type)}) for signal {gate.signal_id!r}")
        gates.write_signal(self.store, record, gate, request.value)
        return signal_pb2.SignalSetResponse()


_PRIMITIVE_FOR_SIMPLE = {
    types_pb2.SimpleType.INTEGER: "integer", types_pb2.SimpleType.FLOAT: "float_value",
    types_pb2.SimpleType.STRING: "string_value", types_pb2.SimpleType.BOOLEAN: "boolean",
    types_pb2.SimpleType.DATETIME: "datetime", types_pb2.SimpleType.DURATION: "duration",
}


def _matches(literal, literal_type) -> bool:
    """A value of the gate's type: the primitive kind for simple types; the literal's shape
    (collection, map, blob, structured) otherwise, which is what flytekit sends."""
    kind = literal_type.WhichOneof("type")
    if kind == "simple" and literal_type.simple in _PRIMITIVE_FOR_SIMPLE:
        return (literal.WhichOneof("value") == "scalar"
                and literal.scalar.WhichOneof("value") == "primitive"
                and literal.scalar.primitive.WhichOneof("value")
                == _PRIMITIVE_FOR_SIMPLE[literal_type.simple])
    if kind == "collection_type":
        return literal.WhichOneof("value") == "collection"
    if kind == "map_value_type":
        return literal.WhichOneof("value") == "map"
    return literal.WhichOneof("value") is not None


def _type_name(literal_type) -> str:
    kind = literal_type.WhichOneof("type")
    if kind == "simple":
        return types_pb2.SimpleType.Name(literal_type.simple).lower()
    return kind or "unknown"


def add_to_server(store, server) -> None:
    signal_pb2_grpc.add_SignalServiceServicer_to_server(SignalService(store), server)

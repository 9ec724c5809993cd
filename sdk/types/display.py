"""JSON-friendly values of literals: what the CLIs print for outputs and execution details,
and what reproduction compares. Pure flyteidl (no type hints, no storage), so the engine, the
remote client and the CLI share it."""
from __future__ import annotations

import base64
import datetime as dt

from flyteidl.core import literals_pb2


def _scalar_value(scalar: literals_pb2.Scalar):
    kind = scalar.WhichOneof("value")
    if kind == "primitive":
        prim = scalar.primitive
        which = prim.WhichOneof("value")
        if which == "datetime":
            return prim.datetime.ToDatetime(tzinfo=dt.timezone.utc).isoformat()
        if which == "duration":
            return prim.duration.ToTimedelta().total_seconds()
        return getattr(prim, which) if which else None
    if kind == "none_type":
        return None
    if kind == "blob":
        return scalar.blob.uri
    if kind == "structured_dataset":
        return scalar.structured_dataset.uri
    if kind == "generic":
        from google.protobuf.json_format import MessageToDict

        return MessageToDict(scalar.generic)
    if kind == "binary":
        if scalar.binary.tag == "msgpack":
            try:
                import msgpack

                return msgpack.unpackb(scalar.binary.value, strict_map_key=False)
            except Exception:  # noqa: BLE001 - fall back to raw bytes
                pass
        return base64.b64encode(scalar.binary.value).decode()
    if kind == "union":
        return literal_to_plain(scalar.union.value)
    if kind == "error":
        return {"error": scalar.error.message}
    return None


def literal_to_plain(literal: literals_pb2.Literal):
    """A JSON-friendly value for printing outputs and execution details."""
    kind = literal.WhichOneof("value")
    if kind == "scalar":
        return _scalar_value(literal.scalar)
    if kind == "collection":
        return [literal_to_plain(item) for item in literal.collection.literals]
    if kind == "map":
        return {k: literal_to_plain(v) for k, v in literal.map.literals.items()}
    if kind == "offloaded_metadata":
        return literal.offloaded_metadata.uri
    return None


def literal_map_to_plain(literal_map: literals_pb2.LiteralMap) -> dict:
    return {name: literal_to_plain(lit) for name, lit in literal_map.literals.items()}

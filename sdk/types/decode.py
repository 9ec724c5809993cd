"""flyteidl `core.Literal` + hint -> Python value; reads what flytekit 1.16 writes."""

from __future__ import annotations

import datetime
import typing

from flyteidl.core import literals_pb2, types_pb2

from sdk.types import blob_values, plain
from sdk.types.blobs import Transfer
from sdk.types.compat import literal_types_match
from sdk.types.hints import Kind, classify
from sdk.types.literal_types import MSGPACK_TAG, to_literal_type
from sdk.types.problems import ValueMismatch, hint_name


_PRIMITIVE_NAMES = {
    "integer": "an integer",
    "float_value": "a float",
    "string_value": "a string",
    "boolean": "a boolean",
    "datetime": "a datetime",
    "duration": "a duration",
}


def describe(literal: literals_pb2.Literal) -> str:
    """A one-line summary of what a literal holds, for error messages."""
    kind = literal.WhichOneof("value")
    if kind != "scalar":
        return kind or "an empty literal"
    scalar_kind = literal.scalar.WhichOneof("value")
    if scalar_kind == "primitive":
        return _PRIMITIVE_NAMES.get(literal.scalar.primitive.WhichOneof("value"), "an empty primitive")
    if scalar_kind == "binary":
        return f"binary data tagged {literal.scalar.binary.tag!r}"
    return f"a {scalar_kind}" if scalar_kind else "an empty scalar"


def _wrong(literal: literals_pb2.Literal, hint: typing.Any) -> ValueMismatch:
    return ValueMismatch(f"the literal holds {describe(literal)}, expected {hint_name(hint)}")


def to_python(literal: literals_pb2.Literal, hint: typing.Any, transfer: typing.Optional[Transfer] = None):
    info = classify(hint)
    kind = info.kind
    scalar = literal.scalar if literal.WhichOneof("value") == "scalar" else None
    scalar_kind = scalar.WhichOneof("value") if scalar is not None else None

    if scalar_kind == "union" and kind is not Kind.UNION:
        # A union output read through a plain hint (e.g. an Optional value that is set).
        return to_python(scalar.union.value, hint, transfer)
    if kind is Kind.UNION:
        return _from_union(literal, hint, info.args, transfer)
    if scalar_kind == "binary" and scalar.binary.tag == MSGPACK_TAG:
        # Dataclasses and dicts always; any other type when propeller resolved `dc.field`.
        import msgpack  # imported when a value needs it: task containers start faster

        return plain.from_plain(msgpack.unpackb(scalar.binary.value, strict_map_key=False), hint, transfer)
    if scalar_kind == "generic" and kind in (Kind.DATACLASS, Kind.STRUCT_DICT, Kind.PYDANTIC):
        # The pre-1.14 JSON Struct encoding, still produced by the console and old flytekit.
        import json

        from google.protobuf import json_format

        return plain.from_plain(json.loads(json_format.MessageToJson(scalar.generic)), hint, transfer)

    if kind is Kind.LIST:
        if literal.WhichOneof("value") != "collection":
            raise _wrong(literal, hint)
        return [_at(f"[{i}]", lambda item=item: to_python(item, info.args[0], transfer))
                for i, item in enumerate(literal.collection.literals)]
    if kind is Kind.MAP:
        if literal.WhichOneof("value") != "map":
            raise _wrong(literal, hint)
        return {key: _at(f"[{key!r}]", lambda item=item: to_python(item, info.args[0], transfer))
                for key, item in literal.map.literals.items()}
    if kind in (Kind.FILE, Kind.DIRECTORY):
        if scalar_kind != "blob":
            raise _wrong(literal, hint)
        expected = types_pb2.BlobType.SINGLE if kind is Kind.FILE else types_pb2.BlobType.MULTIPART
        if scalar.blob.metadata.type.dimensionality != expected:
            other = "directory" if kind is Kind.FILE else "file"
            raise ValueMismatch(f"{scalar.blob.uri} is a {other}, not a {hint_name(hint)}")
        return blob_values.value_for(scalar.blob.uri, info.python_type, transfer)
    if kind in (Kind.DATAFRAME, Kind.STRUCTURED_DATASET):
        if scalar_kind != "structured_dataset":
            raise _wrong(literal, hint)
        from sdk.types import dataframes

        return dataframes.to_python(scalar.structured_dataset, info.python_type, info.args[0], transfer)
    if kind is Kind.NONE:
        if scalar_kind != "none_type":
            raise _wrong(literal, hint)
        return None
    if kind is Kind.ERROR:
        if scalar_kind != "error":
            raise _wrong(literal, hint)
        return info.python_type(message=scalar.error.message,
                                failed_node_id=scalar.error.failed_node_id)
    if kind is Kind.BYTES:
        if scalar_kind != "binary" or scalar.binary.tag != "bytes":
            raise _wrong(literal, hint)
        return bytes(scalar.binary.value)
    if scalar_kind != "primitive":
        raise _wrong(literal, hint)
    return _from_primitive(literal, scalar.primitive, info, hint)


def _from_primitive(literal, primitive: literals_pb2.Primitive, info, hint):
    which = primitive.WhichOneof("value")
    kind = info.kind
    if kind is Kind.INT:
        if which == "integer":
            return primitive.integer
        if which == "float_value" and primitive.float_value.is_integer():
            return int(primitive.float_value)  # the console sends numbers as floats
    elif kind is Kind.FLOAT:
        if which == "float_value":
            return primitive.float_value
        if which == "integer":
            return float(primitive.integer)
    elif kind is Kind.STR and which == "string_value":
        return primitive.string_value
    elif kind is Kind.BOOL and which == "boolean":
        return primitive.boolean
    elif kind is Kind.DATETIME and which == "datetime":
        return primitive.datetime.ToDatetime(tzinfo=datetime.timezone.utc)
    elif kind is Kind.TIMEDELTA and which == "duration":
        return primitive.duration.ToTimedelta()
    elif kind is Kind.ENUM and which == "string_value":
        return plain.enum_member(primitive.string_value, info.python_type)
    raise _wrong(literal, hint)


def _from_union(literal, hint, variants, transfer):
    scalar = literal.scalar if literal.WhichOneof("value") == "scalar" else None
    if scalar is not None and scalar.WhichOneof("value") == "union":
        stored = scalar.union.type
        inner = scalar.union.value
        tag = stored.structure.tag if stored.HasField("structure") else ""
        candidates = [
            v for v in variants
            if (not tag or classify(v).tag == tag) and literal_types_match(stored, to_literal_type(v))
        ]
    else:
        # A bare literal where a union is expected: try every member.
        inner, candidates = literal, list(variants)
    results = []
    for variant in candidates:
        try:
            results.append(to_python(inner, variant, transfer))
        except ValueMismatch:
            continue
    if len(results) == 1 or (results and inner is literal):
        return results[0]  # an untagged literal takes the first member that reads it
    if not results:
        raise ValueMismatch(f"the literal holds {describe(inner)}, which matches no member of {hint_name(hint)}")
    raise ValueMismatch(f"the literal fits several members of {hint_name(hint)}; make the union's members distinct")


def _at(where: str, convert):
    try:
        return convert()
    except ValueMismatch as exc:
        raise ValueMismatch(f"item {where}: {exc.detail}") from exc

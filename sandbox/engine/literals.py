"""Pure helpers over flyteidl literals: hashing for the cache and literals from command-line
text (the engine never imports user code or the type engine's Python-side transformers).
Plain values for display are sdk.types.display's."""
from __future__ import annotations

import datetime as dt
import json

from flyteidl.core import literals_pb2, types_pb2

from sdk.sha256 import sha256


def literal_digest(literal: literals_pb2.Literal) -> bytes:
    """A stable digest of one literal; a literal's own `hash` (set by offloading) wins."""
    if literal.hash:
        return literal.hash.encode()
    return sha256(literal.SerializeToString(deterministic=True)).digest()


def literal_map_digest(literals, ignore: set[str] = frozenset()) -> str:
    digest = sha256()
    for name in sorted(literals):
        if name in ignore:
            continue
        digest.update(name.encode() + b"\0" + literal_digest(literals[name]))
    return digest.hexdigest()


def _primitive(value, simple: int) -> literals_pb2.Literal:
    S = types_pb2.SimpleType
    prim = literals_pb2.Primitive()
    if simple == S.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            value = int(str(value), 0) if isinstance(value, str) else _strict_int(value)
        prim.integer = value
    elif simple == S.FLOAT:
        prim.float_value = float(value)
    elif simple == S.STRING:
        prim.string_value = value if isinstance(value, str) else json.dumps(value)
    elif simple == S.BOOLEAN:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"{value!r} is not a boolean (true/false)")
            value = lowered in ("true", "1", "yes")
        prim.boolean = bool(value)
    elif simple == S.DATETIME:
        stamp = dt.datetime.fromisoformat(str(value))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.timezone.utc)
        prim.datetime.FromDatetime(stamp)
    elif simple == S.DURATION:
        prim.duration.FromTimedelta(dt.timedelta(seconds=float(value)))
    elif simple == S.NONE:
        return literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))
    elif simple == S.STRUCT:
        from google.protobuf import struct_pb2

        struct = struct_pb2.Struct()
        struct.update(value if isinstance(value, dict) else json.loads(value))
        return literals_pb2.Literal(scalar=literals_pb2.Scalar(generic=struct))
    else:
        raise ValueError(f"simple type {types_pb2.SimpleType.Name(simple)} is not supported "
                         "on the command line; use --inputs-file")
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=prim))


def _strict_int(value) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"{value!r} is not an integer")


def literal_from_value(value, literal_type: types_pb2.LiteralType) -> literals_pb2.Literal:
    """Build a literal of `literal_type` from a plain (JSON-like) value."""
    kind = literal_type.WhichOneof("type")
    if kind == "simple":
        if literal_type.simple != types_pb2.SimpleType.STRING and isinstance(value, str) \
                and literal_type.simple in (types_pb2.SimpleType.STRUCT,):
            value = json.loads(value)
        return _primitive(value, literal_type.simple)
    if kind == "collection_type":
        if isinstance(value, str):
            value = json.loads(value)
        if not isinstance(value, list):
            raise ValueError(f"{value!r} is not a list")
        items = [literal_from_value(v, literal_type.collection_type) for v in value]
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))
    if kind == "map_value_type":
        if isinstance(value, str):
            value = json.loads(value)
        if not isinstance(value, dict):
            raise ValueError(f"{value!r} is not a JSON object")
        items = {str(k): literal_from_value(v, literal_type.map_value_type) for k, v in value.items()}
        return literals_pb2.Literal(map=literals_pb2.LiteralMap(literals=items))
    if kind == "blob":
        blob = literals_pb2.Blob(uri=str(value), metadata=literals_pb2.BlobMetadata(
            type=literal_type.blob))
        return literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=blob))
    if kind == "enum_type":
        if str(value) not in literal_type.enum_type.values:
            raise ValueError(f"{value!r} is not one of {list(literal_type.enum_type.values)}")
        return _primitive(str(value), types_pb2.SimpleType.STRING)
    if kind == "union_type":
        errors = []
        for variant in literal_type.union_type.variants:
            if value is None and variant.simple == types_pb2.SimpleType.NONE:
                inner = _primitive(None, types_pb2.SimpleType.NONE)
            else:
                try:
                    inner = literal_from_value(value, variant)
                except (ValueError, TypeError) as exc:
                    errors.append(str(exc))
                    continue
            union = literals_pb2.Union(value=inner, type=variant)
            return literals_pb2.Literal(scalar=literals_pb2.Scalar(union=union))
        raise ValueError(f"{value!r} matches no variant of the union ({'; '.join(errors)})")
    raise ValueError(f"type {kind} is not supported on the command line; use --inputs-file "
                     "with a serialized LiteralMap")


def literal_matches(literal: literals_pb2.Literal, literal_type: types_pb2.LiteralType) -> bool:
    """A shallow structural check, enough to reject an int where a str is declared."""
    kind = literal_type.WhichOneof("type")
    value_kind = literal.WhichOneof("value")
    if kind in ("union_type", None) or value_kind == "offloaded_metadata":
        return True
    if kind == "collection_type":
        return value_kind == "collection" and all(
            literal_matches(item, literal_type.collection_type)
            for item in literal.collection.literals)
    if kind == "map_value_type":
        return value_kind == "map" and all(
            literal_matches(item, literal_type.map_value_type)
            for item in literal.map.literals.values())
    if value_kind != "scalar":
        return False
    scalar_kind = literal.scalar.WhichOneof("value")
    if scalar_kind == "none_type":
        return True  # optional values arrive as none
    if kind == "simple":
        S = types_pb2.SimpleType
        expected = {S.INTEGER: "integer", S.FLOAT: "float_value", S.STRING: "string_value",
                    S.BOOLEAN: "boolean", S.DATETIME: "datetime", S.DURATION: "duration"}
        want = expected.get(literal_type.simple)
        if want is None:
            return True
        if scalar_kind != "primitive":
            return False
        got = literal.scalar.primitive.WhichOneof("value")
        return got == want or (want == "float_value" and got == "integer")
    if kind == "blob":
        return scalar_kind == "blob"
    return True


def describe_type(literal_type: types_pb2.LiteralType) -> str:
    """A short Python-like spelling of a literal type, for messages."""
    kind = literal_type.WhichOneof("type")
    if kind == "simple":
        names = {types_pb2.SimpleType.INTEGER: "int", types_pb2.SimpleType.FLOAT: "float",
                 types_pb2.SimpleType.STRING: "str", types_pb2.SimpleType.BOOLEAN: "bool",
                 types_pb2.SimpleType.DATETIME: "datetime",
                 types_pb2.SimpleType.DURATION: "timedelta", types_pb2.SimpleType.NONE: "None",
                 types_pb2.SimpleType.STRUCT: "dict"}
        return names.get(literal_type.simple, types_pb2.SimpleType.Name(literal_type.simple))
    if kind == "collection_type":
        return f"list[{describe_type(literal_type.collection_type)}]"
    if kind == "map_value_type":
        return f"dict[str, {describe_type(literal_type.map_value_type)}]"
    if kind == "union_type":
        return " | ".join(describe_type(v) for v in literal_type.union_type.variants)
    if kind == "blob":
        return "directory" if literal_type.blob.dimensionality else "file"
    if kind == "enum_type":
        return "one of " + ", ".join(literal_type.enum_type.values)
    return kind or "unknown"

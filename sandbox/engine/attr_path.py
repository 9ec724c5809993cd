"""Attribute access on an upstream value (`fruit.name`, `pair[0]` bound downstream), resolved
as propeller resolves a promise's `attr_path`:

- through map and collection literals, by key and index;
- then into a dataclass or pydantic value: a msgpack `Binary` (flytekit >= 1.14 writes these)
  or a protobuf `Struct` (older flytekit). The selected part comes back as a primitive literal
  when it is a plain scalar, a collection of msgpack values when it is a list, else msgpack
  (for Binary) or a Struct (for generic) again, so downstream tasks read it as on a cluster.
"""
from __future__ import annotations

from flyteidl.core import literals_pb2

from sdk.errors import SandboxError

MSGPACK = "msgpack"


class AttrPathError(SandboxError):
    """The path does not exist in the value (a missing key, an index out of range)."""


def _key(step):
    return step.string_value if step.WhichOneof("value") == "string_value" else step.int_value


def follow(literal: literals_pb2.Literal, attr_path, where: str) -> literals_pb2.Literal:
    path = list(attr_path)
    index = 0
    while index < len(path):
        kind = literal.WhichOneof("value")
        key = _key(path[index])
        if kind == "map":
            if not isinstance(key, str) or key not in literal.map.literals:
                raise AttrPathError(f"{where}: key {key!r} does not exist in the upstream map "
                                    f"(its keys: {sorted(literal.map.literals)})")
            literal = literal.map.literals[key]
        elif kind == "collection":
            items = literal.collection.literals
            if not isinstance(key, int) or not 0 <= key < len(items):
                raise AttrPathError(f"{where}: index {key!r} is out of range of the upstream "
                                    f"list of {len(items)}")
            literal = items[key]
        else:
            break
        index += 1
    rest = path[index:]
    if not rest:
        return literal
    scalar = literal.scalar if literal.WhichOneof("value") == "scalar" else None
    if scalar is not None and scalar.WhichOneof("value") == "binary":
        return _in_binary(scalar.binary, rest, where)
    if scalar is not None and scalar.WhichOneof("value") == "generic":
        return _in_struct(scalar.generic, rest, where)
    raise AttrPathError(f"{where}: cannot select {_key(rest[0])!r} from an upstream value that "
                        "is neither a map, a list, a dataclass nor a pydantic model")


def _walk(value, steps, where: str, keys_must_be_text: bool):
    for step in steps:
        key = _key(step)
        if isinstance(value, dict):
            if keys_must_be_text and step.WhichOneof("value") != "string_value":
                raise AttrPathError(f"{where}: a field name is expected, not index {key!r}")
            if key not in value:
                raise AttrPathError(f"{where}: attribute {key!r} does not exist in the upstream "
                                    f"value (its attributes: {sorted(map(str, value))})")
            value = value[key]
        elif isinstance(value, list):
            if not isinstance(key, int) or not 0 <= key < len(value):
                raise AttrPathError(f"{where}: index {key!r} is out of range of the upstream "
                                    f"list of {len(value)}")
            value = value[key]
        else:
            raise AttrPathError(f"{where}: cannot select {key!r} from {type(value).__name__} "
                                f"value {value!r}")
    return value


def _primitive(value) -> literals_pb2.Literal | None:
    literal = literals_pb2.Literal()
    primitive = literal.scalar.primitive
    if isinstance(value, bool):  # before int: bool is an int in Python
        primitive.boolean = value
    elif isinstance(value, int):
        if not -2**63 <= value < 2**63:
            raise AttrPathError(f"integer {value} does not fit in 64 bits")
        primitive.integer = value
    elif isinstance(value, float):
        primitive.float_value = value
    elif isinstance(value, str):
        primitive.string_value = value
    else:
        return None
    return literal


def _msgpack_literal(value, tag: str) -> literals_pb2.Literal:
    import msgpack

    literal = literals_pb2.Literal()
    literal.scalar.binary.value = msgpack.packb(value)
    literal.scalar.binary.tag = tag
    return literal


def _in_binary(binary, steps, where: str) -> literals_pb2.Literal:
    import msgpack

    if binary.tag != MSGPACK:
        raise AttrPathError(f"{where}: the upstream value is serialized as {binary.tag!r}; "
                            "attribute access reads msgpack values only")
    value = msgpack.unpackb(binary.value, raw=False, strict_map_key=False)
    value = _walk(value, steps, where, keys_must_be_text=True)
    if isinstance(value, list):
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(
            literals=[_msgpack_literal(item, binary.tag) for item in value]))
    return _primitive(value) or _msgpack_literal(value, binary.tag)


def _in_struct(struct, steps, where: str) -> literals_pb2.Literal:
    from google.protobuf import json_format

    value = _walk(json_format.MessageToDict(struct), steps, where, keys_must_be_text=False)
    return _plain_literal(value)


def _plain_literal(value) -> literals_pb2.Literal:
    if isinstance(value, dict):
        literal = literals_pb2.Literal()
        literal.scalar.generic.update(value)
        return literal
    if isinstance(value, list):
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(
            literals=[_plain_literal(item) for item in value]))
    return _primitive(value) or literals_pb2.Literal()

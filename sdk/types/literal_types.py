"""Python type hint -> flyteidl `core.LiteralType`, shaped exactly as flytekit 1.16 shapes it."""

from __future__ import annotations

import typing

from flyteidl.core import types_pb2
from google.protobuf import struct_pb2

from sdk.types.hints import Hint, Kind, cache_key, classify, dataclass_field_hints
from sdk.types.problems import UnsupportedHint
from sdk.types import json_schema, pydantic_models, structured

MSGPACK_TAG = "msgpack"

_SIMPLE = {
    Kind.INT: types_pb2.INTEGER,
    Kind.FLOAT: types_pb2.FLOAT,
    Kind.STR: types_pb2.STRING,
    Kind.BOOL: types_pb2.BOOLEAN,
    Kind.DATETIME: types_pb2.DATETIME,
    Kind.TIMEDELTA: types_pb2.DURATION,
    Kind.NONE: types_pb2.NONE,
    # flytekit has no transformer for bytes (it falls back to a pickle file); Skiff carries
    # bytes inline as a Binary scalar with tag "bytes", typed as the BINARY simple type.
    Kind.BYTES: types_pb2.BINARY,
    Kind.ERROR: types_pb2.ERROR,
}


def _msgpack_annotation() -> types_pb2.TypeAnnotation:
    # flytekit marks msgpack-encoded types so the cache key hashes the serialization format too.
    annotations = struct_pb2.Struct()
    annotations.update({"cache-key-metadata": {"serialization-format": MSGPACK_TAG}})
    return types_pb2.TypeAnnotation(annotations=annotations)


def literal_type_for(info: Hint) -> types_pb2.LiteralType:
    kind = info.kind
    if kind in _SIMPLE:
        return types_pb2.LiteralType(simple=_SIMPLE[kind])
    if kind is Kind.LIST:
        return types_pb2.LiteralType(collection_type=to_literal_type(info.args[0]))
    if kind is Kind.MAP:
        return types_pb2.LiteralType(map_value_type=to_literal_type(info.args[0]))
    if kind is Kind.STRUCT_DICT:
        return types_pb2.LiteralType(simple=types_pb2.STRUCT, annotation=_msgpack_annotation())
    if kind is Kind.UNION:
        return types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=[union_variant(v) for v in info.args]))
    if kind is Kind.ENUM:
        return types_pb2.LiteralType(enum_type=types_pb2.EnumType(values=[m.value for m in info.python_type]))
    if kind is Kind.FILE:
        return types_pb2.LiteralType(blob=types_pb2.BlobType(format="", dimensionality=types_pb2.BlobType.SINGLE))
    if kind is Kind.DIRECTORY:
        return types_pb2.LiteralType(blob=types_pb2.BlobType(format="", dimensionality=types_pb2.BlobType.MULTIPART))
    if kind in (Kind.DATAFRAME, Kind.STRUCTURED_DATASET):
        return structured.literal_type(info.args[0])
    if kind is Kind.PYDANTIC:
        cls = info.python_type
        return _struct_literal_type(pydantic_models.json_schema(cls), pydantic_models.field_hints(cls))
    cls = info.python_type
    fields = [(field.name, hint) for field, hint in dataclass_field_hints(cls)]
    return _struct_literal_type(json_schema.dataclass_schema(cls), fields)


def _struct_literal_type(schema: dict, fields: list) -> types_pb2.LiteralType:
    """A dataclass or model: its JSON schema, its fields' types and the msgpack annotation."""
    metadata = struct_pb2.Struct()
    metadata.update(schema)
    # Each field's own LiteralType, so that propeller can type `dc.field` attribute access.
    field_types = {}
    for name, hint in fields:
        try:
            field_types[name] = to_literal_type(hint)
        except UnsupportedHint:
            continue  # flytekit skips fields it cannot type here, too
    return types_pb2.LiteralType(
        simple=types_pb2.STRUCT,
        metadata=metadata,
        structure=types_pb2.TypeStructure(tag="", dataclass_type=field_types),
        annotation=_msgpack_annotation(),
    )


def union_variant(hint: typing.Any) -> types_pb2.LiteralType:
    """A union member's type: its own LiteralType whose structure is only the variant's tag."""
    info = classify(hint)
    variant = types_pb2.LiteralType()
    variant.CopyFrom(literal_type_for(info))
    variant.structure.CopyFrom(types_pb2.TypeStructure(tag=info.tag))
    return variant


_CACHE: dict = {}


def to_literal_type(hint: typing.Any) -> types_pb2.LiteralType:
    """The LiteralType of `hint` (a fresh message each call: callers may modify it)."""
    key = cache_key(hint)
    try:
        cached = _CACHE.get(key)
    except TypeError:  # an unhashable hint, e.g. Annotated with a dict
        cached = None
    if cached is None:
        cached = literal_type_for(classify(hint))
        try:
            _CACHE[key] = cached
        except TypeError:
            pass
    result = types_pb2.LiteralType()
    result.CopyFrom(cached)
    return result

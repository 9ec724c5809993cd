"""LiteralType -> a Python type that reads it (best effort, for CLIs reading remote interfaces)."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import typing

from flyteidl.core import types_pb2

from sdk.types.blobs import Directory, File
from sdk.types.problems import UnsupportedHint
from sdk.types.structured import StructuredDataset

_SIMPLE_TYPES = {
    types_pb2.NONE: type(None),
    types_pb2.INTEGER: int,
    types_pb2.FLOAT: float,
    types_pb2.STRING: str,
    types_pb2.BOOLEAN: bool,
    types_pb2.DATETIME: datetime.datetime,
    types_pb2.DURATION: datetime.timedelta,
    types_pb2.BINARY: bytes,
}


def _error_type():
    from sdk.types.error import FlyteError

    return FlyteError


def guess_python_type(lt: types_pb2.LiteralType) -> typing.Any:
    kind = lt.WhichOneof("type")
    if kind == "simple":
        if lt.simple == types_pb2.STRUCT:
            return _guess_struct(lt)
        if lt.simple in _SIMPLE_TYPES:
            return _SIMPLE_TYPES[lt.simple]
        if lt.simple == types_pb2.ERROR:
            return _error_type()
    elif kind == "collection_type":
        return list[guess_python_type(lt.collection_type)]
    elif kind == "map_value_type":
        return dict[str, guess_python_type(lt.map_value_type)]
    elif kind == "union_type":
        return typing.Union[tuple(guess_python_type(v) for v in lt.union_type.variants)]
    elif kind == "enum_type":
        return enum.Enum("DynamicEnum", {v: v for v in lt.enum_type.values})
    elif kind == "structured_dataset_type":
        return StructuredDataset
    elif kind == "blob":
        return Directory if lt.blob.dimensionality == types_pb2.BlobType.MULTIPART else File
    raise UnsupportedHint(lt, f"no Python type reads a literal of type {lt}")


def _guess_struct(lt: types_pb2.LiteralType) -> typing.Any:
    fields = lt.structure.dataclass_type
    if not fields:
        return dict
    title = lt.metadata.fields.get("title")
    name = title.string_value if title is not None and title.string_value else "DynamicDataclass"
    # Sorted field names: protobuf maps keep no order, and the same LiteralType must always
    # build the same class.
    return dataclasses.make_dataclass(name, [(k, guess_python_type(fields[k])) for k in sorted(fields)])

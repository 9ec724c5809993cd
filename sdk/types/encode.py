"""Python value + hint -> flyteidl `core.Literal`, encoded as flytekit 1.16 encodes it."""

from __future__ import annotations

import datetime
import typing

from flyteidl.core import literals_pb2, types_pb2

from sdk.types import blob_values, plain
from sdk.types.blobs import Transfer
from sdk.types.hints import Kind, classify
from sdk.types.literal_types import MSGPACK_TAG, union_variant
from sdk.types.problems import ValueMismatch, hint_name, shorten, type_mismatch

BYTES_TAG = "bytes"


def _scalar(**kwargs) -> literals_pb2.Literal:
    return literals_pb2.Literal(scalar=literals_pb2.Scalar(**kwargs))


def _primitive(**kwargs) -> literals_pb2.Literal:
    return _scalar(primitive=literals_pb2.Primitive(**kwargs))


_mismatch = type_mismatch


def to_literal(value: typing.Any, hint: typing.Any, transfer: typing.Optional[Transfer] = None) -> literals_pb2.Literal:
    info = classify(hint)
    kind = info.kind
    if kind is Kind.INT:
        if type(value) is not int:  # bool is an int subclass, but not an int input
            raise _mismatch(value, hint)
        return _primitive(integer=value)
    if kind is Kind.FLOAT:
        if type(value) not in (int, float):
            raise _mismatch(value, hint)
        return _primitive(float_value=float(value))
    if kind is Kind.STR:
        if not isinstance(value, str) or plain._is_enum(value):
            raise _mismatch(value, hint)
        return _primitive(string_value=str(value))
    if kind is Kind.BOOL:
        if type(value) is not bool:
            raise _mismatch(value, hint)
        return _primitive(boolean=value)
    if kind is Kind.DATETIME:
        if not isinstance(value, datetime.datetime):
            raise _mismatch(value, hint)
        literal = _primitive()
        # A naive datetime is taken as UTC, as flytekit does.
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        literal.scalar.primitive.datetime.FromDatetime(value)
        return literal
    if kind is Kind.TIMEDELTA:
        if not isinstance(value, datetime.timedelta):
            raise _mismatch(value, hint)
        literal = _primitive()
        literal.scalar.primitive.duration.FromTimedelta(value)
        return literal
    if kind is Kind.NONE:
        if value is not None:
            raise _mismatch(value, hint)
        return _scalar(none_type=literals_pb2.Void())
    if kind is Kind.BYTES:
        if not isinstance(value, (bytes, bytearray)):
            raise _mismatch(value, hint)
        return _scalar(binary=literals_pb2.Binary(value=bytes(value), tag=BYTES_TAG))
    if kind is Kind.LIST:
        if not isinstance(value, list):
            raise _mismatch(value, hint)
        items = [_at(f"[{i}]", lambda v=v: to_literal(v, info.args[0], transfer)) for i, v in enumerate(value)]
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))
    if kind is Kind.MAP:
        if not isinstance(value, dict):
            raise _mismatch(value, hint)
        entries = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueMismatch(f"key {shorten(key)} is not a str; a dict[str, T] needs str keys")
            entries[key] = _at(f"[{key!r}]", lambda item=item: to_literal(item, info.args[0], transfer))
        return literals_pb2.Literal(map=literals_pb2.LiteralMap(literals=entries))
    if kind is Kind.UNION:
        return _union_literal(value, hint, info.args, transfer)
    if kind is Kind.ERROR:
        if type(value) is not info.python_type:
            raise _mismatch(value, hint)
        return _scalar(error=types_pb2.Error(failed_node_id=value.failed_node_id,
                                                message=value.message))
    if kind is Kind.ENUM:
        return _primitive(string_value=plain.enum_value(value, info.python_type))
    if kind in (Kind.FILE, Kind.DIRECTORY):
        dimensionality = types_pb2.BlobType.SINGLE if kind is Kind.FILE else types_pb2.BlobType.MULTIPART
        uri = blob_values.uri_for(value, info.python_type, transfer)
        blob = literals_pb2.Blob(
            metadata=literals_pb2.BlobMetadata(type=types_pb2.BlobType(format="", dimensionality=dimensionality)),
            uri=uri,
        )
        return _scalar(blob=blob)
    if kind in (Kind.DATAFRAME, Kind.STRUCTURED_DATASET):
        from sdk.types import dataframes

        return dataframes.to_literal(value, info.python_type, info.args[0], transfer)
    # dataclasses and untyped dicts travel as msgpack bytes
    try:
        import msgpack  # imported when a value needs it: task containers start faster

        data = msgpack.packb(plain.to_plain(value, hint, transfer))
    except (TypeError, ValueError, OverflowError) as exc:  # e.g. an untyped dict holding objects
        raise ValueMismatch(
            f"{shorten(value)} holds a value msgpack cannot encode ({exc}); give the dict a typed "
            "hint such as dict[str, T] or use a dataclass"
        ) from exc
    return _scalar(binary=literals_pb2.Binary(value=data, tag=MSGPACK_TAG))


# Python types whose values belong to exactly one variant when several accept them.
_EXACT = {Kind.INT: int, Kind.FLOAT: float, Kind.STR: str, Kind.BOOL: bool}


def _union_literal(value, hint, variants, transfer) -> literals_pb2.Literal:
    matches = []
    for variant in variants:
        try:
            matches.append((variant, to_literal(value, variant, transfer)))
        except ValueMismatch:
            continue
    if len(matches) > 1:
        # 1 fits both int and float: prefer the variant of the value's own type.
        exact = [m for m in matches if _EXACT.get(classify(m[0]).kind) is type(value)]
        if len(exact) == 1:
            matches = exact
        else:
            names = ", ".join(hint_name(m[0]) for m in matches)
            raise ValueMismatch(
                f"{shorten(value)} fits several members of {hint_name(hint)} ({names}); make the union's members distinct"
            )
    if not matches:
        raise ValueMismatch(f"{shorten(value)} ({type(value).__name__}) matches no member of {hint_name(hint)}")
    variant, literal = matches[0]
    return _scalar(union=literals_pb2.Union(value=literal, type=union_variant(variant)))


def _at(where: str, convert):
    try:
        return convert()
    except ValueMismatch as exc:
        raise ValueMismatch(f"item {where}: {exc.detail}") from exc

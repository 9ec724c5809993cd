"""Python values <-> plain msgpack-able values, as mashumaro encodes dataclass fields for flytekit.

A dataclass literal is a msgpack map of its fields. Field values follow mashumaro's msgpack
dialect, which flytekit 1.16 uses: datetime as an ISO 8601 string, timedelta as float seconds,
enums by value, bytes as msgpack bin, nested dataclasses as maps, File/Directory as
{"path": uri}. Reading back checks each value against its field's hint.
"""

from __future__ import annotations

import base64
import datetime
import enum
import typing

from sdk.types import blob_values, pydantic_models
from sdk.types.blobs import Transfer
from sdk.types.hints import Kind, classify, dataclass_field_hints
from sdk.types.problems import ValueMismatch, hint_name, shorten, type_mismatch


def _expect(ok: bool, value: typing.Any, hint: typing.Any) -> None:
    if not ok:
        raise type_mismatch(value, hint)


def to_plain(value: typing.Any, hint: typing.Any, transfer: typing.Optional[Transfer] = None) -> typing.Any:
    info = classify(hint)
    kind = info.kind
    if kind is Kind.INT:
        _expect(type(value) is int, value, hint)
        return value
    if kind is Kind.FLOAT:
        _expect(type(value) in (int, float), value, hint)
        return float(value)
    if kind is Kind.STR:
        _expect(isinstance(value, str) and not _is_enum(value), value, hint)
        return str(value)
    if kind is Kind.BOOL:
        _expect(type(value) is bool, value, hint)
        return value
    if kind is Kind.BYTES:
        _expect(isinstance(value, (bytes, bytearray)), value, hint)
        return bytes(value)
    if kind is Kind.DATETIME:
        _expect(isinstance(value, datetime.datetime), value, hint)
        return value.isoformat()
    if kind is Kind.TIMEDELTA:
        _expect(isinstance(value, datetime.timedelta), value, hint)
        return value.total_seconds()
    if kind is Kind.NONE:
        _expect(value is None, value, hint)
        return None
    if kind is Kind.LIST:
        _expect(isinstance(value, list), value, hint)
        return [to_plain(v, info.args[0], transfer) for v in value]
    if kind is Kind.MAP:
        _expect(isinstance(value, dict) and all(isinstance(k, str) for k in value), value, hint)
        return {k: to_plain(v, info.args[0], transfer) for k, v in value.items()}
    if kind is Kind.STRUCT_DICT:
        _expect(isinstance(value, dict), value, hint)
        if not info.args:
            return value
        return {to_plain(k, info.args[0], transfer): to_plain(v, info.args[1], transfer) for k, v in value.items()}
    if kind is Kind.UNION:
        # mashumaro packs a union with the first variant that accepts the value.
        for variant in info.args:
            try:
                return to_plain(value, variant, transfer)
            except ValueMismatch:
                continue
        raise ValueMismatch(f"{shorten(value)} ({type(value).__name__}) matches no member of {hint_name(hint)}")
    if kind is Kind.ENUM:
        return enum_value(value, info.python_type)
    if kind in (Kind.FILE, Kind.DIRECTORY):
        return {"path": blob_values.uri_for(value, info.python_type, transfer)}
    if kind is Kind.PYDANTIC:
        return pydantic_models.to_plain(value, info.python_type, transfer)
    if kind in (Kind.DATAFRAME, Kind.STRUCTURED_DATASET):
        # As flytekit's StructuredDataset serialises itself inside a dataclass.
        from sdk.types import dataframes

        stored = dataframes.to_literal(value, info.python_type, info.args[0], transfer).scalar.structured_dataset
        return {"uri": stored.uri, "file_format": stored.metadata.structured_dataset_type.format}
    # dataclass
    cls = info.python_type
    _expect(isinstance(value, cls), value, hint)
    return {
        field.name: _in_field(field.name, cls, lambda: to_plain(getattr(value, field.name), field_hint, transfer))
        for field, field_hint in dataclass_field_hints(cls)
    }


def from_plain(obj: typing.Any, hint: typing.Any, transfer: typing.Optional[Transfer] = None) -> typing.Any:
    info = classify(hint)
    kind = info.kind
    if kind is Kind.INT:
        # A float with no fraction is an int that went through JSON (the console, a Struct).
        if type(obj) is float and obj.is_integer():
            return int(obj)
        _expect(type(obj) is int, obj, hint)
        return obj
    if kind is Kind.FLOAT:
        _expect(type(obj) in (int, float), obj, hint)
        return float(obj)
    if kind is Kind.STR:
        _expect(isinstance(obj, str), obj, hint)
        return obj
    if kind is Kind.BOOL:
        _expect(type(obj) is bool, obj, hint)
        return obj
    if kind is Kind.BYTES:
        if isinstance(obj, str):  # the JSON dialect carries bytes as base64
            return base64.b64decode(obj)
        _expect(isinstance(obj, (bytes, bytearray)), obj, hint)
        return bytes(obj)
    if kind is Kind.DATETIME:
        _expect(isinstance(obj, str), obj, hint)
        try:
            return datetime.datetime.fromisoformat(obj)
        except ValueError as exc:
            raise ValueMismatch(f"{shorten(obj)} is not an ISO 8601 datetime") from exc
    if kind is Kind.TIMEDELTA:
        _expect(type(obj) in (int, float), obj, hint)
        return datetime.timedelta(seconds=obj)
    if kind is Kind.NONE:
        _expect(obj is None, obj, hint)
        return None
    if kind is Kind.LIST:
        _expect(isinstance(obj, list), obj, hint)
        return [from_plain(v, info.args[0], transfer) for v in obj]
    if kind is Kind.MAP:
        _expect(isinstance(obj, dict), obj, hint)
        return {k: from_plain(v, info.args[0], transfer) for k, v in obj.items()}
    if kind is Kind.STRUCT_DICT:
        _expect(isinstance(obj, dict), obj, hint)
        if not info.args:
            return obj
        return {from_plain(k, info.args[0], transfer): from_plain(v, info.args[1], transfer) for k, v in obj.items()}
    if kind is Kind.UNION:
        for variant in info.args:
            try:
                return from_plain(obj, variant, transfer)
            except ValueMismatch:
                continue
        raise ValueMismatch(f"{shorten(obj)} matches no member of {hint_name(hint)}")
    if kind is Kind.ENUM:
        return enum_member(obj, info.python_type)
    if kind in (Kind.FILE, Kind.DIRECTORY):
        _expect(isinstance(obj, dict) and isinstance(obj.get("path"), str), obj, hint)
        return blob_values.value_for(obj["path"], info.python_type, transfer)
    if kind is Kind.PYDANTIC:
        return pydantic_models.from_plain(obj, info.python_type, transfer)
    if kind in (Kind.DATAFRAME, Kind.STRUCTURED_DATASET):
        _expect(isinstance(obj, dict) and isinstance(obj.get("uri"), str), obj, hint)
        from sdk.types import dataframes

        return dataframes.to_python(dataframes.stored_dataset(obj["uri"], obj.get("file_format") or ""),
                                    info.python_type, info.args[0], transfer)
    cls = info.python_type
    _expect(isinstance(obj, dict), obj, hint)
    kwargs = {}
    for field, field_hint in dataclass_field_hints(cls):
        if field.name in obj and field.init:
            kwargs[field.name] = _in_field(
                field.name, cls, lambda: from_plain(obj[field.name], field_hint, transfer)
            )
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing from the literal
        raise ValueMismatch(f"cannot build {cls.__name__} from {shorten(obj)}: {exc}") from exc


def to_json_default(value: typing.Any, hint: typing.Any) -> typing.Any:
    """A field default as mashumaro writes it into the JSON schema (JSON dialect)."""
    if value is None:
        return None
    info = classify(hint)
    if info.kind is Kind.BYTES and isinstance(value, (bytes, bytearray)):
        return base64.encodebytes(bytes(value)).decode()
    try:
        return to_plain(value, hint)
    except ValueMismatch:
        return None


def enum_value(value: typing.Any, enum_class: type) -> str:
    """The string value of an enum member, or of a raw string naming one of its values."""
    values = [m.value for m in enum_class]
    if isinstance(value, enum_class):
        return value.value
    if isinstance(value, str) and not _is_enum(value) and value in values:
        return value
    raise ValueMismatch(f"{shorten(value)} is not a member of {enum_class.__name__} (values: {values})")


def enum_member(value: typing.Any, enum_class: type):
    try:
        return enum_class(value)
    except ValueError as exc:
        values = [m.value for m in enum_class]
        raise ValueMismatch(f"{shorten(value)} is not a value of {enum_class.__name__} (values: {values})") from exc


def _is_enum(value: typing.Any) -> bool:
    return isinstance(value, enum.Enum)


def _in_field(name: str, cls: type, convert):
    try:
        return convert()
    except ValueMismatch as exc:
        raise ValueMismatch(f"field {cls.__name__}.{name}: {exc.detail}") from exc

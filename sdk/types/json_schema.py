"""The JSON schema flytekit puts in a dataclass's LiteralType metadata.

Flytekit 1.16 builds it with mashumaro's `build_json_schema` (draft 2020-12): nested dataclasses
inline, `anyOf` for unions, a `default` for each field with a plain default value. This module
produces the same document for the hints Skiff supports, so the two SDKs compile dataclass
interfaces to equal LiteralTypes. The UI and CLIs use it to build input forms.
"""

from __future__ import annotations

import dataclasses
import typing

from sdk.types.hints import Kind, classify, dataclass_field_hints
from sdk.types import plain, pydantic_models
from sdk.types.problems import UnsupportedHint

_PATH_SCHEMA = {"anyOf": [{"type": "string"}, {"type": "string", "format": "path"}], "default": None}

# How mashumaro describes flytekit's FlyteFile / FlyteDirectory (their own dataclass fields).
_FILE_SCHEMA = {
    "type": "object",
    "title": "FlyteFile",
    "properties": {
        "path": _PATH_SCHEMA,
        "metadata": {
            "anyOf": [
                {"type": "object", "additionalProperties": {"type": "string"}, "propertyNames": {"type": "string"}},
                {"type": "null"},
            ],
            "default": None,
        },
    },
    "additionalProperties": False,
}
_DIRECTORY_SCHEMA = {
    "type": "object",
    "title": "FlyteDirectory",
    "properties": {"path": _PATH_SCHEMA},
    "additionalProperties": False,
}

# How mashumaro describes flytekit's StructuredDataset (its uri and file_format fields).
_DATASET_SCHEMA = {
    "type": "object",
    "title": "StructuredDataset",
    "properties": {
        "uri": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "file_format": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": ""},
    },
    "additionalProperties": False,
}

_SIMPLE = {
    Kind.INT: {"type": "integer"},
    Kind.FLOAT: {"type": "number"},
    Kind.STR: {"type": "string"},
    Kind.BOOL: {"type": "boolean"},
    Kind.BYTES: {"type": "string", "format": "base64"},
    Kind.DATETIME: {"type": "string", "format": "date-time"},
    Kind.TIMEDELTA: {"type": "number", "format": "time-delta"},
    Kind.NONE: {"type": "null"},
}


def schema_for(hint: typing.Any) -> dict:
    info = classify(hint)
    kind = info.kind
    if kind in _SIMPLE:
        return dict(_SIMPLE[kind])
    if kind is Kind.LIST:
        return {"type": "array", "items": schema_for(info.args[0])}
    if kind is Kind.MAP:
        return {
            "type": "object",
            "additionalProperties": schema_for(info.args[0]),
            "propertyNames": {"type": "string"},
        }
    if kind is Kind.STRUCT_DICT:
        if not info.args:
            return {"type": "object"}
        return {
            "type": "object",
            "additionalProperties": schema_for(info.args[1]),
            "propertyNames": schema_for(info.args[0]),
        }
    if kind is Kind.UNION:
        return {"anyOf": [schema_for(v) for v in info.args]}
    if kind is Kind.ENUM:
        return {"enum": [m.value for m in info.python_type]}
    if kind is Kind.FILE:
        return _deep_copy(_FILE_SCHEMA)
    if kind is Kind.DIRECTORY:
        return _deep_copy(_DIRECTORY_SCHEMA)
    if kind is Kind.PYDANTIC:
        return pydantic_models.json_schema(info.python_type)
    if kind is Kind.STRUCTURED_DATASET:
        return _deep_copy(_DATASET_SCHEMA)
    if kind is Kind.DATAFRAME:
        raise UnsupportedHint(info.python_type, "a dataframe cannot be a dataclass field; use StructuredDataset")
    return dataclass_schema(info.python_type)


def blob_schema(is_directory: bool) -> dict:
    """A fresh copy of the schema of flytekit's FlyteFile or FlyteDirectory."""
    return _deep_copy(_DIRECTORY_SCHEMA if is_directory else _FILE_SCHEMA)


def dataclass_schema(cls: type) -> dict:
    properties = {}
    required = []
    for field, hint in dataclass_field_hints(cls):
        prop = schema_for(hint)
        if field.default is not dataclasses.MISSING:
            prop["default"] = plain.to_json_default(field.default, hint)
        elif field.default_factory is dataclasses.MISSING:
            required.append(field.name)
        properties[field.name] = prop
    schema: dict = {"type": "object", "title": cls.__name__, "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def _deep_copy(value):
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value

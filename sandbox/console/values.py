"""Literal maps as typed values for the pages: each variable's declared type (Python-like
spelling), a JSON-friendly value, cut to a preview when large, and the blob URI of a
File/Directory/DataFrame so the page can offer a download."""
from __future__ import annotations

import json

from flyteidl.core import literals_pb2

from sandbox.engine.literals import describe_type
from sdk.types.display import literal_to_plain

PREVIEW_CHARS = 2000


def _blob_of(literal: literals_pb2.Literal) -> dict | None:
    if literal.WhichOneof("value") != "scalar":
        return None
    scalar = literal.scalar
    kind = scalar.WhichOneof("value")
    if kind == "union":
        return _blob_of(scalar.union.value)
    if kind == "blob":
        return {"uri": scalar.blob.uri,
                "kind": "directory" if scalar.blob.metadata.type.dimensionality else "file"}
    if kind == "structured_dataset":
        return {"uri": scalar.structured_dataset.uri, "kind": "dataframe"}
    return None


def type_name(literal_type) -> str:
    if literal_type is None:
        return ""
    kind = literal_type.WhichOneof("type")
    if kind == "structured_dataset_type":
        return "DataFrame"
    if kind == "simple" and literal_type.simple == 9:  # BINARY: pydantic / dataclass as msgpack
        return "object"
    return describe_type(literal_type)


def typed_values(literal_map: literals_pb2.LiteralMap | None, variables=None,
                 full: bool = False) -> list[dict]:
    """[{name, type, value, truncated, blob}] in the interface's order (then any others)."""
    if literal_map is None:
        return []
    names = [n for n in (variables or {}) if n in literal_map.literals]
    names += sorted(n for n in literal_map.literals if n not in names)
    shown = []
    for name in names:
        literal = literal_map.literals[name]
        variable = variables.get(name) if variables else None
        value = literal_to_plain(literal)
        text = json.dumps(value, default=str)
        truncated = not full and len(text) > PREVIEW_CHARS
        shown.append({
            "name": name,
            "type": type_name(variable.type) if variable is not None else "",
            "value": text[:PREVIEW_CHARS] + " …" if truncated else value,
            "truncated": truncated,
            "blob": _blob_of(literal),
        })
    return shown


def parse_map(data: bytes | None) -> literals_pb2.LiteralMap | None:
    return None if data is None else literals_pb2.LiteralMap.FromString(data)

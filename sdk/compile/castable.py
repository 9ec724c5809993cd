"""Whether a value of one Flyte literal type may feed a variable of another, as Flyte's
compiler decides when it checks a workflow's bindings (flytepropeller's type checkers).

Where Flyte compares JSON schemas of two dataclasses, this module accepts the binding: a
compiler that refuses less than flyteadmin is safe, one that refuses more is not.
"""
from __future__ import annotations

from flyteidl.core import types_pb2

NONE = types_pb2.NONE
STRING = types_pb2.STRING
STRUCT = types_pb2.STRUCT


def _is_none(t: types_pb2.LiteralType) -> bool:
    return t.WhichOneof("type") == "simple" and t.simple == NONE


def _tag(t: types_pb2.LiteralType) -> str:
    return t.structure.tag if t.HasField("structure") else ""


def _without_decorations(t: types_pb2.LiteralType) -> bytes:
    copy = types_pb2.LiteralType()
    copy.CopyFrom(t)
    for field in ("structure", "metadata", "annotation"):
        copy.ClearField(field)
    return copy.SerializeToString(deterministic=True)


def _trivial(down: types_pb2.LiteralType, up: types_pb2.LiteralType) -> bool:
    if up.WhichOneof("type") == "enum_type" and down.WhichOneof("type") == "simple" \
            and down.simple == STRING:
        return True
    if down.WhichOneof("type") == "enum_type" and up.WhichOneof("type") == "simple" \
            and up.simple == STRING:
        return True
    if _tag(up) and _tag(up) != _tag(down):
        return False
    if up.WhichOneof("type") == "simple" and up.simple == STRUCT \
            and down.WhichOneof("type") == "simple" and down.simple == STRUCT:
        return True  # Flyte compares the two JSON schemas here; see the module's docstring
    return _without_decorations(up) == _without_decorations(down)


def _columns_fit(up_cols: dict, down_cols, same) -> bool:
    if not up_cols or not down_cols:
        return True
    for name, kind in down_cols:
        if name not in up_cols or not same(up_cols[name], kind):
            return False
    return True


def _casts_from(down: types_pb2.LiteralType, up: types_pb2.LiteralType) -> bool:
    kind = down.WhichOneof("type")
    if kind == "collection_type":
        if up.WhichOneof("type") != "collection_type":
            return False
        return _is_none(up.collection_type) or _casts_from(down.collection_type,
                                                           up.collection_type)
    if kind == "map_value_type":
        if up.WhichOneof("type") != "map_value_type":
            return False
        return _is_none(up.map_value_type) or _casts_from(down.map_value_type, up.map_value_type)
    if kind == "blob":
        if up.WhichOneof("type") != "blob":
            return False
        return not up.blob.format or not down.blob.format or up.blob.format == down.blob.format
    if kind == "union_type":
        variants = down.union_type.variants
        if up.WhichOneof("type") == "union_type":
            return all(any(castable(u, d) for d in variants) for u in up.union_type.variants)
        return sum(1 for d in variants if castable(up, d)) == 1
    if kind == "structured_dataset_type":
        if _is_none(up):
            return True
        if up.WhichOneof("type") == "structured_dataset_type":
            a, b = up.structured_dataset_type, down.structured_dataset_type
            if a.format and b.format and a.format.lower() != b.format.lower():
                return False
            return _columns_fit({c.name: c.literal_type for c in a.columns},
                               [(c.name, c.literal_type) for c in b.columns],
                               lambda u, d: _casts_from(d, u))
        if up.WhichOneof("type") == "schema":
            fmt = down.structured_dataset_type.format
            return not fmt or fmt.lower() == "parquet"
        return False
    if kind == "schema":
        if up.WhichOneof("type") == "schema":
            return _columns_fit({c.name: c.type for c in up.schema.columns},
                               [(c.name, c.type) for c in down.schema.columns],
                               lambda u, d: u == d)
        if up.WhichOneof("type") == "structured_dataset_type":
            fmt = up.structured_dataset_type.format
            return not fmt or fmt.lower() == "parquet"
        return False
    if _is_none(down):
        return _is_none(up)
    return _trivial(down, up)


def castable(up: types_pb2.LiteralType, down: types_pb2.LiteralType) -> bool:
    """True when a value of type `up` may be bound to a variable of type `down`."""
    if up.WhichOneof("type") == "union_type" and len(up.union_type.variants) == 1 \
            and _casts_from(down, up.union_type.variants[0]):
        return True
    return _casts_from(down, up)


def describe(t: types_pb2.LiteralType) -> str:
    """A short name of a literal type for messages (INTEGER, COLLECTION(STRING), ...)."""
    kind = t.WhichOneof("type")
    if kind == "simple":
        return types_pb2.SimpleType.Name(t.simple)
    if kind == "collection_type":
        return f"COLLECTION({describe(t.collection_type)})"
    if kind == "map_value_type":
        return f"MAP({describe(t.map_value_type)})"
    if kind == "union_type":
        return "UNION(" + ", ".join(describe(v) for v in t.union_type.variants) + ")"
    if kind == "blob":
        return f"BLOB({t.blob.format})" if t.blob.format else "BLOB"
    return (kind or "unknown").upper()

"""Can an output of one LiteralType feed an input of another? And a short text for a type.

`literal_types_match` follows the rules of Flyte's compiler (flytepropeller's type validators):
types are compared ignoring metadata, annotations and union tags; a union input accepts a value
that fits exactly one of its members; a union output fits if each of its members fits; None fits
an Optional; blobs need the same dimensionality and agree on format unless either leaves it
empty; an enum output may feed a str input; a dataclass feeds a dataclass with the same fields.
"""

from __future__ import annotations

from flyteidl.core import types_pb2

from sdk.types import structured


def _kind(lt: types_pb2.LiteralType) -> str:
    return lt.WhichOneof("type") or ""


def literal_types_match(upstream: types_pb2.LiteralType, downstream: types_pb2.LiteralType) -> bool:
    up, down = _kind(upstream), _kind(downstream)
    if down == "union_type":
        members = downstream.union_type.variants
        if up == "union_type":
            return all(any(literal_types_match(u, d) for d in members) for u in upstream.union_type.variants)
        # The value must select one member unambiguously.
        return sum(1 for d in members if literal_types_match(upstream, d)) == 1
    if up == "union_type":
        return False
    if up == "collection_type":
        return down == up and literal_types_match(upstream.collection_type, downstream.collection_type)
    if up == "map_value_type":
        return down == up and literal_types_match(upstream.map_value_type, downstream.map_value_type)
    if up == "blob":
        if down != "blob":
            return False
        a, b = upstream.blob, downstream.blob
        formats_agree = a.format == b.format or not a.format or not b.format
        return a.dimensionality == b.dimensionality and formats_agree
    if up == "enum_type":
        if down == "simple" and downstream.simple == types_pb2.STRING:
            return True
        return down == up and list(upstream.enum_type.values) == list(downstream.enum_type.values)
    if up == "structured_dataset_type":
        return down == up and structured.datasets_match(
            upstream.structured_dataset_type, downstream.structured_dataset_type, literal_types_match)
    if up == "simple":
        if down != "simple" or upstream.simple != downstream.simple:
            return False
        if upstream.simple == types_pb2.STRUCT:
            return _structs_match(upstream, downstream)
        return True
    return _essence(upstream) == _essence(downstream)


def _structs_match(upstream: types_pb2.LiteralType, downstream: types_pb2.LiteralType) -> bool:
    # A dataclass carries its fields' types; a plain dict (or a struct from another SDK) does not.
    a = upstream.structure.dataclass_type
    b = downstream.structure.dataclass_type
    if not a or not b:
        return True
    return set(a) == set(b) and all(literal_types_match(a[name], b[name]) for name in a)


def _essence(lt: types_pb2.LiteralType) -> types_pb2.LiteralType:
    stripped = types_pb2.LiteralType()
    stripped.CopyFrom(lt)
    for name in ("metadata", "annotation", "structure"):
        stripped.ClearField(name)
    return stripped


_SIMPLE_NAMES = {
    types_pb2.NONE: "None",
    types_pb2.INTEGER: "int",
    types_pb2.FLOAT: "float",
    types_pb2.STRING: "str",
    types_pb2.BOOLEAN: "bool",
    types_pb2.DATETIME: "datetime",
    types_pb2.DURATION: "timedelta",
    types_pb2.BINARY: "bytes",
    types_pb2.ERROR: "error",
    types_pb2.STRUCT: "dict",
}


def literal_type_repr(lt: types_pb2.LiteralType) -> str:
    """Short text for error messages: int, list[str], Optional[int], Dataclass Point, File."""
    kind = _kind(lt)
    if kind == "simple":
        if lt.simple == types_pb2.STRUCT:
            title = lt.metadata.fields.get("title")
            if title is not None and title.string_value:
                return f"Dataclass {title.string_value}"
            if lt.structure.dataclass_type:
                return "Dataclass"
        return _SIMPLE_NAMES.get(lt.simple, types_pb2.SimpleType.Name(lt.simple).lower())
    if kind == "collection_type":
        return f"list[{literal_type_repr(lt.collection_type)}]"
    if kind == "map_value_type":
        return f"dict[str, {literal_type_repr(lt.map_value_type)}]"
    if kind == "union_type":
        variants = list(lt.union_type.variants)
        others = [v for v in variants if not (_kind(v) == "simple" and v.simple == types_pb2.NONE)]
        if len(variants) == 2 and len(others) == 1:
            return f"Optional[{literal_type_repr(others[0])}]"
        return "Union[" + ", ".join(literal_type_repr(v) for v in variants) + "]"
    if kind == "enum_type":
        return "Enum[" + ", ".join(lt.enum_type.values) + "]"
    if kind == "blob":
        base = "Directory" if lt.blob.dimensionality == types_pb2.BlobType.MULTIPART else "File"
        return f"{base}[{lt.blob.format}]" if lt.blob.format else base
    if kind == "structured_dataset_type":
        return "StructuredDataset"
    if kind == "schema":
        return "Schema"
    return kind or "unknown"

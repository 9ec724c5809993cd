"""The `err` input of a workflow's failure node (`on_failure`): the SDKs bind it to its None
default, and the engine fills in the node that failed and its message: as an ERROR literal
(`FlyteError`, flytekit's type for it) or as the text "<node id>: <message>" when the input's
type can hold either (contracts: "Failure"), else leaves it None."""
from __future__ import annotations

from flyteidl.core import literals_pb2, types_pb2


def _variant(literal_type, simple):
    """The type that carries a `simple` value into `literal_type`: itself, a union's variant of
    that simple type, or None."""
    kind = literal_type.WhichOneof("type")
    if kind == "simple" and literal_type.simple == simple:
        return literal_type
    if kind == "union_type":
        for variant in literal_type.union_type.variants:
            if _variant(variant, simple) is not None:
                return variant
    return None


def _is_none(literal) -> bool:
    scalar = literal.scalar
    if scalar.WhichOneof("value") == "union":
        return _is_none(scalar.union.value)
    return scalar.WhichOneof("value") == "none_type"


def err_input(literal_type, bound, failed_node: str, message: str):
    """The literal to give `err` (of `literal_type`, bound to `bound` or unbound), or None to
    keep the bound value. A union gets a union value, as flytekit encodes Optional[...]."""
    if bound is not None and not _is_none(bound):
        return None  # the workflow bound something of its own
    value = literals_pb2.Literal()
    variant = _variant(literal_type, types_pb2.ERROR)
    if variant is not None:
        value.scalar.error.failed_node_id = failed_node
        value.scalar.error.message = message
    else:
        variant = _variant(literal_type, types_pb2.STRING)
        if variant is not None:
            value.scalar.primitive.string_value = f"{failed_node}: {message}"
    if variant is None:
        if bound is not None:
            return None
        value.scalar.none_type.SetInParent()
        return value
    if variant is literal_type:
        return value
    literal = literals_pb2.Literal()
    literal.scalar.union.value.CopyFrom(value)
    literal.scalar.union.type.CopyFrom(variant)
    return literal

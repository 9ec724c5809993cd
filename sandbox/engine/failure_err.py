"""The `err` input of a workflow's failure node (`on_failure`): the SDKs bind it to its None
default, and the engine fills in `"<node id>: <message>"` of the node that failed when the
input's type can hold a string (contracts: "Failure"), else leaves it None."""
from __future__ import annotations

from flyteidl.core import literals_pb2, types_pb2


def _string_variant(literal_type):
    """The type that carries a string into `literal_type`: itself, a union's str variant, or None."""
    kind = literal_type.WhichOneof("type")
    if kind == "simple" and literal_type.simple == types_pb2.SimpleType.STRING:
        return literal_type
    if kind == "union_type":
        for variant in literal_type.union_type.variants:
            if _string_variant(variant) is not None:
                return variant
    return None


def _is_none(literal) -> bool:
    scalar = literal.scalar
    if scalar.WhichOneof("value") == "union":
        return _is_none(scalar.union.value)
    return scalar.WhichOneof("value") == "none_type"


def err_input(literal_type, bound, text: str):
    """The literal to give `err` (of `literal_type`, bound to `bound` or unbound), or None to
    keep the bound value. A union gets a union value, as flytekit encodes Optional[str]."""
    if bound is not None and not _is_none(bound):
        return None  # the workflow bound something of its own
    variant = _string_variant(literal_type)
    literal = literals_pb2.Literal()
    if variant is None:
        if bound is not None:
            return None
        literal.scalar.none_type.SetInParent()
    elif variant is literal_type:
        literal.scalar.primitive.string_value = text
    else:
        literal.scalar.union.value.scalar.primitive.string_value = text
        literal.scalar.union.type.CopyFrom(variant)
    return literal

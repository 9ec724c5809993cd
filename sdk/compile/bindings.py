"""Binding values (promises, constants, lists/dicts of them) -> core.BindingData."""
from __future__ import annotations

import typing
from typing import Any

from flyteidl.core import literals_pb2, types_pb2

from sdk.authoring.promise import Promise, has_promises
from sdk.compile.types_bridge import literal


def _from_literal(value: literals_pb2.Literal) -> literals_pb2.BindingData:
    kind = value.WhichOneof("value")
    if kind == "collection":
        return literals_pb2.BindingData(
            collection=literals_pb2.BindingDataCollection(bindings=[_from_literal(v) for v in value.collection.literals])
        )
    if kind == "map":
        out = literals_pb2.BindingData(map=literals_pb2.BindingDataMap())
        for key, item in value.map.literals.items():
            out.map.bindings[key].CopyFrom(_from_literal(item))
        return out
    return literals_pb2.BindingData(scalar=value.scalar)


def binding_data(where: str, var: str, value: Any, hint: Any) -> literals_pb2.BindingData:
    if isinstance(value, Promise):
        return literals_pb2.BindingData(promise=types_pb2.OutputReference(node_id=value.node_id, var=value.var))
    if not has_promises(value):
        return _from_literal(literal(where, var, value, hint))
    args = typing.get_args(hint)
    if isinstance(value, list):
        item = args[0] if args else Any
        return literals_pb2.BindingData(
            collection=literals_pb2.BindingDataCollection(bindings=[binding_data(where, var, v, item) for v in value])
        )
    out = literals_pb2.BindingData(map=literals_pb2.BindingDataMap())
    item = args[1] if len(args) == 2 else Any
    for key, v in value.items():
        out.map.bindings[str(key)].CopyFrom(binding_data(where, var, v, item))
    return out


def binding(where: str, var: str, value: Any, hint: Any) -> literals_pb2.Binding:
    return literals_pb2.Binding(var=var, binding=binding_data(where, var, value, hint))

"""Authored interfaces -> core.TypedInterface and launch-plan parameter maps."""
from __future__ import annotations

from typing import Any

from flyteidl.core import interface_pb2, literals_pb2

from sdk.authoring.interface import Interface, is_optional
from sdk.compile.types_bridge import literal, literal_type


def _variables(where: str, types: dict[str, Any], descriptions: dict[str, str]) -> interface_pb2.VariableMap:
    variables = interface_pb2.VariableMap()
    for name, hint in types.items():
        variables.variables[name].CopyFrom(
            interface_pb2.Variable(type=literal_type(where, name, hint), description=descriptions.get(name, name))
        )
    return variables


def typed_interface(where: str, interface: Interface) -> interface_pb2.TypedInterface:
    return interface_pb2.TypedInterface(
        inputs=_variables(where, interface.inputs, interface.docstring.input_descriptions),
        outputs=_variables(where, interface.outputs, {}),
    )


def parameter_map(
    where: str, interface: Interface, defaults: dict[str, Any], fixed: dict[str, Any]
) -> interface_pb2.ParameterMap:
    """One parameter per non-fixed input: a default literal when there is one, else required."""
    parameters = interface_pb2.ParameterMap()
    variables = _variables(where, interface.inputs, interface.docstring.input_descriptions).variables
    for name, hint in interface.inputs.items():
        if name in fixed:
            continue
        parameter = parameters.parameters[name]
        parameter.var.CopyFrom(variables[name])
        value = defaults.get(name)
        if value is not None:
            parameter.default.CopyFrom(literal(where, name, value, hint))
        elif is_optional(hint):
            # As flytekit: an Optional input without a default defaults to None.
            parameter.default.CopyFrom(literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void())))
        else:
            parameter.required = True
    return parameters

"""A task's or workflow's typed interface, read from its Python signature.

Outputs are named as flytekit names them: `o0, o1, ...` for a single value or a tuple, the
field names for a NamedTuple.
"""
from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from sdk.authoring.docstring import Docstring, parse_docstring
from sdk.errors import CompileError


@dataclass
class Interface:
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    defaults: dict[str, Any] = field(default_factory=dict)
    docstring: Docstring = field(default_factory=Docstring)
    # The NamedTuple class when outputs are named; a call then returns an instance of it.
    output_tuple: Optional[type] = None

    def default_for(self, name: str) -> tuple[bool, Any]:
        """(has a default, the default): the declared one, or None for an Optional input."""
        if name in self.defaults:
            return True, self.defaults[name]
        if is_optional(self.inputs[name]):
            return True, None
        return False, None


def is_optional(hint: Any) -> bool:
    """Optional[T] (a union with None): flytekit binds such an input to None when it is not passed."""
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    return type(None) in typing.get_args(hint)


def is_named_tuple(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, tuple) and hasattr(hint, "_fields")


def _output_types(entity: str, hint: Any) -> tuple[dict[str, Any], Optional[type]]:
    if hint is None or hint is type(None):
        return {}, None
    if is_named_tuple(hint):
        annotations = typing.get_type_hints(hint, include_extras=True)
        return {name: annotations[name] for name in hint._fields}, hint
    if typing.get_origin(hint) is tuple:
        members = typing.get_args(hint)
        if Ellipsis in members:
            raise CompileError(
                f"{entity}: return type {hint} has a variable length; "
                "declare one type per output, e.g. Tuple[int, str]"
            )
        return {f"o{i}": member for i, member in enumerate(members)}, None
    return {"o0": hint}, None


def interface_from_function(entity: str, function: Callable) -> Interface:
    """Read inputs, defaults and outputs from `function`'s signature; `entity` names it in errors."""
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception as error:  # a hint naming something undefined
        raise CompileError(f"{entity}: cannot resolve its type hints ({error}); fix the annotation") from error
    inputs: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for name, parameter in inspect.signature(function).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise CompileError(f"{entity}: *{name} / **{name} are not supported; declare each input by name")
        if name not in hints:
            raise CompileError(f"{entity}: input '{name}' has no type annotation; add one, e.g. {name}: int")
        inputs[name] = hints[name]
        if parameter.default is not parameter.empty:
            if isinstance(parameter.default, (list, dict, set)):
                raise CompileError(
                    f"{entity}: input '{name}' has a mutable default; use None and build the value inside"
                )
            defaults[name] = parameter.default
    outputs, output_tuple = _output_types(entity, hints.get("return"))
    return Interface(inputs, outputs, defaults, parse_docstring(function.__doc__), output_tuple)

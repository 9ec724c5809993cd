"""`TypeEngine`: the public face of the type engine (see docs/contracts.md, "Type engine").

Converters below raise small internal signals; this module turns them into one
`TypeTransformerError` whose message names the caller's label (entity, node, variable), the
Python type, the value and what is supported.
"""

from __future__ import annotations

import typing

from flyteidl.core import literals_pb2, types_pb2

from sdk.errors import TypeTransformerError
from sdk.types import compat, decode, encode, guess, literal_types
from sdk.types.blobs import Transfer
from sdk.types.hints import SUPPORTED
from sdk.types.problems import UnsupportedHint, ValueMismatch, hint_name, shorten


def _prefix(name: typing.Optional[str]) -> str:
    return f"{name}: " if name else ""


def _unsupported(exc: UnsupportedHint, hint: typing.Any, name: typing.Optional[str]) -> TypeTransformerError:
    inner = hint_name(exc.hint)
    where = "" if exc.hint is hint else f" (in {hint_name(hint)})"
    reason = f" {exc.detail}." if exc.detail else ""
    return TypeTransformerError(
        f"{_prefix(name)}type {inner}{where} is not supported.{reason} Use one of: {SUPPORTED}."
    )


class TypeEngine:
    """Python values and type hints <-> flyteidl Literals and LiteralTypes."""

    @staticmethod
    def to_literal_type(python_type: typing.Any, *, name: typing.Optional[str] = None) -> types_pb2.LiteralType:
        try:
            return literal_types.to_literal_type(python_type)
        except UnsupportedHint as exc:
            raise _unsupported(exc, python_type, name) from None

    @staticmethod
    def to_literal(
        value: typing.Any,
        python_type: typing.Any,
        *,
        transfer: typing.Optional[Transfer] = None,
        name: typing.Optional[str] = None,
    ) -> literals_pb2.Literal:
        try:
            return encode.to_literal(value, python_type, transfer)
        except UnsupportedHint as exc:
            raise _unsupported(exc, python_type, name) from None
        except ValueMismatch as exc:
            expected = hint_name(python_type)
            detail = "" if exc.generic else f": {exc.detail}"
            raise TypeTransformerError(
                f"{_prefix(name)}value {shorten(value)} ({type(value).__name__}) does not match the type "
                f"{expected}{detail}. Pass a value of type {expected}, or change the type hint."
            ) from None

    @staticmethod
    def to_python_value(
        literal: literals_pb2.Literal,
        python_type: typing.Any,
        *,
        transfer: typing.Optional[Transfer] = None,
        name: typing.Optional[str] = None,
    ) -> typing.Any:
        try:
            return decode.to_python(literal, python_type, transfer)
        except UnsupportedHint as exc:
            raise _unsupported(exc, python_type, name) from None
        except ValueMismatch as exc:
            raise TypeTransformerError(
                f"{_prefix(name)}cannot read the literal as {hint_name(python_type)}: {exc.detail}. "
                "Check that the producer's output type matches this type hint."
            ) from None

    @staticmethod
    def guess_python_type(literal_type: types_pb2.LiteralType) -> typing.Any:
        try:
            return guess.guess_python_type(literal_type)
        except UnsupportedHint as exc:
            raise TypeTransformerError(
                f"no Python type is known for the Flyte type {compat.literal_type_repr(literal_type)}"
            ) from exc

    @staticmethod
    def literal_types_match(upstream: types_pb2.LiteralType, downstream: types_pb2.LiteralType) -> bool:
        """Can an output of type `upstream` feed an input of type `downstream`?"""
        return compat.literal_types_match(upstream, downstream)

    @staticmethod
    def literal_type_repr(literal_type: types_pb2.LiteralType) -> str:
        return compat.literal_type_repr(literal_type)

    @classmethod
    def literal_map_to_kwargs(
        cls,
        literal_map: literals_pb2.LiteralMap,
        python_types: typing.Mapping[str, typing.Any],
        *,
        transfer: typing.Optional[Transfer] = None,
        name: typing.Optional[str] = None,
    ) -> dict:
        """Read each variable of `python_types` from the map; a missing one is an error."""
        kwargs = {}
        for var, hint in python_types.items():
            label = _variable_label(name, var)
            if var not in literal_map.literals:
                raise TypeTransformerError(
                    f"{label}: no value was given; pass it, or give the input a default"
                )
            kwargs[var] = cls.to_python_value(literal_map.literals[var], hint, transfer=transfer, name=label)
        return kwargs

    @classmethod
    def dict_to_literal_map(
        cls,
        values: typing.Mapping[str, typing.Any],
        python_types: typing.Mapping[str, typing.Any],
        *,
        transfer: typing.Optional[Transfer] = None,
        name: typing.Optional[str] = None,
    ) -> literals_pb2.LiteralMap:
        """Encode each value with its variable's type; unknown or missing variables are errors."""
        unknown = [k for k in values if k not in python_types]
        if unknown:
            expected = ", ".join(python_types) or "none"
            raise TypeTransformerError(
                f"{_variable_label(name, unknown[0])}: not a known variable (expected: {expected}); "
                "check its spelling"
            )
        literals = {}
        for var, hint in python_types.items():
            label = _variable_label(name, var)
            if var not in values:
                raise TypeTransformerError(f"{label}: no value was given; pass a {hint_name(hint)}")
            literals[var] = cls.to_literal(values[var], hint, transfer=transfer, name=label)
        return literals_pb2.LiteralMap(literals=literals)


def _variable_label(name: typing.Optional[str], var: str) -> str:
    return f"{name}, variable '{var}'" if name else f"variable '{var}'"

"""The compiler's access to the type engine, with errors that name where a type was used."""
from __future__ import annotations

from typing import Any

from flyteidl.core import literals_pb2, types_pb2

from sdk.errors import CompileError, SkiffError


def _engine():
    from sdk.types import TypeEngine

    return TypeEngine


def literal_type(where: str, var: str, hint: Any) -> types_pb2.LiteralType:
    try:
        return _engine().to_literal_type(hint)
    except SkiffError as error:
        raise CompileError(f"{where}: variable '{var}' has a type Flyte cannot carry: {error}") from error


def literal(where: str, var: str, value: Any, hint: Any) -> literals_pb2.Literal:
    try:
        return _engine().to_literal(value, hint)
    except SkiffError as error:
        raise CompileError(f"{where}: variable '{var}': value {value!r} does not fit its type: {error}") from error


def types_match(upstream: types_pb2.LiteralType, downstream: types_pb2.LiteralType) -> bool:
    return _engine().literal_types_match(upstream, downstream)


def describe(literal_type_: types_pb2.LiteralType) -> str:
    """A short text for a literal type, for error messages."""
    return _engine().literal_type_repr(literal_type_)

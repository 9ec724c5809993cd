"""Internal failure signals of the type engine.

Converters deep in a nested value raise these with a short detail; `engine.TypeEngine` turns them
into one `sdk.errors.TypeTransformerError` whose message also names the caller's variable.
"""

from __future__ import annotations

import typing


class ValueMismatch(Exception):
    """A value (or literal) does not fit the type hint it is converted with."""

    def __init__(self, detail: str, generic: bool = False):
        super().__init__(detail)
        self.detail = detail
        # True when the detail only restates "value X is not of type T" for the value at hand,
        # so the top-level message can leave it out.
        self.generic = generic


class UnsupportedHint(Exception):
    """A type hint the engine has no encoding for."""

    def __init__(self, hint: typing.Any, detail: str = ""):
        super().__init__(detail or f"unsupported hint {hint!r}")
        self.hint = hint
        self.detail = detail


def shorten(value: typing.Any, limit: int = 60) -> str:
    """repr() cut to `limit` characters, so a huge value never floods an error message."""
    text = repr(value).replace("\n", " ")  # one line: a DataFrame's repr spans many
    return text if len(text) <= limit else text[: limit - 3] + "..."


def hint_name(hint: typing.Any) -> str:
    """A hint as a user wrote it: `int`, `list[str]`, `Optional[Point]`."""
    if hint is None or hint is type(None):
        return "None"
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__name__
    return repr(hint).replace("typing.", "")


def type_mismatch(value: typing.Any, hint: typing.Any) -> ValueMismatch:
    return ValueMismatch(f"{shorten(value)} ({type(value).__name__}) is not of type {hint_name(hint)}", generic=True)

"""Branch conditions: comparisons of promises with constants or promises, joined by `&` and `|`.

They are built while a workflow is traced (`x > 0`, `(x > 0) & (y.is_true())`) and are only
evaluated later, on the values a run produced, so Python's `and`/`or`/`not` (which need a truth
value now) are refused with a message saying what to write instead.
"""
from __future__ import annotations

import enum
import operator
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Union

from sdk.errors import CompileError


class ComparisonOp(enum.Enum):
    EQ = "=="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="


class ConjunctionOp(enum.Enum):
    AND = "&"
    OR = "|"


_PYTHON_OPERATORS: dict[ComparisonOp, Callable[[Any, Any], bool]] = {
    ComparisonOp.EQ: operator.eq,
    ComparisonOp.NE: operator.ne,
    ComparisonOp.GT: operator.gt,
    ComparisonOp.GE: operator.ge,
    ComparisonOp.LT: operator.lt,
    ComparisonOp.LE: operator.le,
}


class _Expression:
    def __and__(self, other: Any) -> "ConjunctionExpression":
        return ConjunctionExpression(self, ConjunctionOp.AND, _expression(other, "&"))

    def __or__(self, other: Any) -> "ConjunctionExpression":
        return ConjunctionExpression(self, ConjunctionOp.OR, _expression(other, "|"))

    def __bool__(self) -> bool:
        raise CompileError(
            f"condition {self} has no truth value while the workflow is traced; join conditions with & and | "
            "(not and/or/not), each comparison in parentheses"
        )


def _expression(value: Any, op: str) -> "Expression":
    if not isinstance(value, _Expression):
        raise CompileError(
            f"'{op}' joins two conditions, got {value!r}; compare a value first, e.g. (x > 0) {op} (y.is_true())"
        )
    return value  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class ComparisonExpression(_Expression):
    """`left op right`; each side is a Promise or a constant (never two constants)."""

    left: Any
    op: ComparisonOp
    right: Any

    def operands(self) -> Iterator[Any]:
        yield self.left
        yield self.right

    def evaluate(self, value_of: Callable[[Any], Any]) -> bool:
        return bool(_PYTHON_OPERATORS[self.op](value_of(self.left), value_of(self.right)))

    def __str__(self) -> str:
        return f"({self.left!r} {self.op.value} {self.right!r})"


@dataclass(frozen=True, eq=False)
class ConjunctionExpression(_Expression):
    left: "Expression"
    op: ConjunctionOp
    right: "Expression"

    def operands(self) -> Iterator[Any]:
        yield from self.left.operands()
        yield from self.right.operands()

    def evaluate(self, value_of: Callable[[Any], Any]) -> bool:
        # Short-circuits like Python, which is safe: conditions have no side effects.
        if self.op is ConjunctionOp.AND:
            return self.left.evaluate(value_of) and self.right.evaluate(value_of)
        return self.left.evaluate(value_of) or self.right.evaluate(value_of)

    def __str__(self) -> str:
        return f"({self.left} {self.op.value} {self.right})"


Expression = Union[ComparisonExpression, ConjunctionExpression]


def is_expression(value: Any) -> bool:
    return isinstance(value, _Expression)

"""Branch conditions -> core.BooleanExpression, as flytekit writes them.

A promise operand is named `<node id>.<var>` (the branch node's input of that name); a constant
is a primitive, or a scalar none_type for None (is_none()).
"""
from __future__ import annotations

from typing import Any

from flyteidl.core import condition_pb2, literals_pb2

from sdk.authoring.condition import branch_input_var
from sdk.authoring.expressions import ComparisonExpression, ComparisonOp, ConjunctionExpression, ConjunctionOp
from sdk.authoring.promise import Promise
from sdk.compile.types_bridge import literal
from sdk.errors import CompileError

_COMPARISONS = {
    ComparisonOp.EQ: condition_pb2.ComparisonExpression.EQ,
    ComparisonOp.NE: condition_pb2.ComparisonExpression.NEQ,
    ComparisonOp.GT: condition_pb2.ComparisonExpression.GT,
    ComparisonOp.GE: condition_pb2.ComparisonExpression.GTE,
    ComparisonOp.LT: condition_pb2.ComparisonExpression.LT,
    ComparisonOp.LE: condition_pb2.ComparisonExpression.LTE,
}
_CONJUNCTIONS = {
    ConjunctionOp.AND: condition_pb2.ConjunctionExpression.AND,
    ConjunctionOp.OR: condition_pb2.ConjunctionExpression.OR,
}


def _operand(where: str, value: Any) -> condition_pb2.Operand:
    if isinstance(value, Promise):
        return condition_pb2.Operand(var=branch_input_var(value))
    if value is None:
        return condition_pb2.Operand(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))
    constant = literal(where, "condition", value, type(value))
    if not constant.scalar.HasField("primitive"):
        raise CompileError(
            f"{where}: a condition compares with numbers, strings, booleans, dates, durations or None; "
            f"got {value!r}"
        )
    return condition_pb2.Operand(primitive=constant.scalar.primitive)


def boolean_expression(where: str, expression: Any) -> condition_pb2.BooleanExpression:
    if isinstance(expression, ConjunctionExpression):
        return condition_pb2.BooleanExpression(
            conjunction=condition_pb2.ConjunctionExpression(
                operator=_CONJUNCTIONS[expression.op],
                left_expression=boolean_expression(where, expression.left),
                right_expression=boolean_expression(where, expression.right),
            )
        )
    assert isinstance(expression, ComparisonExpression)
    if not isinstance(expression.left, Promise) and not isinstance(expression.right, Promise):
        raise CompileError(f"{where}: condition {expression} compares two constants; compare a workflow value")
    return condition_pb2.BooleanExpression(
        comparison=condition_pb2.ComparisonExpression(
            operator=_COMPARISONS[expression.op],
            left_value=_operand(where, expression.left),
            right_value=_operand(where, expression.right),
        )
    )

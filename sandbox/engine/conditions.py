"""Evaluating a branch node's conditions (core.BooleanExpression) on resolved literals."""
from __future__ import annotations

from flyteidl.core import condition_pb2, literals_pb2

from sdk.errors import SandboxError

_Cmp = condition_pb2.ComparisonExpression
_OPERATORS = {
    _Cmp.EQ: lambda a, b: a == b, _Cmp.NEQ: lambda a, b: a != b,
    _Cmp.GT: lambda a, b: a > b, _Cmp.GTE: lambda a, b: a >= b,
    _Cmp.LT: lambda a, b: a < b, _Cmp.LTE: lambda a, b: a <= b,
}


def _primitive_value(primitive: literals_pb2.Primitive):
    kind = primitive.WhichOneof("value")
    if kind == "datetime":
        return primitive.datetime.ToDatetime()
    if kind == "duration":
        return primitive.duration.ToTimedelta()
    return getattr(primitive, kind) if kind else None


def _scalar_value(scalar: literals_pb2.Scalar, where: str):
    kind = scalar.WhichOneof("value")
    if kind == "primitive":
        return _primitive_value(scalar.primitive)
    if kind == "none_type":
        return None
    if kind == "union":
        return _literal_value(scalar.union.value, where)
    raise SandboxError(f"{where}: a condition can compare primitives and None only, not {kind}")


def _literal_value(literal: literals_pb2.Literal, where: str):
    if literal.WhichOneof("value") != "scalar":
        raise SandboxError(f"{where}: a condition can compare primitives only, not a "
                           f"{literal.WhichOneof('value')}")
    return _scalar_value(literal.scalar, where)


def _operand(operand: condition_pb2.Operand, inputs: literals_pb2.LiteralMap, where: str):
    kind = operand.WhichOneof("val")
    if kind == "primitive":
        return _primitive_value(operand.primitive)
    if kind == "scalar":
        return _scalar_value(operand.scalar, where)
    if kind == "var":
        if operand.var not in inputs.literals:
            raise SandboxError(f"{where}: the condition reads {operand.var!r}, which the branch "
                               "node does not bind; recompile the workflow")
        return _literal_value(inputs.literals[operand.var], where)
    raise SandboxError(f"{where}: empty condition operand; recompile the workflow")


def evaluate(expression: condition_pb2.BooleanExpression, inputs: literals_pb2.LiteralMap,
             where: str) -> bool:
    if expression.HasField("conjunction"):
        conj = expression.conjunction
        left = evaluate(conj.left_expression, inputs, where)
        if conj.operator == condition_pb2.ConjunctionExpression.AND:
            return left and evaluate(conj.right_expression, inputs, where)
        return left or evaluate(conj.right_expression, inputs, where)
    cmp = expression.comparison
    left = _operand(cmp.left_value, inputs, where)
    right = _operand(cmp.right_value, inputs, where)
    if (left is None or right is None) and cmp.operator not in (_Cmp.EQ, _Cmp.NEQ):
        raise SandboxError(f"{where}: cannot order None in a condition")
    try:
        return bool(_OPERATORS[cmp.operator](left, right))
    except TypeError as exc:
        raise SandboxError(f"{where}: cannot compare {left!r} with {right!r} ({exc})") from None


def choose(block, inputs: literals_pb2.LiteralMap, where: str):
    """The then-node of the first true case, the else-node, or None (block.error applies)."""
    for case in [block.case, *block.other]:
        if evaluate(case.condition, inputs, where):
            return case.then_node
    if block.HasField("else_node"):
        return block.else_node
    return None

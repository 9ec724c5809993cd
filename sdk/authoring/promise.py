"""Promises: references to values that exist only once a workflow runs.

While a workflow function is traced, workflow inputs and node outputs are promises; passing
one to a task call becomes a binding (an edge of the DAG). Comparing a promise (`x > 0`,
`flag.is_true()`) builds a branch condition; `a >> b` orders two calls that share no data;
`.with_overrides(...)` changes the node that produced the promise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from sdk.authoring.expressions import ComparisonExpression, ComparisonOp
from sdk.errors import CompileError

# Flyte's id for the workflow's own inputs in a promise binding (the compiler maps it to start-node).
WORKFLOW_INPUTS_NODE_ID = ""


def _scope_workflow() -> str:
    from sdk.authoring.tracing import current_scope

    scope = current_scope()
    return f"workflow {scope.workflow_name}, " if scope else ""


class _NodeHandle:
    """What promises and void results share: the traced node they came from."""

    node: Any

    def with_overrides(self, **options: Any) -> Any:
        """Override the producing node's retries, timeout, resources, cache, image or name."""
        if self.node is None:
            raise CompileError(
                f"{_scope_workflow()}with_overrides() applies to the result of a call inside a workflow, "
                "not to a workflow input"
            )
        self.node.override(**options)
        return self

    def __rshift__(self, other: Any) -> Any:
        """`a >> b`: b's node starts after a's node, with no data passed between them."""
        downstream = _node_of(other)
        if self.node is None or downstream is None:
            raise CompileError(
                f"{_scope_workflow()}'>>' orders two calls inside a workflow; both sides must be results of calls"
            )
        downstream.run_after(self.node)
        return other


def _node_of(value: Any) -> Any:
    if isinstance(value, _NodeHandle):
        return value.node
    if isinstance(value, tuple):
        for item in value:
            if isinstance(item, _NodeHandle) and item.node is not None:
                return item.node
    return None


@dataclass(frozen=True, eq=False)
class Promise(_NodeHandle):
    node_id: str
    var: str
    python_type: Any
    # The traced Node that produces it (None for workflow inputs and hand-made promises).
    node: Any = field(default=None, repr=False)

    def _where(self) -> str:
        source = f"node {self.node_id}" if self.node_id else "the workflow inputs"
        return f"{_scope_workflow()}{source}: '{self.var}'"

    def _compare(self, op: ComparisonOp, other: Any) -> ComparisonExpression:
        if isinstance(other, ComparisonExpression) or hasattr(other, "operands"):
            raise CompileError(f"{self._where()}: cannot compare a value with a condition; compare values only")
        return ComparisonExpression(self, op, other)

    def __eq__(self, other: Any) -> ComparisonExpression:  # type: ignore[override]
        return self._compare(ComparisonOp.EQ, other)

    def __ne__(self, other: Any) -> ComparisonExpression:  # type: ignore[override]
        return self._compare(ComparisonOp.NE, other)

    def __gt__(self, other: Any) -> ComparisonExpression:
        return self._compare(ComparisonOp.GT, other)

    def __ge__(self, other: Any) -> ComparisonExpression:
        return self._compare(ComparisonOp.GE, other)

    def __lt__(self, other: Any) -> ComparisonExpression:
        return self._compare(ComparisonOp.LT, other)

    def __le__(self, other: Any) -> ComparisonExpression:
        return self._compare(ComparisonOp.LE, other)

    __hash__ = object.__hash__

    def is_true(self) -> ComparisonExpression:
        return ComparisonExpression(self, ComparisonOp.EQ, True)

    def is_false(self) -> ComparisonExpression:
        return ComparisonExpression(self, ComparisonOp.EQ, False)

    def is_none(self) -> ComparisonExpression:
        return ComparisonExpression(self, ComparisonOp.EQ, None)

    def __bool__(self) -> bool:
        raise CompileError(
            f"{self._where()} has no value while the workflow is traced, so it cannot be used in a condition "
            "(Python if/and/or/not); use conditional(...) with .is_true() / comparisons, or do the test inside a task"
        )

    def __iter__(self) -> Iterator[Any]:
        raise CompileError(
            f"{self._where()} is a single value and cannot be unpacked or iterated while the workflow is "
            "traced; iterate inside a task (or a @dynamic workflow)"
        )

    def __repr__(self) -> str:
        return f"Promise({self.node_id or '<inputs>'}.{self.var})"


class VoidPromise(_NodeHandle):
    """The result of a call with no outputs: usable only for `>>` and `.with_overrides`."""

    def __init__(self, node: Any):
        self.node = node

    def __repr__(self) -> str:
        return f"VoidPromise({self.node.id if self.node is not None else '?'})"


class NodeOutputs(tuple):
    """The outputs of a multi-output call: a plain tuple that also offers with_overrides and >>."""

    node: Any = None

    def with_overrides(self, **options: Any) -> "NodeOutputs":
        _NodeHandle.with_overrides(self, **options)  # type: ignore[arg-type]
        return self

    def __rshift__(self, other: Any) -> Any:
        return _NodeHandle.__rshift__(self, other)  # type: ignore[arg-type]


def promises_in(value: Any) -> Iterator[Promise]:
    """Every promise inside a binding value (a promise, or lists/dicts holding promises)."""
    if isinstance(value, Promise):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from promises_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from promises_in(item)


def has_promises(value: Any) -> bool:
    return next(promises_in(value), None) is not None


def outputs_as_promises(
    node_id: str, outputs: dict[str, Any], output_tuple: Optional[type], node: Any = None
) -> Any:
    """What a traced call returns: a VoidPromise, one promise, a tuple, or the declared NamedTuple."""
    promises = [Promise(node_id, name, hint, node) for name, hint in outputs.items()]
    if not promises:
        return VoidPromise(node) if node is not None else None
    if output_tuple is not None:
        return output_tuple(*promises)
    if len(promises) == 1:
        return promises[0]
    result = NodeOutputs(promises)
    result.node = node
    return result

"""Promises: references to values that exist only once a workflow runs.

While a workflow function is traced, workflow inputs and node outputs are promises; passing
one to a task call becomes a binding (an edge of the DAG).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from sdk.errors import CompileError

# Flyte's id for the workflow's own inputs in a promise binding (the compiler maps it to start-node).
WORKFLOW_INPUTS_NODE_ID = ""


@dataclass(frozen=True)
class Promise:
    node_id: str
    var: str
    python_type: Any

    def _where(self) -> str:
        from sdk.authoring.tracing import current_scope

        scope = current_scope()
        workflow = f"workflow {scope.workflow_name}, " if scope else ""
        source = f"node {self.node_id}" if self.node_id else "the workflow inputs"
        return f"{workflow}{source}: '{self.var}'"

    def __bool__(self) -> bool:
        raise CompileError(
            f"{self._where()} has no value while the workflow is traced, so it cannot be used in a "
            "condition; do the test inside a task"
        )

    def __iter__(self) -> Iterator[Any]:
        raise CompileError(
            f"{self._where()} is a single value and cannot be unpacked or iterated while the workflow is "
            "traced; iterate inside a task"
        )

    def __repr__(self) -> str:
        return f"Promise({self.node_id or '<inputs>'}.{self.var})"


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


def outputs_as_promises(node_id: str, outputs: dict[str, Any], output_tuple: type | None) -> Any:
    """What a traced call returns: None, one promise, a tuple, or the declared NamedTuple."""
    promises = [Promise(node_id, name, hint) for name, hint in outputs.items()]
    if not promises:
        return None
    if output_tuple is not None:
        return output_tuple(*promises)
    if len(promises) == 1:
        return promises[0]
    return tuple(promises)

"""The workflow-tracing scope: the only global state of the SDK.

While a workflow function runs under `tracing()`, calls to tasks, workflows and launch plans
add nodes to the innermost scope instead of running.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from sdk.authoring.promise import has_promises, outputs_as_promises, promises_in
from sdk.errors import CompileError


@dataclass
class Node:
    """One call inside a workflow: the entity called and where each of its inputs comes from."""

    id: str
    entity: Any
    # input name -> Promise, a constant Python value, or a list/dict holding promises
    bindings: dict[str, Any]

    @property
    def upstream_ids(self) -> list[str]:
        """Node ids this node waits for, in binding order, as flytekit lists them."""
        seen: list[str] = []
        for name in sorted(self.bindings):
            for promise in promises_in(self.bindings[name]):
                if promise.node_id and promise.node_id not in seen:
                    seen.append(promise.node_id)
        return seen

    @property
    def short_name(self) -> str:
        return self.entity.name.rsplit(".", 1)[-1]


@dataclass
class TraceScope:
    workflow_name: str
    nodes: list[Node] = field(default_factory=list)

    def add_call(self, entity: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        node_id = f"n{len(self.nodes)}"
        where = f"workflow {self.workflow_name}, node {node_id} ({entity.name})"
        if args:
            raise CompileError(f"{where}: pass inputs by keyword, e.g. {entity.name.rsplit('.', 1)[-1]}(x=...)")
        interface = entity.interface
        unknown = sorted(set(kwargs) - set(interface.inputs))
        if unknown:
            raise CompileError(
                f"{where}: unknown input '{unknown[0]}'; its inputs are {', '.join(interface.inputs) or 'none'}"
            )
        bindings: dict[str, Any] = {}
        for name in sorted(interface.inputs):
            has_default, value = interface.default_for(name)
            if name in kwargs:
                value = kwargs[name]
            elif not has_default:
                raise CompileError(f"{where}: input '{name}' is not bound; pass {name}=... in the call")
            if isinstance(value, tuple) and has_promises(value):
                raise CompileError(
                    f"{where}: input '{name}' received a tuple of several values; a task with several "
                    "outputs returns a tuple, unpack it and pass one output"
                )
            bindings[name] = value
        self.nodes.append(Node(node_id, entity, bindings))
        return outputs_as_promises(node_id, interface.outputs, interface.output_tuple)


_scopes: list[TraceScope] = []


def current_scope() -> Optional[TraceScope]:
    return _scopes[-1] if _scopes else None


@contextlib.contextmanager
def tracing(workflow_name: str) -> Iterator[TraceScope]:
    scope = TraceScope(workflow_name)
    _scopes.append(scope)
    try:
        yield scope
    finally:
        _scopes.pop()

"""The workflow-tracing scope: the only global state of the SDK.

While a workflow function runs under `tracing()`, calls to tasks, workflows, launch plans, map
tasks and gates add nodes to the innermost scope instead of running. A conditional opens a
nested scope for the nodes of its branches; a @dynamic task and an on-failure handler trace in
scopes whose node ids carry a prefix ("d", "f"), as flytekit numbers them.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from sdk.authoring.overrides import NodeOverrides, merge_overrides
from sdk.authoring.promise import has_promises, outputs_as_promises, promises_in
from sdk.errors import CompileError


@dataclass(eq=False)
class Node:
    """One call inside a workflow: the entity called and where each of its inputs comes from."""

    id: str
    entity: Any
    # input name -> Promise, a constant Python value, or a list/dict holding promises
    bindings: dict[str, Any]
    overrides: NodeOverrides = field(default_factory=NodeOverrides)
    # Nodes this one must follow without taking data from them (`a >> b`).
    run_after_ids: list[str] = field(default_factory=list)
    workflow_name: str = ""

    @property
    def upstream_ids(self) -> list[str]:
        """Node ids this node waits for, in binding order, as flytekit lists them."""
        seen: list[str] = []
        for name in sorted(self.bindings):
            for promise in promises_in(self.bindings[name]):
                if promise.node_id and promise.node_id not in seen:
                    seen.append(promise.node_id)
        return seen + [n for n in self.run_after_ids if n not in seen]

    @property
    def short_name(self) -> str:
        return self.entity.name.rsplit(".", 1)[-1]

    def where(self) -> str:
        return f"workflow {self.workflow_name}, node {self.id} ({self.entity.name})"

    def override(self, **options: Any) -> None:
        self.overrides = merge_overrides(self.where(), self.overrides, **options)

    def run_after(self, upstream: "Node") -> None:
        if upstream is self:
            raise CompileError(f"{self.where()}: a node cannot run after itself")
        if upstream.id not in self.run_after_ids:
            self.run_after_ids.append(upstream.id)


@dataclass
class TraceScope:
    workflow_name: str
    prefix: str = ""
    nodes: list[Node] = field(default_factory=list)
    # What opened the scope, for errors about it (e.g. "conditional 'sign'").
    label: str = ""

    def next_id(self) -> str:
        return f"{self.prefix}n{len(self.nodes)}"

    def add_node(self, entity: Any, bindings: dict[str, Any]) -> Node:
        node = Node(self.next_id(), entity, bindings, workflow_name=self.workflow_name)
        self.nodes.append(node)
        return node

    def add_call(self, entity: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        where = f"workflow {self.workflow_name}, node {self.next_id()} ({entity.name})"
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
        node = self.add_node(entity, bindings)
        return outputs_as_promises(node.id, interface.outputs, interface.output_tuple, node)


_scopes: list[TraceScope] = []


def current_scope() -> Optional[TraceScope]:
    return _scopes[-1] if _scopes else None


@contextlib.contextmanager
def tracing(workflow_name: str, prefix: str = "") -> Iterator[TraceScope]:
    scope = TraceScope(workflow_name, prefix)
    _scopes.append(scope)
    try:
        yield scope
    finally:
        # Also drop scopes of conditionals left unfinished inside (reported by the caller).
        while _scopes and _scopes[-1] is not scope:
            _scopes.pop()
        if _scopes:
            _scopes.pop()


def push_scope(scope: TraceScope) -> None:
    """Open a scope that a later `pop_scope` closes (for conditionals, built across several calls)."""
    _scopes.append(scope)


def pop_scope(scope: TraceScope) -> None:
    if not _scopes or _scopes[-1] is not scope:
        raise CompileError(
            f"workflow {scope.workflow_name}: a conditional was left unfinished; end every conditional(...) "
            "with .else_().then(...) or .else_().fail(...)"
        )
    _scopes.pop()

"""The interface every node handler has (flytepropeller's: handle, abort, finalize)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sandbox.engine.task_handler import NodeOutcome
    from sandbox.store.records import NodeRecord


class NodeHandler(Protocol):
    def handle(self, node, inputs, row: NodeRecord) -> NodeOutcome:
        """Run the node from the state stored in `row` to its end; every transition is
        recorded before the handler acts on it. An aborted node is recorded "aborted" and
        returns NodeOutcome(aborted=True)."""

    def abort(self, node_id: str, cause: str) -> None:
        """Stop the running node now (kill what it runs); `handle` then records it aborted."""

    def finalize(self, node_id: str, attempt: int) -> None:
        """Release what the node still holds once it ended (a container prepared ahead)."""

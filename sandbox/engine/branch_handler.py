"""The branch node handler: evaluate the conditions on the node's inputs, then run the chosen
node (a task, or another branch) as this node; its outputs become the branch's outputs."""
from __future__ import annotations

from sandbox.engine.conditions import choose
from sandbox.engine.task_handler import NodeOutcome, record, record_aborted
from sdk.errors import SkiffError


class BranchHandler:
    def __init__(self, ctx, execution, plan, handlers, resolve_inputs, walk):
        self.ctx = ctx
        self.execution = execution
        self.plan = plan
        self.handlers = handlers  # node kind -> handler, to run the chosen node
        self.resolve_inputs = resolve_inputs  # (bindings, where) -> LiteralMap
        self.walk = walk  # the scheduler's DAG walk, for a case that calls a workflow

    def handle(self, node, inputs, row) -> NodeOutcome:
        where = f"workflow {self.plan.workflow_name!r} branch node {node.id!r}"
        block = node.branch_node.if_else
        try:
            chosen = choose(block, inputs, where)
        except SkiffError as exc:
            record(self.ctx, self.execution, node.id, state="failed", error=str(exc))
            return NodeOutcome(None, str(exc), row.attempt)
        if chosen is None:
            message = (block.error.message if block.HasField("error") and block.error.message
                       else f"{where}: no condition matched and there is no else branch")
            record(self.ctx, self.execution, node.id, state="failed", error=message)
            return NodeOutcome(None, message, row.attempt)
        # The chosen node runs under the branch node's id: one row, one set of outputs.
        as_branch = type(chosen)()
        as_branch.CopyFrom(chosen)
        as_branch.id = node.id
        kind = as_branch.WhichOneof("target")
        try:
            then_inputs = self.resolve_inputs(chosen.inputs, f"{where} case {chosen.id!r}")
        except SkiffError as exc:
            record(self.ctx, self.execution, node.id, state="failed", error=str(exc))
            return NodeOutcome(None, str(exc), row.attempt)
        if kind == "workflow_node":
            return self._run_workflow_case(node, chosen, then_inputs, row, where)
        if kind == "task_node" and row.task is None:
            row = record(self.ctx, self.execution, node.id,
                         task=self.plan.task_name(as_branch))
        return self.handlers[kind].handle(as_branch, then_inputs, row)

    def abort(self, node_id: str, cause: str) -> None:
        """Stop the chosen case, whatever its kind (it runs under this node's id, or as
        "<node>-..." nodes)."""
        self.handlers["task_node"].abort(node_id, cause)

    def finalize(self, node_id: str, attempt: int) -> None:
        """The chosen case's handler finalizes it."""

    def _run_workflow_case(self, node, chosen, inputs, row, where) -> NodeOutcome:
        """A case calling a subworkflow or launch plan: its nodes run as "<branch>-<case>-..."."""
        from sandbox.engine.bindings import resolve_all
        from sandbox.engine.plan import plan_detached_workflow_node
        from sandbox.store.repository import utcnow

        try:
            plan = plan_detached_workflow_node(self.ctx.store, chosen, self.plan.sub_workflows,
                                               prefix=f"{node.id}-")
        except SkiffError as exc:
            record(self.ctx, self.execution, node.id, state="failed", error=str(exc))
            return NodeOutcome(None, str(exc), row.attempt)
        record(self.ctx, self.execution, node.id, state="running",
               started_at=row.started_at or utcnow())
        rows = {node_id: self.ctx.store.ensure_node(self.execution.id, node_id,
                                                     plan.task_name(inner))
                for node_id, inner in plan.nodes.items()}
        outputs, failure = self.walk(self.ctx, self.execution, plan, inputs, rows)
        cause = self.ctx.aborts.cause(self.execution.id, node.id)
        if cause is not None and len(outputs) < len(plan.nodes):
            return record_aborted(self.ctx, self.execution, node.id, cause, row.attempt)
        if failure is not None:
            message = f"{where}: node {failure[0]!r} failed: {failure[1].error}"
            record(self.ctx, self.execution, node.id, state="failed", error=message,
                   ended_at=utcnow())
            return NodeOutcome(None, message, row.attempt)
        result = resolve_all(plan.outputs, inputs, outputs, where)
        record(self.ctx, self.execution, node.id, state="succeeded", ended_at=utcnow(),
               outputs=result.SerializeToString(), error=None)
        return NodeOutcome(result, attempt=row.attempt)

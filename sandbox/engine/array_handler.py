"""The array node handler (map tasks): run the sub-node's task once per element of the mapped
inputs, concurrently, each as its own node execution ("<node>-<index>": own attempts, cache,
logs), then gather each output into a list. Sub-nodes that completed are kept on resume."""
from __future__ import annotations

import concurrent.futures as futures
import logging
import math

from flyteidl.core import literals_pb2

from sandbox.engine.task_handler import ArrayItem, NodeOutcome, record, record_aborted
from sandbox.store.records import COMPLETED_STATES
from sandbox.store.repository import utcnow

log = logging.getLogger(__name__)


class ArrayHandler:
    def __init__(self, ctx, execution, plan, task_handler):
        self.ctx = ctx
        self.execution = execution
        self.plan = plan
        self.task_handler = task_handler

    def _where(self, node) -> str:
        return f"workflow {self.plan.workflow_name!r} map node {node.id!r}"

    def _fail(self, node, row, message) -> NodeOutcome:
        record(self.ctx, self.execution, node.id, state="failed", error=message,
               ended_at=utcnow())
        return NodeOutcome(None, message, row.attempt)

    def _split(self, node, inputs) -> list[literals_pb2.LiteralMap] | str:
        bound = set(node.array_node.bound_inputs)
        mapped = {k: v for k, v in inputs.literals.items() if k not in bound}
        sizes = set()
        for name, literal in mapped.items():
            if literal.WhichOneof("value") != "collection":
                return f"{self._where(node)}: input {name!r} is not a list; map over lists"
            sizes.add(len(literal.collection.literals))
        if len(sizes) > 1:
            return f"{self._where(node)}: mapped inputs have different lengths {sorted(sizes)}"
        count = sizes.pop() if sizes else 0
        items = []
        for i in range(count):
            item = literals_pb2.LiteralMap()
            for name, literal in inputs.literals.items():
                source = literal if name in bound else literal.collection.literals[i]
                item.literals[name].CopyFrom(source)
            items.append(item)
        return items

    def _required(self, array, count: int) -> int:
        criteria = array.WhichOneof("success_criteria")
        if criteria == "min_successes":
            return min(array.min_successes, count)
        if criteria == "min_success_ratio":
            return math.ceil(array.min_success_ratio * count)
        return count

    def handle(self, node, inputs, row) -> NodeOutcome:
        items = self._split(node, inputs)
        if isinstance(items, str):
            return self._fail(node, row, items)
        array = node.array_node
        sub = array.node
        task = self.plan.task_for(sub)
        record(self.ctx, self.execution, node.id, state="running", task=task.id.name,
               started_at=row.started_at or utcnow())
        results: dict[int, NodeOutcome] = {}
        element_ids = [f"{node.id}-{i}" for i in range(len(items))]
        self.task_handler.share_storage_grant(node, element_ids, inputs)
        try:
            self._run_elements(node, task, items, inputs, results)
        finally:
            self.task_handler.end_storage_grant(element_ids)
        cause = self.task_handler.aborted(node.id)
        if cause is not None and any(r.outputs is None for r in results.values()):
            return record_aborted(self.ctx, self.execution, node.id, cause, row.attempt)
        failed = sorted(i for i, r in results.items() if r.outputs is None)
        if len(items) - len(failed) < self._required(array, len(items)):
            first = results[failed[0]]
            return self._fail(node, row, (
                f"{len(failed)} of {len(items)} mapped tasks failed (first: element "
                f"{failed[0]}, node {node.id}-{failed[0]}, attempt {first.attempt}): "
                f"{first.error}"))
        outputs = literals_pb2.LiteralMap()
        none = literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))
        for name in task.interface.outputs.variables:
            collection = outputs.literals[name].collection
            collection.SetInParent()  # an empty map still outputs an (empty) list
            for i in range(len(items)):
                result = results[i].outputs
                collection.literals.add().CopyFrom(
                    result.literals[name] if result is not None else none)
        record(self.ctx, self.execution, node.id, state="succeeded",
               outputs=outputs.SerializeToString(), ended_at=utcnow(), error=None)
        return NodeOutcome(outputs, attempt=row.attempt)

    def _run_elements(self, node, task, items, inputs,
                      results: dict[int, NodeOutcome]) -> None:
        """Every element not completed yet, as its own sub-node, at most the map node's
        parallelism at a time; their outcomes go into `results` by index. When an element
        starts, the container of the one a parallelism behind it is created (not started:
        the map's parallelism bounds the containers that run), so that a freed slot starts
        an element whose container exists."""
        sub = node.array_node.node
        parallelism = max(node.array_node.parallelism or self.ctx.parallelism, 1)
        whole_lists = _reads_whole_lists(task)
        line: list[tuple[int, object, object]] = []  # (index, sub-node, row), in start order

        def run_element(position: int) -> NodeOutcome:
            i, sub_node, sub_row = line[position]
            # flytekit's map entrypoint reads its index from the environment, which a
            # container made ahead would lack: those elements are created as they start
            if not whole_lists and position + parallelism < len(line):
                self._create_ahead(*line[position + parallelism], items)
            array_item = ArrayItem(i, inputs) if whole_lists else None
            return self.task_handler.handle(sub_node, items[i], sub_row, array_item)

        pending = {}
        with futures.ThreadPoolExecutor(max_workers=parallelism,
                                        thread_name_prefix=f"skiff-{node.id}") as pool:
            for i in range(len(items)):
                sub_id = f"{node.id}-{i}"
                sub_row = self.ctx.store.ensure_node(self.execution.id, sub_id, task.id.name)
                if sub_row.state in COMPLETED_STATES:
                    results[i] = NodeOutcome(literals_pb2.LiteralMap.FromString(
                        sub_row.outputs or b""), attempt=sub_row.attempt)
                    continue
                sub_node = type(sub)()
                sub_node.CopyFrom(sub)
                sub_node.id = sub_id
                line.append((i, sub_node, sub_row))
                pending[pool.submit(run_element, len(line) - 1)] = i
            for future in futures.as_completed(pending):
                i = pending[future]
                try:
                    results[i] = future.result()
                except Exception as exc:  # noqa: BLE001 - an engine bug fails that element
                    results[i] = NodeOutcome(None, f"engine error: {exc}")

    def _create_ahead(self, i: int, sub_node, sub_row, items) -> None:
        """Have element `i`'s container created now, unless it will not need one."""
        try:
            if (self.task_handler.aborted(sub_node.id) is None
                    and not self.task_handler.will_come_from_cache(sub_node, items[i])):
                self.task_handler.prepare(sub_node, sub_row, start=False)
        except Exception:  # noqa: BLE001 - only an optimisation: the element creates its own
            log.debug("could not create the container of %s ahead", sub_node.id, exc_info=True)

    def abort(self, node_id: str, cause: str) -> None:
        """Stop every element ("<node>-<i>"): their containers, and those not started yet."""
        self.task_handler.abort(node_id, cause)

    def finalize(self, node_id: str, attempt: int) -> None:
        """Elements finalize as task nodes when they end."""


def _reads_whole_lists(task) -> bool:
    """flytekit's map tasks run `pyflyte-map-execute`, which wants the whole lists and an
    index; Skiff's own map tasks read their element's inputs."""
    return (task.WhichOneof("target") == "container"
            and "pyflyte-map-execute" in task.container.args)

"""The loop that walks an execution's DAG: start every node whose upstream nodes completed, up
to `parallelism` at once, and persist the execution's own transitions.

It starts from whatever the store says, so the same loop runs a new execution and resumes one
whose engine was killed: completed nodes keep their stored outputs and never run again.
"""
from __future__ import annotations

import logging
import os
import threading

from flyteidl.core import literals_pb2

from sandbox.engine.abort import AbortWatcher, ExecutionAborted, finish_abort
from sandbox.engine.bindings import resolve_all
from sandbox.engine.context import EngineContext, NodeEvent
from sandbox.engine.failure_err import err_input
from sandbox.engine.launch import load_plan
from sandbox.engine.task_handler import ExecutionInfo, NodeOutcome, TaskHandler, record
from sandbox.store.records import COMPLETED_STATES
from sandbox.store.repository import utcnow
from sandbox.engine.host import host_name, process_alive
from sdk.errors import ExecutionFailed, SandboxError, SkiffError

log = logging.getLogger(__name__)
# Levels of the DAG below a starting node whose containers are prepared while it runs: a
# container takes longer to start than a small task takes to run, so one level is not enough
# to keep a chain of tasks from waiting on start-ups.
LOOKAHEAD = 3


class _Handlers(dict):
    """One handler per node kind (flytepropeller's shape, sandbox.engine.handler.NodeHandler:
    handle, abort, finalize); branch runs the others. Each is built, and its module imported,
    when a node of its kind first needs it."""

    def __init__(self, ctx, info, plan, workflow_inputs, node_outputs, on_container=None):
        super().__init__(task_node=TaskHandler(ctx, info, plan, walk, on_container))
        self._args = (ctx, info, plan)
        self._lock = threading.Lock()  # branch nodes look handlers up from node threads
        self._resolve = lambda bindings, where: resolve_all(bindings, workflow_inputs,
                                                            node_outputs, where)

    def __missing__(self, kind: str):
        with self._lock:
            if kind not in self:
                self[kind] = self._build(kind)
            return dict.__getitem__(self, kind)

    def _build(self, kind: str):
        ctx, info, plan = self._args
        if kind == "array_node":
            from sandbox.engine.array_handler import ArrayHandler

            return ArrayHandler(ctx, info, plan, self["task_node"])
        if kind == "gate_node":
            from sandbox.engine.gate_handler import GateHandler

            return GateHandler(ctx, info, plan)
        if kind == "branch_node":
            from sandbox.engine.branch_handler import BranchHandler

            return BranchHandler(ctx, info, plan, self, self._resolve, walk)
        raise KeyError(kind)


def walk(ctx: EngineContext, info: ExecutionInfo, plan, workflow_inputs,
         rows: dict) -> tuple[dict, tuple[str, NodeOutcome] | None]:
    """Run every node of `plan` that can run; (outputs of completed nodes, first failure).

    `rows` holds each node's stored state; completed nodes are not run again."""
    node_outputs: dict[str, literals_pb2.LiteralMap] = {}
    for node_id, row in rows.items():
        if row.state in COMPLETED_STATES:
            node_outputs[node_id] = literals_pb2.LiteralMap.FromString(row.outputs or b"")
            ctx.emit(NodeEvent(info.id, node_id, row.task, row.state, row.attempt, row.duration))
        elif row.state == "failed":  # resuming a failed execution retries its failed nodes
            rows[node_id] = record(ctx, info, node_id, state="queued", attempt=row.attempt + 1,
                                   user_failures=0, system_failures=0, container_id=None,
                                   outputs=None, started_at=None, ended_at=None)
        else:  # let a live view list every node from the start
            ctx.emit(NodeEvent(info.id, node_id, row.task, row.state, row.attempt))
    failure: tuple[str, NodeOutcome] | None = None
    failed: set[str] = set()
    errors: dict[str, str] = {}  # failed (not aborted) node -> its error
    aborted: set[str] = set()
    running: dict = {}  # future -> node id
    downstream = _downstream(plan)
    prepared: set[str] = set()

    def prepare_successors(node_id: str) -> None:
        """Called from a node's thread once its container is recorded: the task nodes that
        will be ready once it (and the ones before them here) completes, up to LOOKAHEAD
        levels down, get their containers prepared meanwhile (they run only when started)."""
        will_be_done = set(node_outputs)  # one C-level copy: the main thread may be adding
        will_be_done.add(node_id)
        level = [node_id]
        for _ in range(LOOKAHEAD):
            ready = []
            for current in level:
                for successor in downstream.get(current, ()):
                    if (successor in will_be_done or not plan.upstream[successor] <= will_be_done
                            or plan.nodes[successor].WhichOneof("target") != "task_node"):
                        continue
                    will_be_done.add(successor)
                    ready.append(successor)
            for successor in ready:
                if successor in prepared:
                    continue
                prepared.add(successor)
                try:
                    handlers["task_node"].prepare(plan.nodes[successor], rows[successor])
                except Exception:  # noqa: BLE001 - only an optimisation: the node runs anyway
                    log.debug("could not prepare node %s ahead", successor, exc_info=True)
            level = ready

    handlers = _Handlers(ctx, info, plan, workflow_inputs, node_outputs, prepare_successors)
    pool = _LazyPool(ctx.parallelism)  # a run that only hits the cache starts no thread
    try:
        while True:
            # After a failure only FAIL_AFTER_EXECUTABLE_NODES_COMPLETE starts more nodes; a
            # node downstream of a failed one never becomes ready either way. A cache hit
            # completes here at once and may make more nodes ready: look again until none is.
            progressed = True
            while (progressed and (failure is None or plan.run_all_runnable)
                   and ctx.aborts.cause(info.id) is None):
                progressed = False
                for node_id, node in plan.nodes.items():
                    if node_id in node_outputs or node_id in failed or node_id in running.values():
                        continue
                    if not plan.upstream[node_id] <= node_outputs.keys():
                        continue
                    if len(running) >= ctx.parallelism:
                        break
                    try:
                        inputs = resolve_all(node.inputs, workflow_inputs, node_outputs,
                                             f"workflow {plan.workflow_name!r} node {node_id!r}")
                    except SkiffError as exc:
                        outcome = NodeOutcome(None, str(exc), rows[node_id].attempt)
                        record(ctx, info, node_id, state="failed", error=str(exc))
                        failed.add(node_id)
                        errors[node_id] = outcome.error
                        failure = failure or (node_id, outcome)
                        continue
                    kind = node.WhichOneof("target")
                    hit = (_cache_hit(handlers["task_node"], node, inputs, rows[node_id])
                           if kind == "task_node" else None)
                    if hit is not None:
                        node_outputs[node_id] = hit.outputs
                        progressed = True
                        continue
                    if kind == "task_node":
                        _mint_ahead(handlers["task_node"], node, inputs, rows[node_id],
                                    node_id in prepared)
                    future = pool.submit(handlers[kind].handle, node, inputs, rows[node_id])
                    running[future] = node_id
            if not running:
                break
            done = pool.wait_first(running)
            for future in done:
                node_id = running.pop(future)
                try:
                    outcome = future.result()
                except Exception as exc:  # noqa: BLE001 - an engine bug must fail the node
                    log.exception("node %s crashed the engine handler", node_id)
                    outcome = NodeOutcome(None, f"engine error: {exc}", rows[node_id].attempt)
                    record(ctx, info, node_id, state="failed", error=outcome.error)
                _finalize(handlers, plan.nodes[node_id], outcome.attempt)
                if outcome.outputs is not None:
                    node_outputs[node_id] = outcome.outputs
                elif outcome.aborted:
                    failed.add(node_id)
                    aborted.add(node_id)
                else:
                    failed.add(node_id)
                    errors[node_id] = outcome.error
                    if failure is None and not plan.run_all_runnable:
                        _abort_running(ctx, info, handlers, plan, running.values(), node_id)
                    failure = failure or (node_id, outcome)
    except BaseException:
        # Ctrl-C: don't wait for running containers; they keep running and a resume adopts
        # them (their ids are in the store).
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if errors and plan.scope_failure_nodes and ctx.aborts.cause(info.id) is None:
        _run_scope_failure_nodes(ctx, info, plan, workflow_inputs, node_outputs, errors)
    if failure is None and not aborted and ctx.aborts.cause(info.id) is None:
        missing = plan.nodes.keys() - node_outputs.keys()
        if missing:
            raise SandboxError(f"execution {info.id}: nodes {sorted(missing)} can never run "
                               "(a dependency cycle); recompile the workflow")
    return node_outputs, failure


def _mint_ahead(task_handler, node, inputs, row, prepared: bool) -> None:
    """The node starts now: its storage credentials are minted in the background meanwhile
    (its inputs are written, its state recorded), off its critical path."""
    try:
        task_handler.mint_ahead(node, row, inputs, prepared)
    except Exception:  # noqa: BLE001 - only an optimisation: the attempt mints them itself
        log.debug("could not mint credentials ahead for node %s", node.id, exc_info=True)


def _finalize(handlers, node, attempt: int) -> None:
    try:
        handlers[node.WhichOneof("target")].finalize(node.id, attempt)
    except Exception:  # noqa: BLE001 - a kind without handler state, or Docker gone
        log.debug("finalizing node %s", node.id, exc_info=True)


def _abort_running(ctx, info, handlers, plan, running_ids, failed_id: str) -> None:
    """FAIL_IMMEDIATELY: the workflow fails with its first failed node, so the nodes still
    running are stopped now (their handlers record them aborted), not waited for."""
    cause = f"node {failed_id!r} failed and the workflow fails immediately"
    for node_id in list(running_ids):
        kind = plan.nodes[node_id].WhichOneof("target")
        try:
            try:
                handler = handlers[kind]
            except KeyError:
                handler = handlers["task_node"]
            handler.abort(node_id, cause)
        except Exception:  # noqa: BLE001 - Docker unreachable: nothing of it runs there
            log.debug("aborting node %s", node_id, exc_info=True)


class _LazyPool:
    """The node threads, started when the first node needs one."""

    def __init__(self, size: int):
        self._size = max(size, 1)
        self._pool = None

    def submit(self, fn, *args):
        if self._pool is None:
            import concurrent.futures

            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=self._size, thread_name_prefix="skiff-node")
        return self._pool.submit(fn, *args)

    @staticmethod
    def wait_first(running) -> set:
        import concurrent.futures

        done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
        return done

    def shutdown(self, **kwargs) -> None:
        if self._pool is not None:
            self._pool.shutdown(**kwargs)


def _cache_hit(handler, node, inputs, row) -> NodeOutcome | None:
    try:
        return handler.cached(node, inputs, row)
    except Exception:  # noqa: BLE001 - the node's own thread meets it again and fails the node
        log.debug("cache lookup for node %s failed", node.id, exc_info=True)
        return None


def _downstream(plan) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for node_id, upstream in plan.upstream.items():
        for parent in upstream:
            result.setdefault(parent, []).append(node_id)
    return result


def _run_scope_failure_nodes(ctx, info, plan, workflow_inputs, node_outputs,
                             errors: dict[str, str]) -> None:
    """A failed subworkflow's own on_failure handler runs before its parent fails (propeller's
    subworkflow handler: HandleFailureNodeOfSubWorkflow), innermost subworkflow first, with
    the subworkflow's inputs and the failed node's id inside it."""
    failing: dict[str, tuple[str, str]] = {}  # subworkflow prefix -> (failed node, error)
    for node_id, error in errors.items():
        for prefix in plan.scope_failure_nodes:
            if node_id.startswith(prefix):
                failing.setdefault(prefix, (node_id[len(prefix):], error))
    for prefix in sorted(failing, key=len, reverse=True):
        failed_node, error = failing[prefix]
        _run_failure_node(ctx, info, plan, plan.scope_failure_nodes[prefix], workflow_inputs,
                          node_outputs, failed_node, error)


def _run_failure_node(ctx, info, plan, node, workflow_inputs, node_outputs, failed_node: str,
                      error: str) -> None:
    """An on_failure handler (`node`, its inputs bound as the plan's other nodes); its own
    failure is recorded on its node and logged, not raised: the workflow fails with the
    error that made it fail."""
    if node.WhichOneof("target") == "workflow_node":
        _run_failure_workflow(ctx, info, plan, node, workflow_inputs, node_outputs,
                              failed_node, error)
        return
    task = plan.task_for(node)
    row = ctx.store.ensure_node(info.id, node.id, task.id.name)
    if row.state in COMPLETED_STATES:
        return
    try:
        inputs = resolve_all(node.inputs, workflow_inputs, node_outputs,
                             f"failure node {node.id!r}")
    except SkiffError as exc:
        record(ctx, info, node.id, state="failed", error=str(exc))
        return
    err_type = task.interface.inputs.variables.get("err")
    if err_type is not None:
        bound = inputs.literals["err"] if "err" in inputs.literals else None
        err = err_input(err_type.type, bound, failed_node, error)
        if err is not None:
            inputs.literals["err"].CopyFrom(err)
    outcome = _Handlers(ctx, info, plan, workflow_inputs, node_outputs)["task_node"].handle(
        node, inputs, row)
    if outcome.outputs is None:
        log.warning("the failure handler %s of execution %s failed too: %s", node.id, info.id,
                    outcome.error)


def _run_failure_workflow(ctx, info, plan, node, workflow_inputs, node_outputs,
                          failed_node: str, error: str) -> None:
    """An on_failure handler that is a workflow: its nodes run as "<failure node>-<id>",
    with the failed workflow's inputs and `err` as the handler declares it."""
    from sandbox.engine.plan import plan_detached_workflow_node

    where = f"failure node {node.id!r}"
    row = ctx.store.ensure_node(info.id, node.id, None)
    if row.state in COMPLETED_STATES:
        return
    try:
        inputs = resolve_all(node.inputs, workflow_inputs, node_outputs, where)
        # inlined under the failure node's id: its nodes are "<failure node>-<id>"
        handler = plan_detached_workflow_node(ctx.store, node, plan.sub_workflows, prefix="")
    except SkiffError as exc:
        record(ctx, info, node.id, state="failed", error=str(exc))
        return
    called = next((t for t in plan.sub_workflows
                   if t.id.name == node.workflow_node.sub_workflow_ref.name), None)
    err_type = called.interface.inputs.variables.get("err") if called is not None else None
    if err_type is not None:
        bound = inputs.literals["err"] if "err" in inputs.literals else None
        err = err_input(err_type.type, bound, failed_node, error)
        if err is not None:
            inputs.literals["err"].CopyFrom(err)
    record(ctx, info, node.id, state="running", started_at=row.started_at or utcnow())
    rows = {node_id: ctx.store.ensure_node(info.id, node_id, handler.task_name(inner))
            for node_id, inner in handler.nodes.items()}
    _, failure = walk(ctx, info, handler, inputs, rows)
    if failure is None:
        record(ctx, info, node.id, state="succeeded", ended_at=utcnow(), error=None)
    else:
        message = f"{where}: node {failure[0]!r} failed: {failure[1].error}"
        record(ctx, info, node.id, state="failed", ended_at=utcnow(), error=message)
        log.warning("the failure handler of execution %s failed too: %s", info.id, message)


def run_execution(ctx: EngineContext, execution_id: str) -> literals_pb2.LiteralMap:
    """Run (or resume) an execution to the end; its outputs, or ExecutionFailed."""
    execution = ctx.store.execution(execution_id)
    if execution is None:
        raise SkiffError(f"execution {execution_id!r} does not exist; see "
                         "`skiff executions list`")
    if execution.state == "succeeded":
        return literals_pb2.LiteralMap.FromString(execution.outputs or b"")
    if execution.state == "aborted" or execution.abort_cause:
        if execution.state != "aborted":  # terminated before any engine ran it
            finish_abort(ctx.store, execution_id, execution.abort_cause)
        raise SkiffError(f"execution {execution_id} was terminated "
                         f"({execution.abort_cause or 'aborted'}); run it again with `skiff "
                         f"executions relaunch {execution_id}` or `skiff executions recover "
                         f"{execution_id}`")
    owner = ctx.store.claim_execution(execution_id, os.getpid(), host_name(),
                                      process_alive)
    if owner is not None:
        raise SkiffError(f"execution {execution_id} is being run by engine process {owner}; "
                         "wait for it, or stop that process and resume again")
    _set_execution(ctx, execution_id, state="running", error=None,
                   started_at=execution.started_at or utcnow(), ended_at=None)
    if ctx.bundles is not None:
        ctx.bundles.resume(execution_id)  # released when an earlier run here ended
    try:
        if execution.state != "queued":
            _remove_unrecorded_containers(ctx, execution_id)
        with AbortWatcher(ctx, execution_id):
            return _run(ctx, execution)
    except ExecutionFailed:
        raise
    except Exception as exc:
        # Not the workflow's failure but ours (a spec the engine cannot run, the store or
        # Docker gone): say so in the store rather than leave the execution "running".
        _set_execution(ctx, execution_id, state="failed", ended_at=utcnow(),
                       error=f"execution {execution_id} stopped: {exc}")
        raise
    finally:
        drain = getattr(ctx.runner, "drain", None)
        if drain is not None:
            drain(execution_id)  # unused containers created ahead, removals still running
        if ctx.bundles is not None:
            ctx.bundles.release(execution_id)  # its unpacked code bundles


def _remove_unrecorded_containers(ctx, execution_id: str) -> None:
    """A killed engine may leave containers it prepared ahead for nodes it never started;
    the store does not know them, so no resume would adopt them: remove them."""
    remove = getattr(ctx.runner, "remove_unrecorded", None)
    if remove is not None:
        recorded = {row.container_id for row in ctx.store.nodes(execution_id)
                    if row.container_id}
        remove(execution_id, keep=recorded)


def _run(ctx: EngineContext, execution) -> literals_pb2.LiteralMap:
    execution_id = execution.id
    plan = load_plan(ctx.store, execution)
    info = ExecutionInfo(execution.id, execution.project, execution.domain)
    rows = {r.node_id: r for r in ctx.store.nodes(execution_id) if r.node_id in plan.nodes}
    workflow_inputs = literals_pb2.LiteralMap.FromString(execution.inputs)
    node_outputs, failure = walk(ctx, info, plan, workflow_inputs, rows)
    cause = ctx.aborts.cause(execution_id)
    if cause is not None:  # terminated: no failure handler runs (as in Flyte)
        finish_abort(ctx.store, execution_id, cause)
        raise ExecutionAborted(f"execution {execution_id} was aborted: {cause}")
    if failure is not None:
        node_id, outcome = failure
        failed_row = ctx.store.node(execution_id, node_id)
        task = f" (task {failed_row.task})" if failed_row and failed_row.task else ""
        message = (f"execution {execution_id} failed: node {node_id!r}{task} "
                   f"attempt {outcome.attempt}: {outcome.error}")
        if plan.failure_node is not None:
            _run_failure_node(ctx, info, plan, plan.failure_node, workflow_inputs, node_outputs,
                              node_id, outcome.error)
        _set_execution(ctx, execution_id, state="failed", error=message, ended_at=utcnow())
        raise ExecutionFailed(message)
    outputs = resolve_all(plan.outputs, workflow_inputs, node_outputs,
                          f"workflow {plan.workflow_name!r} outputs")
    _set_execution(ctx, execution_id, state="succeeded", outputs=outputs.SerializeToString(),
                   ended_at=utcnow())
    return outputs


def _set_execution(ctx: EngineContext, execution_id: str, **fields) -> None:
    ctx.store.update_execution(execution_id, **fields)

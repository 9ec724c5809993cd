"""The task node handler: cache lookup, then attempts in containers until success or the retry
budgets (user and system, counted separately) run out. Every transition is committed to the
store before the handler acts on it."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time

from flyteidl.core import literals_pb2
from sandbox.engine.eager_access import admin_access_env
from sandbox.engine import cache, containerless
from sandbox.engine.attempt import (
    SYSTEM, USER, AttemptOutcome, AttemptPaths, build_request, container_args, read_outcome,
    read_results, secret_env, timeout_seconds, user_retries,
)
from sandbox.engine.context import EngineContext, NodeEvent
from sandbox.engine.live_logs import NodeLog, stored_bytes
from sandbox.engine.overrides import effective_task
from sandbox.storage.layout import attempt_prefix, raw_prefix
from sandbox.store.records import NodeRecord
from sandbox.store.repository import utcnow
from sdk.errors import SkiffError

log = logging.getLogger(__name__)

SYSTEM_RETRY_PAUSE_S = 1.0
MAX_SYSTEM_RETRY_PAUSE_S = 8.0


@dataclasses.dataclass
class NodeOutcome:
    outputs: literals_pb2.LiteralMap | None
    error: str | None = None
    attempt: int = 0
    aborted: bool = False  # stopped by a terminate or FAIL_IMMEDIATELY, recorded "aborted"


@dataclasses.dataclass
class ArrayItem:
    """One element of a flytekit map task (`pyflyte-map-execute`): flytekit reads the whole
    input lists and picks its element by the index in $BATCH_JOB_ARRAY_INDEX_VAR_NAME, as
    Flyte's array plugin runs it. The cache still keys on the element's own inputs."""

    index: int
    whole_inputs: literals_pb2.LiteralMap

    def env(self) -> dict[str, str]:
        return {"BATCH_JOB_ARRAY_INDEX_VAR_NAME": "FLYTE_K8S_ARRAY_INDEX",
                "FLYTE_K8S_ARRAY_INDEX": str(self.index)}


@dataclasses.dataclass(frozen=True)
class MapElements:
    """What the elements of one map node share for storage: the name prefixes of all their
    metadata and raw data, and the keys the map node's inputs name."""

    prefixes: tuple[str, ...]  # s3:// URIs ending "<execution>/<node>-"
    named: frozenset[str]


@dataclasses.dataclass
class ExecutionInfo:
    id: str
    project: str
    domain: str


def record(ctx: EngineContext, execution: ExecutionInfo, node_id: str, **fields) -> NodeRecord:
    """Commit new field values for a node execution, then tell the live view."""
    row = ctx.store.update_node(execution.id, node_id, **fields)
    if "state" in fields:
        ctx.emit(NodeEvent(execution.id, node_id, row.task, row.state, row.attempt,
                           row.duration, row.error))
    return row


def record_aborted(ctx: EngineContext, execution: ExecutionInfo, node_id: str, cause: str,
                   attempt: int) -> NodeOutcome:
    """The node stopped because it was told to (its handler's abort step is done)."""
    record(ctx, execution, node_id, state="aborted", error=f"aborted: {cause}",
           ended_at=utcnow())
    return NodeOutcome(None, f"aborted: {cause}", attempt, aborted=True)


class TaskHandler:
    def __init__(self, ctx: EngineContext, execution: ExecutionInfo, plan, walk=None,
                 on_container=None):
        self.ctx = ctx
        self.execution = execution
        self.plan = plan
        self.walk = walk  # the scheduler's DAG walk, for the workflow a dynamic task builds
        # told the node id once an attempt's container is recorded, so that the scheduler can
        # have the containers of the nodes that wait for it created meanwhile
        self.on_container = on_container
        # element node id -> the storage scope of its map node (share_storage_grant)
        self._map_elements: dict[str, MapElements] = {}

    def _paths(self, node_id: str, attempt: int) -> AttemptPaths:
        e, bucket = self.execution, self.ctx.objects.bucket
        meta = attempt_prefix(bucket, e.project, e.domain, e.id, node_id, attempt)
        raw = raw_prefix(bucket, e.project, e.domain, e.id, node_id, attempt)
        prev = (raw_prefix(bucket, e.project, e.domain, e.id, node_id, attempt - 1)
                + "/_flytecheckpoints") if attempt > 0 else ""
        return AttemptPaths(f"{meta}/inputs.pb", meta, raw, f"{raw}/_flytecheckpoints", prev)

    def _env(self, task_template, attempt: int) -> dict[str, str]:
        e = self.execution
        storage = self.ctx.storage_env
        if self.ctx.storage_credentials is not None:  # the keys come with the attempt's grant
            storage = {"FLYTE_AWS_ENDPOINT": storage["FLYTE_AWS_ENDPOINT"]}
        return {
            **self.ctx.task_env,  # the execution's envs; Flyte's own variables win over them
            **storage,
            "FLYTE_INTERNAL_EXECUTION_ID": e.id,
            "FLYTE_INTERNAL_EXECUTION_PROJECT": e.project,
            "FLYTE_INTERNAL_EXECUTION_DOMAIN": e.domain,
            "FLYTE_INTERNAL_TASK_NAME": task_template.id.name,
            "FLYTE_INTERNAL_TASK_PROJECT": task_template.id.project,
            "FLYTE_INTERNAL_TASK_DOMAIN": task_template.id.domain,
            "FLYTE_INTERNAL_TASK_VERSION": task_template.id.version,
            "FLYTE_ATTEMPT_NUMBER": str(attempt),
            **admin_access_env(self.ctx.admin, e.id, task_template),
        }

    def cached(self, node, inputs: literals_pb2.LiteralMap, row: NodeRecord) -> NodeOutcome | None:
        """The node completed from the cache, or None (not cacheable, or a miss). Cheap
        enough for the scheduler's own thread: a hit needs no container, thread or MinIO."""
        if row.state == "running":
            return None  # a resume adopts its container
        task_template = effective_task(self.plan.task_for(node), node)
        if not cache.is_cacheable(task_template) or self.ctx.overwrite_cache:
            return None
        key = cache.cache_key(self.execution.project, self.execution.domain, task_template,
                              inputs)
        hit = cache.lookup(self.ctx.store, key)
        return None if hit is None else self._from_cache(node, row, hit)

    def _from_cache(self, node, row: NodeRecord, hit) -> NodeOutcome:
        discard = getattr(self.ctx.runner, "discard", None)
        if discard is not None:  # a container prepared for the node is not needed
            discard(self._labels(node.id, row.attempt))
        now = utcnow()
        record(self.ctx, self.execution, node.id, state="cached",
               outputs=hit.SerializeToString(), started_at=now, ended_at=now,
               duration=0.0, error=None)
        return NodeOutcome(hit, attempt=row.attempt)

    def handle(self, node, inputs: literals_pb2.LiteralMap, row: NodeRecord,
               array_item: ArrayItem | None = None) -> NodeOutcome:
        """Run the node from whatever state the store holds (fresh, retrying or running)."""
        task_template = effective_task(self.plan.task_for(node), node)
        if not cache.is_cacheable(task_template):
            return self._attempts(node, task_template, inputs, row, None, array_item)
        key = cache.cache_key(self.execution.project, self.execution.domain, task_template,
                              inputs)
        if self.ctx.overwrite_cache:  # recompute; the result replaces the entry
            return self._attempts(node, task_template, inputs, row, key, array_item)
        hit = cache.lookup(self.ctx.store, key)
        if hit is None and task_template.metadata.cache_serializable:
            hold = timeout_seconds(task_template)
            with cache.serialized(self.ctx.store, key, f"{self.execution.id}/{node.id}",
                                  dt.timedelta(seconds=hold) if hold else None) as hit:
                if hit is None:
                    return self._attempts(node, task_template, inputs, row, key, array_item)
        if hit is None:
            return self._attempts(node, task_template, inputs, row, key, array_item)
        return self._from_cache(node, row, hit)

    def _attempts(self, node, task_template, inputs, row, key, array_item=None) -> NodeOutcome:
        """Attempts in containers until success, the retry budgets run out, or an abort."""
        attempt = row.attempt
        user_failures, system_failures = row.user_failures, row.system_failures
        adopt = row.container_id if row.state == "running" else None
        max_user = user_retries(task_template)
        while True:
            cause = self.aborted(node.id)
            if cause is not None:
                return record_aborted(self.ctx, self.execution, node.id, cause, attempt)
            paths = self._paths(node.id, attempt)
            started = time.monotonic()
            if not adopt:
                self.ctx.store.queue_attempt(self.execution.id, node.id, attempt, utcnow())
            outcome = self._run_attempt(node, task_template, inputs, attempt, paths, adopt,
                                        row.logs if adopt else None, array_item)
            adopt = None
            cause = self.aborted(node.id)
            if outcome.outputs is None and cause is None:
                cause = self._stored_abort()
            if outcome.outputs is None and cause is not None:
                return self._aborted_attempt(node.id, cause, attempt)
            if outcome.futures is not None:
                container = outcome
                outcome = self._run_dynamic(node, task_template, inputs, outcome.futures)
                outcome.exit_code, outcome.exit_status = container.exit_code, (
                    container.exit_status if outcome.outputs is not None else
                    f"{container.exit_status}; the workflow it built failed")
                cause = self.aborted(node.id)
                if outcome.outputs is None and cause is not None:
                    return self._aborted_attempt(node.id, cause, attempt)
            duration = time.monotonic() - started
            self._end_attempt(node.id, attempt, outcome)
            if outcome.outputs is not None:
                if key is not None:
                    cache.remember(self.ctx.store, key, self.execution.project,
                                   self.execution.domain, task_template, outcome.outputs,
                                   self.execution.id, overwrite=self.ctx.overwrite_cache)
                record(self.ctx, self.execution, node.id, state="succeeded",
                       outputs=outcome.outputs.SerializeToString(), ended_at=utcnow(),
                       duration=duration, error=None, output_uri=paths.output_prefix)
                return NodeOutcome(outcome.outputs, attempt=attempt)
            if outcome.error_kind == SYSTEM:
                system_failures += 1
                retry = system_failures <= self.ctx.system_retries
            else:
                user_failures += 1
                retry = user_failures <= max_user
            # error.pb marked NON_RECOVERABLE (an import error, a type mismatch) would fail
            # the same way again: Flyte does not retry it, neither do we.
            retry = retry and outcome.recoverable
            message = f"attempt {attempt} failed ({outcome.error_kind} error): {outcome.error}"
            if not retry:
                record(self.ctx, self.execution, node.id, state="failed", error=message,
                       ended_at=utcnow(), duration=duration,
                       user_failures=user_failures, system_failures=system_failures)
                return NodeOutcome(None, error=f"{outcome.error_kind} error: {outcome.error}",
                                   attempt=attempt)
            attempt += 1
            record(self.ctx, self.execution, node.id, state="retrying", attempt=attempt,
                   error=message, container_id=None,
                   user_failures=user_failures, system_failures=system_failures)
            if outcome.error_kind == SYSTEM:
                # The engine or storage stumbled: give it time before trying again
                # (woken early by an abort, which the loop's top then records).
                self.ctx.aborts.sleep(self.execution.id, node.id,
                                      min(SYSTEM_RETRY_PAUSE_S * 2 ** (system_failures - 1),
                                          MAX_SYSTEM_RETRY_PAUSE_S))

    # ---- abort and finalize (flytepropeller's handler steps) ------------------------------

    def _stored_abort(self) -> str | None:
        """A terminate kills the containers at once, possibly before the engine's watcher
        polled its request: a failed attempt looks at the stored request itself."""
        cause = self.ctx.store.abort_cause(self.execution.id)
        if cause is not None:
            self.ctx.aborts.abort_execution(self.execution.id, cause)
        return cause

    def aborted(self, node_id: str) -> str | None:
        """Why the node must stop (its execution or an enclosing node was aborted), or None."""
        return self.ctx.aborts.cause(self.execution.id, node_id)

    def abort(self, node_id: str, cause: str) -> None:
        """Stop the node: its attempt loop records it aborted once its container died."""
        from sandbox.engine.abort import kill_containers

        self.ctx.aborts.abort_node(self.execution.id, node_id, cause)
        kill_containers(self.execution.id, node_id)

    def finalize(self, node_id: str, attempt: int) -> None:
        """Free what the node holds once it ended: a container prepared ahead for it."""
        discard = getattr(self.ctx.runner, "discard", None)
        if discard is not None:
            discard(self._labels(node_id, attempt))

    def _aborted_attempt(self, node_id: str, cause: str, attempt: int) -> NodeOutcome:
        """An attempt that ran (or was set up) ends aborted, in its record too."""
        self.ctx.store.end_attempt(self.execution.id, node_id, attempt, "aborted", utcnow(),
                                   exit_status=f"aborted: {cause}"[:200])
        return record_aborted(self.ctx, self.execution, node_id, cause, attempt)

    def _end_attempt(self, node_id: str, attempt: int, outcome: AttemptOutcome) -> None:
        """Per-attempt times for the console's timeline (the row keeps the last one's only)."""
        row = self.ctx.store.node(self.execution.id, node_id)
        state = "succeeded" if outcome.outputs is not None or outcome.futures is not None \
            else "failed"
        status = outcome.exit_status
        if status is None and state == "failed":
            # No container ran (a missing secret, inputs not written): say where it stopped.
            status = "no container ran: " + (
                (outcome.error or "").strip().splitlines() or ["unknown"])[0][:160]
        self.ctx.store.end_attempt(self.execution.id, node_id, attempt, state, utcnow(),
                                   row.started_at if row is not None else None,
                                   exit_code=outcome.exit_code, exit_status=status,
                                   error=outcome.error if state == "failed" else None)

    def _request(self, node, task_template, attempt: int, paths: AttemptPaths,
                 array_item: ArrayItem | None = None, inputs=None):
        """The attempt's container request; SkiffError when a secret is missing. `inputs`:
        the attempt's input document, None while it is not known (a container prepared
        ahead, whose grant then covers its own execution's data only)."""
        secrets = secret_env(task_template, self.ctx.secrets_dir)
        env = self._env(task_template, attempt)
        if array_item is not None:
            env.update(array_item.env())
        request = build_request(task_template, node, paths, env,
                                self._labels(node.id, attempt), secrets,
                                self.ctx.container_policy)
        if self.ctx.bundles is not None:
            self.ctx.bundles.share(request, self.execution.id)
        if self.ctx.storage_credentials is not None:
            request.storage = self._storage_access(node.id, paths, request, inputs)
        return request

    def _storage_access(self, node_id: str, paths: AttemptPaths, request, inputs):
        from sandbox.engine.storage_grant import lifetime_seconds
        from sandbox.runtime.storage_credentials import StorageAccess

        grant = self._grant(node_id, paths, request.args + request.command, inputs)
        return StorageAccess(grant, lifetime_seconds(request.timeout),
                             self.ctx.storage_credentials)

    def _grant(self, node_id: str, paths: AttemptPaths, args: list[str], inputs):
        from sandbox.engine.storage_grant import attempt_grant, map_elements_grant

        bucket = self.ctx.objects.bucket
        elements = self._map_elements.get(node_id)
        if elements is not None:  # one grant for all elements of its map node
            return map_elements_grant(bucket, elements.prefixes, args, elements.named)
        return attempt_grant(bucket, self._readable(paths), paths.output_prefix,
                             paths.raw_prefix, args, inputs)

    def share_storage_grant(self, map_node, element_ids: list[str], inputs) -> None:
        """The elements `element_ids` of `map_node` (an array node; `inputs`: its whole
        inputs) run with one storage grant: credentials minted once, now, in the background,
        rather than once per element on its critical path. Until end_storage_grant."""
        issuer = self.ctx.storage_credentials
        if issuer is None or not element_ids:
            return
        from sandbox.engine.storage_grant import named_objects

        e, bucket = self.execution, self.ctx.objects.bucket
        prefixes = tuple(
            where(bucket, e.project, e.domain, e.id, "x", 0).rsplit("/", 2)[0]
            + f"/{map_node.id}-" for where in (attempt_prefix, raw_prefix))
        elements = MapElements(prefixes, named_objects(bucket, inputs))
        for element_id in element_ids:
            self._map_elements[element_id] = elements
        try:
            self._mint_for_elements(map_node, element_ids[0])
        except Exception:  # noqa: BLE001 - only an optimisation: the first element mints them
            log.debug("could not mint credentials ahead for map node %s", map_node.id,
                      exc_info=True)

    def _mint_for_elements(self, map_node, first_id: str) -> None:
        from sandbox.engine.storage_grant import lifetime_seconds

        element = type(map_node.array_node.node)()
        element.CopyFrom(map_node.array_node.node)
        element.id = first_id
        task_template = effective_task(self.plan.task_for(element), element)
        if (task_template.WhichOneof("target") != "container"
                or containerless.runs_without_container(task_template)):
            return
        paths = self._paths(element.id, 0)
        args = container_args(task_template, paths) + list(task_template.container.command)
        self.ctx.storage_credentials.mint_ahead(self._grant(element.id, paths, args, None),
                                                lifetime_seconds(timeout_seconds(task_template)))

    def end_storage_grant(self, element_ids: list[str]) -> None:
        for element_id in element_ids:
            self._map_elements.pop(element_id, None)

    def _readable(self, paths: AttemptPaths) -> tuple[str, ...]:
        """What an attempt may read of its own execution before its inputs are known: every
        attempt of its own node (its inputs, its previous attempts' checkpoints) and the
        nodes it is bound to in the DAG (their outputs and raw data). Anything else of the
        execution its inputs name (a file passed through from further up, a dynamic task's
        inner node) is added by name once the inputs exist."""
        e, bucket = self.execution, self.ctx.objects.bucket
        own = paths.output_prefix.rsplit("/", 1)[0]  # .../<node>/<attempt> -> .../<node>
        node_id = own.rsplit("/", 1)[1]
        prefixes = [own, paths.raw_prefix.rsplit("/", 1)[0]]
        for upstream in sorted(self.plan.upstream.get(node_id, ())):
            prefixes.append(attempt_prefix(bucket, e.project, e.domain, e.id, upstream, 0)
                            .rsplit("/", 1)[0])
            prefixes.append(raw_prefix(bucket, e.project, e.domain, e.id, upstream, 0)
                            .rsplit("/", 1)[0])
        return tuple(prefixes)

    def will_come_from_cache(self, node, inputs: literals_pb2.LiteralMap) -> bool:
        """The node's task is cached and has an entry for `inputs` (nothing recorded)."""
        task_template = effective_task(self.plan.task_for(node), node)
        if not cache.is_cacheable(task_template) or self.ctx.overwrite_cache:
            return False
        key = cache.cache_key(self.execution.project, self.execution.domain, task_template,
                              inputs)
        return cache.lookup(self.ctx.store, key) is not None

    def mint_ahead(self, node, row: NodeRecord, inputs, prepared: bool) -> None:
        """Start minting the storage credentials of the node's next attempt, which is about
        to start, in the background: the attempt then finds them minted (or half-way) rather
        than waiting a whole STS call. Skipped when the container prepared ahead for it
        (`prepared`) already carries credentials for the same grant."""
        issuer = self.ctx.storage_credentials
        if issuer is None or row.state not in ("queued", "retrying"):
            return
        from sandbox.engine.storage_grant import lifetime_seconds

        task_template = effective_task(self.plan.task_for(node), node)
        if (task_template.WhichOneof("target") != "container"
                or containerless.runs_without_container(task_template)):
            return
        paths = self._paths(node.id, row.attempt)
        args = container_args(task_template, paths) + list(task_template.container.command)
        grant = self._grant(node.id, paths, args, inputs)
        if prepared and grant == self._grant(node.id, paths, args, None):
            return
        issuer.mint_ahead(grant, lifetime_seconds(timeout_seconds(task_template)))

    def _labels(self, node_id: str, attempt: int) -> dict[str, str]:
        return {"skiff.execution": self.execution.id, "skiff.node": node_id,
                "skiff.attempt": str(attempt)}

    def prepare(self, node, row: NodeRecord, start: bool = True) -> None:
        """Have the runner prepare the container of the node's next attempt while its
        upstream runs (sandbox.runtime.docker_runner: started and waiting at the start gate,
        or, without `start`, created only). It runs the task only once the node's inputs are
        written and its state is recorded; unused (a cache hit, a failure upstream), the
        runner removes it."""
        if row.state not in ("queued", "retrying") or node.WhichOneof("target") != "task_node":
            return
        task_template = effective_task(self.plan.task_for(node), node)
        if task_template.WhichOneof("target") != "container":
            return
        try:
            request = self._request(node, task_template, row.attempt,
                                    self._paths(node.id, row.attempt))
        except SkiffError:
            return  # the attempt itself reports it
        self.ctx.runner.prepare(request, start)

    def _run_attempt(self, node, task_template, inputs, attempt, paths, adopt_container,
                     stored_logs, array_item=None) -> AttemptOutcome:
        ctx = self.ctx
        if containerless.runs_without_container(task_template):
            outcome = containerless.run(task_template, inputs)
            outcome.exit_status = "ran in the engine (no container)"
            return outcome
        document = inputs if array_item is None else array_item.whole_inputs
        try:
            request = self._request(node, task_template, attempt, paths, array_item, document)
        except SkiffError as exc:
            return AttemptOutcome(error_kind="user", error=str(exc))
        result = None
        node_log = NodeLog(ctx.store, self.execution.id, node.id, attempt,
                           skip_bytes=stored_bytes(stored_logs, attempt) or 0)
        try:
            if adopt_container:
                # The engine was killed while this container ran: wait for it, don't rerun
                # it; its output continues the log from where that engine stopped storing it.
                if stored_bytes(stored_logs, attempt) is None:
                    node_log.begin()
                else:
                    node_log.resume()
                result = ctx.runner.adopt(adopt_container, request.timeout,
                                          request.memory_text, on_output=node_log.write)
            if result is None:
                if adopt_container:  # finished and removed, or never started: did it finish?
                    done = read_results(ctx.objects, paths.output_prefix)
                    if done is not None:
                        done.exit_status = "finished while no engine watched it"
                        return done
                node_log.close()
                node_log = NodeLog(ctx.store, self.execution.id, node.id, attempt)
                try:
                    ctx.objects.put_bytes(paths.inputs_uri, document.SerializeToString())
                except SkiffError as exc:
                    return AttemptOutcome(error_kind=SYSTEM, error=str(exc))
                if self.aborted(node.id) is not None:
                    return AttemptOutcome(error_kind=SYSTEM, error="aborted before it started")

                def on_created(container_id: str) -> None:
                    now = utcnow()
                    record(ctx, self.execution, node.id, state="running", attempt=attempt,
                           container_id=container_id, input_uri=paths.inputs_uri,
                           output_uri=paths.output_prefix, started_at=now)
                    ctx.store.start_attempt(self.execution.id, node.id, attempt, now)
                    node_log.begin()
                    if request.notice:  # what the engine changed from the task's request
                        node_log.write(request.notice.encode())
                    if self.on_container is not None:
                        self.on_container(node.id)

                result = ctx.runner.run(request, on_created=on_created,
                                        on_output=node_log.write)
        finally:
            node_log.close()
        try:
            return read_outcome(result, ctx.objects, paths.output_prefix, request)
        except SkiffError as exc:
            return AttemptOutcome(error_kind=SYSTEM, error=str(exc), exit_code=result.exit_code,
                                  exit_status=f"exit {result.exit_code}; its result could not "
                                              "be read")

    def _run_dynamic(self, node, task_template, inputs, spec) -> AttemptOutcome:
        """Run the workflow a @dynamic task built (its nodes named "<node>-<id>"), then bind
        the task's outputs from it. Completed inner nodes survive a resume like any other."""
        from flyteidl.core import workflow_pb2

        from sandbox.engine.bindings import resolve_all
        from sandbox.engine.plan import plan_workflow

        template = workflow_pb2.WorkflowTemplate(nodes=spec.nodes, outputs=spec.outputs)
        template.id.CopyFrom(task_template.id)
        template.interface.CopyFrom(task_template.interface)
        try:
            plan = plan_workflow(self.ctx.store, template, spec.subworkflows,
                                 prefix=f"{node.id}-", tasks=spec.tasks)
        except SkiffError as exc:
            return AttemptOutcome(error_kind=USER, error=f"dynamic workflow: {exc}",
                                  recoverable=False)
        record(self.ctx, self.execution, node.id, state="running")
        rows = {node_id: self.ctx.store.ensure_node(self.execution.id, node_id,
                                                     plan.task_name(inner))
                for node_id, inner in plan.nodes.items()}
        node_outputs, failure = self.walk(self.ctx, self.execution, plan, inputs, rows)
        if self.aborted(node.id) is not None and len(node_outputs) < len(plan.nodes):
            return AttemptOutcome(error_kind=USER, error="aborted", recoverable=False)
        if failure is not None:
            failed_id, outcome = failure
            return AttemptOutcome(error_kind=USER, recoverable=False, error=(
                f"node {failed_id!r} of the workflow it built failed at attempt "
                f"{outcome.attempt}: {outcome.error}"))
        try:
            return AttemptOutcome(outputs=resolve_all(
                plan.outputs, inputs, node_outputs, f"dynamic task {task_template.id.name}"))
        except SkiffError as exc:
            return AttemptOutcome(error_kind=USER, error=str(exc), recoverable=False)

"""Reproduction: run a remote execution again in the local sandbox and diff the outputs.

The workflow closure, the inputs (offloaded data read back) and the images come from the
admin; code bundles are copied into the local MinIO, which is the only change to the specs.
The result compares each node's outputs and the workflow's outputs: an empty diff means the
local run computed the same values (blobs compared by content, not by location).
"""
from __future__ import annotations

import dataclasses
import hashlib
import re

import grpc
from flyteidl.admin import common_pb2, node_execution_pb2, task_pb2
from flyteidl.core import literals_pb2

from sdk.remote import records
from sdk.remote.errors import VersionConflict
from sdk.remote.data import list_remote_directory, literal_map, read_uri
from sdk.remote.executions import execution_data, get_execution
from sdk.remote.specs import (
    KIND_NAMES, LAUNCH_PLAN, TASK, WORKFLOW, child_nodes, parse_spec, workflow_spec_from_closure,
)

_BUNDLE = re.compile(r"^s3://[^/]+/.+\.tar\.gz$")


@dataclasses.dataclass
class Reproduction:
    remote_execution: str  # project/domain/name on the admin
    local_execution: str
    diff: list[str]  # `- node.var: remote value` / `+ node.var: local value` lines
    compared: list[str] = dataclasses.field(default_factory=list)  # node ids, and "outputs"

    @property
    def identical(self) -> bool:
        return not self.diff


def _remote_target(conn, execution):
    """(kind, admin.Workflow or admin.Task) the execution ran."""
    target = execution.spec.launch_plan
    if target.resource_type == TASK:
        task = conn.admin.call("GetTask", common_pb2.ObjectGetRequest(id=target),
                               f"fetch task {target.name!r} version {target.version!r}")
        return TASK, task
    wf_id = execution.closure.workflow_id
    if not wf_id.name:
        plan = conn.admin.call("GetLaunchPlan", common_pb2.ObjectGetRequest(id=target),
                               f"fetch launch plan {target.name!r} version {target.version!r}")
        wf_id = plan.spec.workflow_id
    workflow = conn.admin.call("GetWorkflow", common_pb2.ObjectGetRequest(id=wf_id),
                               f"fetch workflow {wf_id.name!r} version {wf_id.version!r}")
    return WORKFLOW, workflow


def _copy_bundles(conn, templates, objects, project, domain) -> dict[str, str]:
    """Copy every code bundle a task names into the local MinIO; {remote uri: local uri}."""
    moved: dict[str, str] = {}
    for template in templates:
        for arg in template.container.args:
            if _BUNDLE.match(arg) and arg not in moved:
                local = f"s3://{objects.bucket}/fast/{project}/{domain}/{arg.rsplit('/', 1)[-1]}"
                if not objects.exists(local):
                    objects.put_bytes(local, read_uri(conn, arg))
                moved[arg] = local
    return moved


def _local_uri(uri: str, objects) -> str:
    """The same key in the local bucket."""
    return f"s3://{objects.bucket}/{uri[len('s3://'):].split('/', 1)[1]}"


def _localize_blobs(conn, literal, objects) -> literals_pb2.Literal:
    """`literal` with every blob it holds (files, and directories object by object) copied
    into the local MinIO (same key, the local bucket), so local containers read the very
    bytes the remote run read."""
    out = literals_pb2.Literal()
    out.CopyFrom(literal)
    kind = out.WhichOneof("value")
    if kind == "scalar" and out.scalar.WhichOneof("value") == "blob":
        blob = out.scalar.blob
        if not blob.uri.startswith("s3://"):
            return out
        local = _local_uri(blob.uri, objects)
        is_directory = blob.metadata.type.dimensionality != 0  # MULTIPART
        for remote_uri in (list_remote_directory(conn, blob.uri) if is_directory else [blob.uri]):
            copy = _local_uri(remote_uri, objects)
            if not objects.exists(copy):
                objects.put_bytes(copy, read_uri(conn, remote_uri))
        blob.uri = local
    elif kind == "collection":
        for i, item in enumerate(literal.collection.literals):
            out.collection.literals[i].CopyFrom(_localize_blobs(conn, item, objects))
    elif kind == "map":
        for name, item in literal.map.literals.items():
            out.map.literals[name].CopyFrom(_localize_blobs(conn, item, objects))
    return out


def _relocated(template, moved: dict[str, str]):
    copy = type(template).FromString(template.SerializeToString())
    args = copy.container.args
    for i, arg in enumerate(args):
        args[i] = moved.get(arg, arg)
    return copy


def _launch_plan_refs(closure):
    """Identifiers of the launch plans a compiled workflow's nodes call."""
    templates = [closure.primary.template, *[sub.template for sub in closure.sub_workflows]]
    stack = [node for template in templates for node in template.nodes]
    while stack:
        node = stack.pop()
        if node.WhichOneof("target") == "workflow_node" and \
                node.workflow_node.WhichOneof("reference") == "launchplan_ref":
            yield node.workflow_node.launchplan_ref
        stack.extend(child_nodes(node))


def _gather(conn, kind, entity):
    """(task templates, workflow specs, launch plans) the run needs: the target and, through
    launch plan nodes, every launch plan and workflow it calls (Flyte runs those as separate
    executions; the sandbox inlines them, so they must be registered locally too)."""
    from flyteidl.admin import launch_plan_pb2

    if kind == TASK:
        return [entity.closure.compiled_task.template], [], []
    tasks, workflows, plans = {}, {}, {}
    queue = [entity]
    while queue:
        workflow = queue.pop()
        key = (workflow.id.project, workflow.id.domain, workflow.id.name, workflow.id.version)
        if key in workflows:
            continue
        closure = workflow.closure.compiled_workflow
        workflows[key] = workflow_spec_from_closure(closure)
        for task in closure.tasks:
            ident = task.template.id
            tasks[(ident.project, ident.domain, ident.name, ident.version)] = task.template
        for ref in _launch_plan_refs(closure):
            ref_key = (ref.project, ref.domain, ref.name, ref.version)
            if ref_key in plans:
                continue
            plan = conn.admin.call("GetLaunchPlan", common_pb2.ObjectGetRequest(id=ref),
                                   f"fetch launch plan {ref.name!r} version {ref.version!r}")
            plans[ref_key] = launch_plan_pb2.LaunchPlan(id=plan.id, spec=plan.spec)
            queue.append(conn.admin.call(
                "GetWorkflow", common_pb2.ObjectGetRequest(id=plan.spec.workflow_id),
                f"fetch workflow {plan.spec.workflow_id.name!r}"))
    return list(tasks.values()), list(workflows.values()), list(plans.values())


def _register_locally(store, objects, templates, workflows, plans, moved) -> None:
    """Register the remote specs in the local store under their own identifiers: tasks, then
    workflows, then launch plans (each may reference the ones before), one registry package
    per project/domain/version, since a package is registered under one version."""
    from sandbox.registry import register_package
    from sdk.compile.package_reader import Package, PackagedEntity

    tasks = [(TASK, t.id, task_pb2.TaskSpec(template=_relocated(t, moved))) for t in templates]
    flows = [(WORKFLOW, w.template.id, w) for w in workflows]
    launches = [(LAUNCH_PLAN, lp.id, lp) for lp in plans]
    for group in (tasks, flows, launches):
        by_version: dict[tuple, list] = {}
        for kind, ident, spec in group:
            if _registered_alike(store, kind, ident, spec):
                continue  # e.g. the same version was registered here too: nothing to add
            by_version.setdefault((ident.project, ident.domain, ident.version), []).append(
                (kind, ident.name, spec))
        for (project, domain, version), members in by_version.items():
            entities = [PackagedEntity(i, kind, name, f"{KIND_NAMES[kind]} {name}", spec)
                        for i, (kind, name, spec) in enumerate(members)]
            digest = hashlib.sha256(b"".join(e.spec.SerializeToString(deterministic=True)
                                             for e in entities)).hexdigest()
            package = Package(f"reproduction {project}/{domain}/{version}", entities, None,
                              None, digest)
            register_package(store, objects, package, project, domain, version)


def _by_bundle_name(template):
    """The template with its code bundle named by file only: bundle names are content hashes
    (fast<digest>.tar.gz), so two stores holding the same bundle at other keys run the same code."""
    copy = type(template).FromString(template.SerializeToString())
    args = copy.container.args
    for i, arg in enumerate(args):
        if _BUNDLE.match(arg):
            args[i] = arg.rsplit("/", 1)[-1]
    return copy


def _registered_alike(store, kind, ident, spec) -> bool:
    """Whether the local store already holds `ident` with the same executable content. The
    specs fetched from an admin are rebuilt from its closure, so they lack what the closure does
    not carry (descriptions) and compare by their templates; a real difference is an error."""
    stored = store.entity_spec(kind, ident.project, ident.domain, ident.name, ident.version)
    if stored is None:
        return False
    local = parse_spec(kind, stored)
    if kind == TASK:
        same = _by_bundle_name(local.template) == _by_bundle_name(spec.template)
    elif kind == WORKFLOW:
        same = (local.template == spec.template
                and list(local.sub_workflows) == list(spec.sub_workflows))
    else:
        same = local.spec == spec.spec
    if not same:
        raise VersionConflict(
            f"{KIND_NAMES[kind]} {ident.name} version {ident.version} is registered in this "
            f"sandbox ({ident.project}/{ident.domain}) with a different spec than the remote "
            "run used; reproduce into another sandbox (set SKIFF_HOME) so that both can stay")
    return True


# ---- comparing outputs ---------------------------------------------------------------------


def _comparable(literal, read, listing):
    """A value to compare: plain values as they are, a file by the sha256 of its bytes, a
    directory by its files' relative paths and hashes (by its name alone when it cannot be
    listed)."""
    from sandbox.engine.literals import literal_to_plain

    kind = literal.WhichOneof("value")
    if kind == "scalar" and literal.scalar.WhichOneof("value") == "blob":
        blob = literal.scalar.blob
        if blob.metadata.type.dimensionality == 0:  # SINGLE
            return {"blob sha256": hashlib.sha256(read(blob.uri)).hexdigest()}
        prefix = blob.uri.rstrip("/") + "/"
        if listing is None:
            return {"directory": prefix.rstrip("/").rsplit("/", 1)[-1]}
        return {"directory": {uri[len(prefix):]: hashlib.sha256(read(uri)).hexdigest()
                              for uri in sorted(listing(prefix))}}
    if kind == "collection":
        return [_comparable(item, read, listing) for item in literal.collection.literals]
    if kind == "map":
        return {k: _comparable(v, read, listing) for k, v in sorted(literal.map.literals.items())}
    if kind == "scalar" and literal.scalar.WhichOneof("value") == "structured_dataset":
        return {"structured dataset": literal.scalar.structured_dataset.metadata
                .structured_dataset_type.format}
    return literal_to_plain(literal)


def diff_outputs(remote: dict, local: dict, read_remote, read_local, list_remote=None,
                 list_local=None) -> list[str]:
    """`remote`/`local`: {node id: LiteralMap}; lines for every output that differs.
    Directories are compared file by file when both sides can be listed."""
    import json

    listings = (list_remote, list_local) if list_remote and list_local else (None, None)
    lines = []
    for node in sorted(set(remote) | set(local)):
        theirs = remote.get(node, literals_pb2.LiteralMap()).literals
        ours = local.get(node, literals_pb2.LiteralMap()).literals
        for var in sorted(set(theirs) | set(ours)):
            a = (_comparable(theirs[var], read_remote, listings[0]) if var in theirs
                 else "<missing>")
            b = _comparable(ours[var], read_local, listings[1]) if var in ours else "<missing>"
            if a != b:
                lines.append(f"- {node}.{var}: {json.dumps(a, default=str)}")
                lines.append(f"+ {node}.{var}: {json.dumps(b, default=str)}")
    return lines


def _remote_node_outputs(conn, ident) -> dict:
    outputs, token = {}, ""
    while True:
        page = conn.admin.call("ListNodeExecutions", node_execution_pb2.NodeExecutionListRequest(
            workflow_execution_id=ident, limit=200, token=token),
            f"list the nodes of execution {ident.name!r}")
        for node in page.node_executions:
            if node.id.node_id in ("start-node", "end-node"):
                continue
            data = conn.admin.call("GetNodeExecutionData",
                                   node_execution_pb2.NodeExecutionGetDataRequest(id=node.id),
                                   f"get the outputs of node {node.id.node_id!r}",
                                   allow=(grpc.StatusCode.NOT_FOUND,))
            if isinstance(data, grpc.RpcError):
                continue  # an admin may keep no data for subworkflow or launch plan nodes
            outputs[node.id.node_id] = literal_map(conn, data.full_outputs, data.outputs)
        if not page.token or not page.node_executions:
            return outputs
        token = page.token


def _local_node_outputs(run: "_LocalRun", node_ids) -> dict:
    """{node id: outputs} of the local run for `node_ids` (top-level ids), subworkflow and
    launch plan nodes bound from their inlined inner nodes."""
    from sdk.remote.inlined import InlinedOutputs

    rows = {n.node_id: literals_pb2.LiteralMap.FromString(n.outputs)
            for n in run.ctx.store.nodes(run.execution_id) if n.outputs}
    top = {n.id: n for n in run.workflows[0].template.nodes} if run.workflows else {}
    inlined = InlinedOutputs(run.workflows, run.plans, rows)
    outputs = {}
    for node_id in node_ids:
        found = inlined.outputs(node_id, top[node_id]) if node_id in top else rows.get(node_id)
        if found is not None:
            outputs[node_id] = found
    return outputs


@dataclasses.dataclass
class _LocalRun:
    ctx: object  # the engine context (store, objects, runner)
    objects: object
    execution_id: str
    outputs: literals_pb2.LiteralMap  # empty when the run failed
    workflows: list  # admin.WorkflowSpec registered for it, the target's first
    plans: list  # admin.LaunchPlan its launch plan nodes call


def _run_locally(conn, kind, entity, inputs, state, on_event, say) -> _LocalRun:
    """Register what the remote run used in the local sandbox and run it there."""
    from sandbox.engine import create_execution, run_execution
    from sandbox.engine.setup import context_from_state
    from sandbox.storage import ObjectStore
    from sdk.errors import ExecutionFailed

    objects = ObjectStore.from_state(state)
    project, domain = entity.id.project, entity.id.domain
    templates, workflows, plans = _gather(conn, kind, entity)
    moved = _copy_bundles(conn, templates, objects, project, domain)
    ctx = context_from_state(state, on_event=on_event)
    _register_locally(ctx.store, objects, templates, workflows, plans, moved)
    local_inputs = literals_pb2.LiteralMap()
    for name, literal in inputs.literals.items():
        local_inputs.literals[name].CopyFrom(_localize_blobs(conn, literal, objects))
    local_id = create_execution(ctx.store, project, domain, entity.id.name, entity.id.version,
                                local_inputs)
    say(f"local execution {local_id}")
    try:
        outputs = run_execution(ctx, local_id)
    except ExecutionFailed as failure:
        say(f"the local run failed: {failure}")
        outputs = literals_pb2.LiteralMap()
    return _LocalRun(ctx, objects, local_id, outputs, workflows, plans)


def reproduce(conn, ref, project: str, domain: str, state, on_event=None,
              say=lambda text: None) -> Reproduction:
    """Run the remote execution `ref` (a reference string or a WorkflowExecutionIdentifier)
    again in the local sandbox `state`; the outputs' diff, recorded."""
    from sdk.remote.executions import parse_execution_ref

    ident = parse_execution_ref(ref, project, domain) if isinstance(ref, str) else ref
    kind, entity = _remote_target(conn, get_execution(conn, ident))
    inputs, remote_outputs = execution_data(conn, ident)
    say(f"remote execution {ident.project}/{ident.domain}/{ident.name} ran "
        f"{KIND_NAMES[kind]} {entity.id.name} version {entity.id.version}")
    run = _run_locally(conn, kind, entity, inputs, state, on_event, say)
    objects, local_id = run.objects, run.execution_id
    remote_nodes = _remote_node_outputs(conn, ident)
    # Nodes whose outputs the admin reports; the workflow's outputs as node "outputs".
    local_nodes = _local_node_outputs(run, set(remote_nodes))
    remote_nodes["outputs"], local_nodes["outputs"] = remote_outputs, run.outputs

    def read_local(uri):
        if uri.startswith("s3://"):
            return objects.get_bytes(uri) or b""
        with open(uri, "rb") as handle:
            return handle.read()

    def list_local(prefix):
        bucket, key = prefix[len("s3://"):].split("/", 1)
        return [f"s3://{bucket}/{o.object_name}"
                for o in objects.client.list_objects(bucket, prefix=key, recursive=True)]

    list_remote = (lambda prefix: list_remote_directory(conn, prefix)) \
        if conn.config.storage_env() else None
    diff = diff_outputs(remote_nodes, local_nodes, lambda uri: read_uri(conn, uri), read_local,
                        list_remote, list_local)
    result = Reproduction(f"{ident.project}/{ident.domain}/{ident.name}", local_id, diff,
                          sorted(remote_nodes))
    records.append_local("reproductions", {**dataclasses.asdict(result),
                                           "source_endpoint": conn.config.endpoint,
                                           "identical": result.identical})
    records.send_reproduction(getattr(state, "admin_endpoint", ""), result, conn.config.endpoint)
    return result

"""Reproduction: run a remote execution again in the local sandbox and diff the outputs.

The workflow closure, the inputs (offloaded data read back) and the images come from the
admin (sdk.remote.remote_run); code bundles and input blobs are copied into the local MinIO,
which is the only change to the specs. The result compares each node's outputs and the
workflow's outputs: an empty diff means the local run computed the same values (blobs
compared by content, not by location).
"""
from __future__ import annotations

import dataclasses
import hashlib
import re

from flyteidl.admin import task_pb2
from flyteidl.core import literals_pb2

from sandbox.bridge import records
from sandbox.engine import create_execution, run_execution
from sandbox.engine.setup import context_from_state
from sandbox.registry import register_package
from sandbox.storage import ObjectStore
from sdk.compile.package_reader import Package, PackagedEntity
from sdk.errors import ExecutionFailed
from sdk.remote.data import list_remote_directory, read_uri
from sdk.remote.errors import VersionConflict
from sdk.remote.executions import parse_execution_ref, phase_name
from sdk.remote.inlined import InlinedOutputs
from sdk.remote.output_diff import diff_outputs
from sdk.remote.remote_run import RemoteRun, fetch_remote_run, remote_node_outputs
from sdk.remote.specs import KIND_NAMES, LAUNCH_PLAN, TASK, WORKFLOW, parse_spec

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


def _copy_bundles(conn, templates, objects, project, domain) -> dict[str, str]:
    """Copy every code bundle a task names into the local MinIO; {remote uri: local uri}."""
    moved: dict[str, str] = {}
    for template in templates:
        for arg in template.container.args:
            if _BUNDLE.match(arg) and arg not in moved:
                # Where every other path stores a bundle: content-addressed (i16-bundles).
                from sandbox.storage.layout import fast_uri

                data = read_uri(conn, arg)
                local = fast_uri(objects.bucket, project, domain, arg.rsplit('/', 1)[-1], data)
                if not objects.exists(local):
                    objects.put_bytes(local, data)
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


def _register_locally(store, objects, templates, workflows, plans, moved) -> None:
    """Register the remote specs in the local store under their own identifiers: tasks, then
    workflows with launch plans (a workflow may call a launch plan whose workflow is in the
    same package; the registry checks the package as a whole), one registry package per
    project/domain/version, since a package is registered under one version."""
    tasks = [(TASK, t.id, task_pb2.TaskSpec(template=_relocated(t, moved))) for t in templates]
    flows = [(WORKFLOW, w.template.id, w) for w in workflows]
    launches = [(LAUNCH_PLAN, lp.id, lp) for lp in plans]
    for group in (tasks, flows + launches):
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


@dataclasses.dataclass
class _LocalRun:
    ctx: object  # the engine context (store, objects, runner)
    objects: ObjectStore
    execution_id: str
    outputs: literals_pb2.LiteralMap  # empty when the run failed


def _local_node_outputs(run: _LocalRun, remote: RemoteRun, node_ids) -> dict:
    """{node id: outputs} of the local run for `node_ids` (top-level ids), subworkflow and
    launch plan nodes bound from their inlined inner nodes."""
    rows = {n.node_id: literals_pb2.LiteralMap.FromString(n.outputs)
            for n in run.ctx.store.nodes(run.execution_id) if n.outputs}
    top = {n.id: n for n in remote.workflows[0].template.nodes} if remote.workflows else {}
    inlined = InlinedOutputs(remote.workflows, remote.plans, rows)
    outputs = {}
    for node_id in node_ids:
        found = inlined.outputs(node_id, top[node_id]) if node_id in top else rows.get(node_id)
        if found is not None:
            outputs[node_id] = found
    return outputs


def _run_locally(conn, remote: RemoteRun, state, on_event, say) -> _LocalRun:
    """Register what the remote run used in the local sandbox and run it there."""
    objects = ObjectStore.from_state(state)
    entity = remote.entity
    project, domain = entity.id.project, entity.id.domain
    moved = _copy_bundles(conn, remote.templates, objects, project, domain)
    ctx = context_from_state(state, on_event=on_event)
    _register_locally(ctx.store, objects, remote.templates, remote.workflows, remote.plans,
                      moved)
    local_inputs = literals_pb2.LiteralMap()
    for name, literal in remote.inputs.literals.items():
        local_inputs.literals[name].CopyFrom(_localize_blobs(conn, literal, objects))
    local_id = create_execution(ctx.store, project, domain, entity.id.name, entity.id.version,
                                local_inputs)
    say(f"local execution {local_id}")
    try:
        outputs = run_execution(ctx, local_id)
    except ExecutionFailed as failure:
        say(f"the local run failed: {failure}")
        outputs = literals_pb2.LiteralMap()
    return _LocalRun(ctx, objects, local_id, outputs)


def reproduce(conn, ref, project: str, domain: str, state, on_event=None,
              say=lambda text: None) -> Reproduction:
    """Run the remote execution `ref` (a reference string or a WorkflowExecutionIdentifier)
    again in the local sandbox `state`; the outputs' diff, recorded."""
    ident = parse_execution_ref(ref, project, domain) if isinstance(ref, str) else ref
    remote = fetch_remote_run(conn, ident)
    say(f"remote execution {remote.reference} ran {KIND_NAMES[remote.kind]} "
        f"{remote.entity.id.name} version {remote.entity.id.version}")
    run = _run_locally(conn, remote, state, on_event, say)
    objects = run.objects
    remote_nodes = remote_node_outputs(conn, ident)
    # Nodes whose outputs the admin reports; the workflow's outputs as node "outputs" when
    # the remote run finished (an admin keeps none for a run it reports failed or running).
    local_nodes = _local_node_outputs(run, remote, set(remote_nodes))
    if remote.succeeded:
        remote_nodes["outputs"], local_nodes["outputs"] = remote.outputs, run.outputs
    else:
        say(f"the remote execution is {phase_name(remote.phase)}: its workflow outputs are not "
            f"compared, only its nodes' ({', '.join(sorted(remote_nodes)) or 'none reported'})")

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
    result = Reproduction(remote.reference, run.execution_id, diff, sorted(remote_nodes))
    records.append_local("reproductions", {**dataclasses.asdict(result),
                                           "source_endpoint": conn.config.endpoint,
                                           "identical": result.identical})
    records.send_reproduction(state, result, conn.config.endpoint)
    return result

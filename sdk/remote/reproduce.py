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

from flyteidl.admin import common_pb2, node_execution_pb2
from flyteidl.core import literals_pb2

from sdk.remote import records
from sdk.remote.data import literal_map, read_uri
from sdk.remote.executions import execution_data, get_execution
from sdk.remote.specs import TASK, WORKFLOW, workflow_spec_from_closure
from flyteidl.admin import task_pb2

_BUNDLE = re.compile(r"^s3://[^/]+/.+\.tar\.gz$")


@dataclasses.dataclass
class Reproduction:
    remote_execution: str  # project/domain/name on the admin
    local_execution: str
    diff: list[str]  # `- node.var: remote value` / `+ node.var: local value` lines

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


def _localize_blobs(conn, literal, objects) -> literals_pb2.Literal:
    """`literal` with every single-file blob it holds copied into the local MinIO (same key,
    the local bucket), so local containers read the very bytes the remote run read."""
    from sdk.remote.errors import RemoteError

    out = literals_pb2.Literal()
    out.CopyFrom(literal)
    kind = out.WhichOneof("value")
    if kind == "scalar" and out.scalar.WhichOneof("value") == "blob":
        blob = out.scalar.blob
        if not blob.uri.startswith("s3://"):
            return out
        if blob.metadata.type.dimensionality != 0:  # MULTIPART: a directory
            raise RemoteError(f"input directory {blob.uri} cannot be copied for reproduction "
                              "yet; reproduce runs with file and value inputs")
        local = f"s3://{objects.bucket}/{blob.uri[len('s3://'):].split('/', 1)[1]}"
        if not objects.exists(local):
            objects.put_bytes(local, read_uri(conn, blob.uri))
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


def _local_package(kind, entity, moved):
    """A registry Package holding the remote specs (identifiers as the admin filled them)."""
    from sandbox.registry.package import Package, PackagedEntity

    entities = []
    if kind == TASK:
        templates = [entity.closure.compiled_task.template]
    else:
        templates = [t.template for t in entity.closure.compiled_workflow.tasks]
    for i, template in enumerate(templates):
        spec = task_pb2.TaskSpec(template=_relocated(template, moved))
        entities.append(PackagedEntity(i, TASK, template.id.name, f"task {template.id.name}", spec))
    if kind == WORKFLOW:
        spec = workflow_spec_from_closure(entity.closure.compiled_workflow)
        entities.append(PackagedEntity(len(entities), WORKFLOW, entity.id.name,
                                       f"workflow {entity.id.name}", spec))
    digest = hashlib.sha256(b"".join(e.spec.SerializeToString(deterministic=True)
                                     for e in entities)).hexdigest()
    return Package(f"reproduction of {entity.id.name}", entities, None, None, digest), templates


# ---- comparing outputs ---------------------------------------------------------------------


def _comparable(literal, read):
    """A value to compare: plain values as they are, blobs by the sha256 of their bytes."""
    from sandbox.engine.literals import literal_to_plain

    kind = literal.WhichOneof("value")
    if kind == "scalar" and literal.scalar.WhichOneof("value") == "blob":
        blob = literal.scalar.blob
        if blob.metadata.type.dimensionality == 0:  # SINGLE
            return {"blob sha256": hashlib.sha256(read(blob.uri)).hexdigest()}
        return {"directory": blob.uri.rstrip("/").rsplit("/", 1)[-1]}
    if kind == "collection":
        return [_comparable(item, read) for item in literal.collection.literals]
    if kind == "map":
        return {k: _comparable(v, read) for k, v in sorted(literal.map.literals.items())}
    if kind == "scalar" and literal.scalar.WhichOneof("value") == "structured_dataset":
        return {"structured dataset": literal.scalar.structured_dataset.metadata
                .structured_dataset_type.format}
    return literal_to_plain(literal)


def diff_outputs(remote: dict, local: dict, read_remote, read_local) -> list[str]:
    """`remote`/`local`: {node id: LiteralMap}; lines for every output that differs."""
    import json

    lines = []
    for node in sorted(set(remote) | set(local)):
        theirs = remote.get(node, literals_pb2.LiteralMap()).literals
        ours = local.get(node, literals_pb2.LiteralMap()).literals
        for var in sorted(set(theirs) | set(ours)):
            a = _comparable(theirs[var], read_remote) if var in theirs else "<missing>"
            b = _comparable(ours[var], read_local) if var in ours else "<missing>"
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
                                   f"get the outputs of node {node.id.node_id!r}")
            outputs[node.id.node_id] = literal_map(conn, data.full_outputs, data.outputs)
        if not page.token or not page.node_executions:
            return outputs
        token = page.token


def _local_node_outputs(store, execution_id: str, node_ids) -> dict:
    outputs = {}
    for node in store.nodes(execution_id):
        if node.node_id in node_ids and node.outputs:
            outputs[node.node_id] = literals_pb2.LiteralMap.FromString(node.outputs)
    return outputs


def reproduce(conn, ref: str, project: str, domain: str, state, on_event=None,
              say=lambda text: None) -> Reproduction:
    """Run the remote execution `ref` again in the local sandbox `state`; the outputs' diff."""
    from sandbox.engine import create_execution, run_execution
    from sandbox.engine.setup import context_from_state
    from sandbox.registry import register_package
    from sandbox.storage import ObjectStore
    from sdk.errors import ExecutionFailed
    from sdk.remote.executions import parse_execution_ref

    ident = parse_execution_ref(ref, project, domain) if isinstance(ref, str) else ref
    execution = get_execution(conn, ident)
    kind, entity = _remote_target(conn, execution)
    inputs, remote_outputs = execution_data(conn, ident)
    objects = ObjectStore.from_state(state)
    project, domain = entity.id.project, entity.id.domain
    templates = ([entity.closure.compiled_task.template] if kind == TASK else
                 [t.template for t in entity.closure.compiled_workflow.tasks])
    moved = _copy_bundles(conn, templates, objects, project, domain)
    package, _ = _local_package(kind, entity, moved)
    ctx = context_from_state(state, on_event=on_event)
    register_package(ctx.store, objects, package, project, domain, entity.id.version)
    local_inputs = literals_pb2.LiteralMap()
    for name, literal in inputs.literals.items():
        local_inputs.literals[name].CopyFrom(_localize_blobs(conn, literal, objects))
    local_id = create_execution(ctx.store, project, domain, entity.id.name, entity.id.version,
                                local_inputs)
    say(f"remote execution {ident.project}/{ident.domain}/{ident.name} -> local execution "
        f"{local_id}")
    try:
        local_outputs = run_execution(ctx, local_id)
    except ExecutionFailed as failure:
        say(f"the local run failed: {failure}")
        local_outputs = literals_pb2.LiteralMap()
    remote_nodes = _remote_node_outputs(conn, ident)
    local_nodes = _local_node_outputs(ctx.store, local_id, set(remote_nodes) | {
        n.id for n in (entity.closure.compiled_workflow.primary.template.nodes
                       if kind == WORKFLOW else []) if n.id not in ("start-node", "end-node")})
    remote_nodes["outputs"], local_nodes["outputs"] = remote_outputs, local_outputs

    def read_local(uri):
        data = objects.get_bytes(uri) if uri.startswith("s3://") else open(uri, "rb").read()
        return data or b""

    diff = diff_outputs(remote_nodes, local_nodes, lambda uri: read_uri(conn, uri), read_local)
    result = Reproduction(f"{ident.project}/{ident.domain}/{ident.name}", local_id, diff)
    records.append_local("reproductions", {**dataclasses.asdict(result),
                                           "source_endpoint": conn.config.endpoint,
                                           "identical": result.identical})
    records.send_reproduction(getattr(state, "admin_endpoint", ""), result, conn.config.endpoint)
    return result



"""The DAG an execution page draws, from the compiled closure of the workflow it runs.

Node ids in the graph are the ids the engine stores rows under, so the page can colour each
node from one poll of the rows: subworkflow and launch plan nodes are inlined by the engine as
"<node>-<inner id>" and become nested graphs under that prefix; map elements and a dynamic
task's nodes are rows under "<node>-" that the page lists when the node is opened."""
from __future__ import annotations

import functools

from flyteidl.admin import workflow_pb2 as admin_workflow_pb2
from flyteidl.core import workflow_pb2

from sandbox.registry import LAUNCH_PLAN, TASK, WORKFLOW, EntityNotFound, get_spec
from sdk.compile.closure import compile_closure

START, END = "start-node", "end-node"
_MAX_DEPTH = 10


def _kind(node: workflow_pb2.Node) -> str:
    kind = node.WhichOneof("target") or "unknown"
    if kind == "workflow_node":
        ref = node.workflow_node.WhichOneof("reference")
        return "subworkflow" if ref == "sub_workflow_ref" else "launch_plan"
    return {"task_node": "task", "branch_node": "branch", "array_node": "map",
            "gate_node": "gate"}.get(kind, kind)


def _label(node: workflow_pb2.Node, kind: str) -> str:
    if kind == "task":
        return node.task_node.reference_id.name.rsplit(".", 1)[-1]
    if kind == "map":
        inner = node.array_node.node
        if inner.WhichOneof("target") == "task_node":
            name = inner.task_node.reference_id.name.rsplit(".", 1)[-1]
            return name.split("_", 1)[-1].rsplit("_", 1)[0] if name.startswith("map_") else name
    if kind == "subworkflow":
        return node.workflow_node.sub_workflow_ref.name.rsplit(".", 1)[-1]
    if kind == "launch_plan":
        return node.workflow_node.launchplan_ref.name.rsplit(".", 1)[-1]
    return node.metadata.name or node.id


def _task_name(node: workflow_pb2.Node) -> str | None:
    kind = node.WhichOneof("target")
    if kind == "task_node":
        return node.task_node.reference_id.name
    if kind == "array_node":
        return _task_name(node.array_node.node)
    return None


def _branch_cases(node: workflow_pb2.Node) -> list[dict]:
    if_else = node.branch_node.if_else
    cases = [(f"case {i + 1}", block.then_node)
             for i, block in enumerate([if_else.case, *if_else.other])]
    if if_else.HasField("else_node"):
        cases.append(("else", if_else.else_node))
    shown = [{"label": label, "node": then.id, "kind": _kind(then), "name": _label(then, _kind(then)),
              "task": _task_name(then)} for label, then in cases]
    if if_else.HasField("error"):
        shown.append({"label": "else", "node": "", "kind": "error",
                      "name": f"fail: {if_else.error.message}", "task": None})
    return shown


class GraphBuilder:
    """Builds graphs for one execution's project/domain from the store's registered specs."""

    def __init__(self, store, project: str, domain: str):
        self.store = store
        self.project = project
        self.domain = domain

    def for_execution(self, record) -> dict:
        if record.target_kind == TASK:
            node = {"id": "n0", "label": record.workflow.rsplit(".", 1)[-1], "kind": "task",
                    "task": record.workflow}
            return {"nodes": [_terminal(START), node, _terminal(END)],
                    "edges": [[START, "n0"], ["n0", END]]}
        closure = workflow_closure(self.store, record.project, record.domain, record.workflow,
                                   record.version)
        return self._graph(closure.primary, closure.sub_workflows, "", 0)

    def _graph(self, compiled, sub_workflows, prefix: str, depth: int) -> dict:
        template = compiled.template
        nodes, edges = [], []
        for node in template.nodes:
            if node.id in (START, END):
                nodes.append(_terminal(prefix + node.id))
                continue
            nodes.append(self._node(node, sub_workflows, prefix, depth))
        for target, ids in compiled.connections.upstream.items():
            for source in ids.ids:
                edges.append([prefix + source, prefix + target])
        if template.HasField("failure_node"):
            failure = self._node(template.failure_node, sub_workflows, prefix, depth)
            failure["failure_node"] = True
            nodes.append(failure)
        edges.sort()
        return {"nodes": nodes, "edges": edges}

    def _node(self, node, sub_workflows, prefix: str, depth: int) -> dict:
        kind = _kind(node)
        shown = {"id": prefix + node.id, "label": _label(node, kind), "kind": kind,
                 "task": _task_name(node)}
        if kind == "branch":
            shown["cases"] = _branch_cases(node)
        if depth < _MAX_DEPTH and kind in ("subworkflow", "launch_plan"):
            inner = self._called(node, sub_workflows)
            if inner is not None:
                shown["graph"] = self._graph(*inner, prefix + node.id + "-", depth + 1)
        return shown

    def _called(self, node, sub_workflows):
        """(compiled workflow, its sub-workflows) that a workflow node runs, or None."""
        ref = node.workflow_node
        if ref.WhichOneof("reference") == "sub_workflow_ref":
            wanted = ref.sub_workflow_ref
            for compiled in sub_workflows:
                if compiled.template.id.name == wanted.name:
                    return compiled, sub_workflows
            return None
        lp_ref = ref.launchplan_ref
        try:
            lp = get_spec(self.store, LAUNCH_PLAN, lp_ref.project or self.project,
                          lp_ref.domain or self.domain, lp_ref.name, lp_ref.version or None)
        except EntityNotFound:
            return None
        wf = lp.spec.workflow_id
        closure = workflow_closure(self.store, wf.project or self.project,
                                   wf.domain or self.domain, wf.name, wf.version)
        return closure.primary, closure.sub_workflows


def _terminal(node_id: str) -> dict:
    return {"id": node_id, "label": "start" if node_id.endswith(START) else "end",
            "kind": "start" if node_id.endswith(START) else "end", "task": None}


@functools.lru_cache(maxsize=128)
def _closure_bytes(url: str, project: str, domain: str, name: str, version: str) -> bytes:
    from sandbox.store import open_store

    store = open_store(url)
    spec = admin_workflow_pb2.WorkflowSpec.FromString(
        store.entity_spec(WORKFLOW, project, domain, name, version) or b"")
    # The DAG needs no task templates: only the connections and node kinds.
    return compile_closure(spec, {}).SerializeToString()


def workflow_closure(store, project, domain, name, version):
    """The compiled closure as Flyte admin would return it (registered specs never change
    under a version, so each is compiled once per process)."""
    from flyteidl.core import compiler_pb2

    if store.entity_spec(WORKFLOW, project, domain, name, version) is None:
        raise EntityNotFound(f"workflow {name!r} version {version} is not registered in "
                             f"{project}/{domain}")
    return compiler_pb2.CompiledWorkflowClosure.FromString(
        _closure_bytes(store.url, project, domain, name, version))


def task_interface(store, project, domain, name, version):
    """The typed interface of a task, or None when it is not registered."""
    try:
        return get_spec(store, TASK, project, domain, name, version).template.interface
    except EntityNotFound:
        return None

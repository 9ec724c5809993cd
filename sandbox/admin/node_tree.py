"""An execution's nodes as Flyte's admin lists them, rebuilt from the workflow templates and
the engine's rows.

The engine inlines subworkflows, launch plans, a branch's taken case and a dynamic task's
workflow under "<node>-<inner id>" rows. Flyte's admin (fed by propeller's events) instead
shows a tree: a child node execution is named "<parent>-<parent's attempt>-<spec node id>"
(`n0-0-dn0`), points at its parent (`unique_parent_id`), carries its spec node id and its
parent's attempt as retry group; dynamic nodes are flagged parent and dynamic and carry the
workflow they built; branch and subworkflow nodes are parents. flytekit's FlyteRemote maps
child nodes by spec node id into the workflow it fetched (or the dynamic workflow), so the
names and flags must match that shape for `sync_execution(sync_nodes=True)` to read them."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from flyteidl.admin import launch_plan_pb2, workflow_pb2 as admin_workflow_pb2
from flyteidl.core import (catalog_pb2, compiler_pb2, dynamic_job_pb2, identifier_pb2,
                           literals_pb2, workflow_pb2)

from sandbox.admin.parent_nodes import parent_row
from sandbox.registry import LAUNCH_PLAN, TASK, WORKFLOW
from sandbox.store.records import NodeRecord
from sdk.errors import SkiffError

SYSTEM_NODES = ("start-node", "end-node")


@dataclass
class TreeNode:
    flyte_id: str  # NodeExecutionIdentifier.node_id as Flyte names it
    spec_node_id: str
    parent_id: str  # the parent's flyte_id; "" at the top
    retry_group: str  # the parent's attempt; "" at the top
    kind: str  # task_node, dynamic, array_node, branch_node, gate_node, subworkflow, launch_plan
    row: NodeRecord  # the engine's row, or a stand-in (id 0) summarising an inlined workflow
    inputs: literals_pb2.LiteralMap | None = None  # bound here, when the row has no input file
    outputs: literals_pb2.LiteralMap | None = None  # of an inlined workflow (no row of its own)
    task_id: identifier_pb2.Identifier | None = None
    cache_status: int = catalog_pb2.CACHE_DISABLED
    dynamic: compiler_pb2.CompiledWorkflowClosure | None = None
    children: list[str] = field(default_factory=list)

    @property
    def is_parent(self) -> bool:
        return self.kind in ("dynamic", "subworkflow", "branch_node")


class NodeTree:
    """Every node execution of one execution, by Flyte id."""

    def __init__(self, store, objects, record):
        self.store, self.objects, self.record = store, objects, record
        self.rows = {r.node_id: r for r in store.nodes(record.id)}
        self.all_rows = list(self.rows.values())
        self.nodes: dict[str, TreeNode] = {}
        self._task_specs: dict[tuple, object] = {}
        workflow_inputs = literals_pb2.LiteralMap.FromString(record.inputs or b"")
        spec = self._workflow_spec()
        if spec is not None:
            self.sub_workflows = {_key(s.id): s for s in spec.sub_workflows}
            self._scope(_with_failure_node(spec.template), "", "", "", workflow_inputs)
        else:  # a single task executed directly: its one node, "n0"
            self.sub_workflows = {}
            node = workflow_pb2.Node(id="n0")
            node.task_node.reference_id.CopyFrom(identifier_pb2.Identifier(
                resource_type=TASK, project=record.project, domain=record.domain,
                name=record.workflow, version=record.version))
            for name in workflow_inputs.literals:
                binding = node.inputs.add(var=name)
                binding.binding.promise.node_id, binding.binding.promise.var = "start-node", name
            self._scope([node], "", "", "", workflow_inputs)

    def top_level(self) -> list[TreeNode]:
        return [n for n in self.nodes.values() if not n.parent_id]

    def children(self, parent_id: str) -> list[TreeNode]:
        parent = self.nodes.get(parent_id)
        return [self.nodes[c] for c in parent.children] if parent else []

    # ---- the walk ----------------------------------------------------------------------------

    def _workflow_spec(self):
        if self.record.target_kind != WORKFLOW:
            return None
        data = self.store.entity_spec(WORKFLOW, self.record.project, self.record.domain,
                                      self.record.workflow, self.record.version)
        return admin_workflow_pb2.WorkflowSpec.FromString(data) if data else None

    def _scope(self, nodes, engine_prefix: str, parent_id: str, retry: str,
               scope_inputs) -> dict[str, literals_pb2.LiteralMap]:
        """Visit one workflow's nodes (in template order, a topological one); returns their
        outputs by spec node id, to bind the workflow's own outputs."""
        outputs: dict[str, literals_pb2.LiteralMap] = {}

        def bind(bindings):
            return _bind(bindings, scope_inputs, outputs)

        for node in nodes:
            if node.id in SYSTEM_NODES:
                continue
            flyte_id = f"{parent_id}-{retry}-{node.id}" if parent_id else node.id
            engine_id = engine_prefix + node.id
            visited = self._visit(node, node.id, engine_id, engine_id + "-", flyte_id,
                                  parent_id, retry, bind)
            if visited is not None and visited.outputs is not None:
                outputs[node.id] = visited.outputs
        return outputs

    def _visit(self, node, spec_id, engine_id, child_prefix, flyte_id, parent_id, retry, bind):
        """`spec_id`: the node's id in the compiled workflow; `bind` resolves bindings in the
        node's workflow (its inputs, its nodes' outputs)."""
        kind = node.WhichOneof("target")
        inputs = bind(node.inputs)
        if kind == "workflow_node":
            return self._workflow_node(node, spec_id, engine_id, child_prefix, flyte_id,
                                       parent_id, retry, inputs)
        row = self.rows.get(engine_id)
        if row is None or row.state == "queued":
            return None  # not reached yet: Flyte lists a node once it has an event
        tree_node = self._add(TreeNode(
            flyte_id=flyte_id, spec_node_id=spec_id, parent_id=parent_id, retry_group=retry,
            kind=kind, row=row, inputs=inputs,
            outputs=literals_pb2.LiteralMap.FromString(row.outputs) if row.outputs else None))
        if kind == "task_node":
            self._task_node(tree_node, node.task_node.reference_id, child_prefix)
        elif kind == "array_node":
            task_node = node.array_node.node.task_node
            if task_node.HasField("reference_id"):
                tree_node.task_id = task_node.reference_id
        elif kind == "branch_node":
            self._branch_node(tree_node, node, engine_id, bind)
        return tree_node

    def _task_node(self, tree_node, task_id, child_prefix):
        tree_node.task_id = task_id
        row = tree_node.row
        template = self._task_template(task_id)
        if row.state == "cached":
            tree_node.cache_status = catalog_pb2.CACHE_HIT
        elif template is not None and template.metadata.discoverable:
            tree_node.cache_status = (catalog_pb2.CACHE_POPULATED if row.state == "succeeded"
                                      else catalog_pb2.CACHE_MISS)
        spec = self._dynamic_spec(row) if any(
            r.startswith(child_prefix) for r in self.rows) else None
        if spec is None:
            return
        tree_node.kind = "dynamic"
        tree_node.dynamic = _dynamic_closure(spec, template, task_id)
        saved = self.sub_workflows
        self.sub_workflows = {**saved, **{_key(s.id): s for s in spec.subworkflows}}
        try:
            self._scope(spec.nodes, child_prefix, tree_node.flyte_id, str(row.attempt),
                        tree_node.inputs or literals_pb2.LiteralMap())
        finally:
            self.sub_workflows = saved

    def _branch_node(self, tree_node, node, engine_id, bind):
        """The taken case is the branch's one child: a task case runs under the branch's own
        row; a workflow case's nodes are "<branch>-<case id>-<inner id>"."""
        from sandbox.engine.conditions import choose

        if tree_node.inputs is None:
            return
        try:
            chosen = choose(node.branch_node.if_else, tree_node.inputs,
                            f"branch node {node.id!r}")
        except SkiffError:
            return
        if chosen is None:
            return
        # Flyte's compiler names a case "<branch>-<case>"; the engine runs it by its own id.
        case_spec = f"{tree_node.spec_node_id}-{chosen.id}"
        case_id = f"{tree_node.flyte_id}-{tree_node.row.attempt}-{case_spec}"
        case = self._visit(chosen, case_spec, engine_id, f"{engine_id}-{chosen.id}-"
                           if chosen.WhichOneof("target") == "workflow_node" else engine_id + "-",
                           case_id, tree_node.flyte_id, str(tree_node.row.attempt), bind)
        if case is not None and case.outputs is not None and tree_node.outputs is None:
            tree_node.outputs = case.outputs

    def _workflow_node(self, node, spec_id, engine_id, child_prefix, flyte_id, parent_id, retry,
                       inputs):
        ref = node.workflow_node
        if ref.WhichOneof("reference") == "sub_workflow_ref":
            kind, template = "subworkflow", self.sub_workflows.get(_key(ref.sub_workflow_ref))
        else:
            kind, template = "launch_plan", self._launch_plan_template(ref.launchplan_ref)
        own = self.rows.get(engine_id)  # a branch's workflow case keeps a row of its own
        row = own if own is not None else parent_row(
            self.record.id, child_prefix[:-1], self.all_rows)
        if row is None or row.state == "queued":
            return None
        tree_node = self._add(TreeNode(
            flyte_id=flyte_id, spec_node_id=spec_id, parent_id=parent_id, retry_group=retry,
            kind=kind, row=row, inputs=inputs))
        if template is None:
            return tree_node
        inner = self._scope(_with_failure_node(template), child_prefix, flyte_id, "0",
                            inputs or literals_pb2.LiteralMap())
        if row.state in ("succeeded", "cached") and inputs is not None:
            tree_node.outputs = _bind(template.outputs, inputs, inner)
        return tree_node

    def _add(self, tree_node: TreeNode) -> TreeNode:
        self.nodes[tree_node.flyte_id] = tree_node
        if tree_node.parent_id in self.nodes:
            self.nodes[tree_node.parent_id].children.append(tree_node.flyte_id)
        return tree_node

    # ---- what the templates refer to -----------------------------------------------------

    def _task_template(self, task_id):
        key = _key(task_id)
        if key not in self._task_specs:
            from flyteidl.admin import task_pb2

            data = self.store.entity_spec(TASK, task_id.project or self.record.project,
                                          task_id.domain or self.record.domain, task_id.name,
                                          task_id.version or None)
            self._task_specs[key] = task_pb2.TaskSpec.FromString(data).template if data else None
        return self._task_specs[key]

    def _launch_plan_template(self, lp_id):
        data = self.store.entity_spec(LAUNCH_PLAN, lp_id.project or self.record.project,
                                      lp_id.domain or self.record.domain, lp_id.name,
                                      lp_id.version or None)
        if data is None:
            return None
        wf_id = launch_plan_pb2.LaunchPlan.FromString(data).spec.workflow_id
        data = self.store.entity_spec(WORKFLOW, wf_id.project, wf_id.domain, wf_id.name,
                                      wf_id.version or None)
        return admin_workflow_pb2.WorkflowSpec.FromString(data).template if data else None

    def _dynamic_spec(self, row):
        """The DynamicJobSpec the task wrote beside its inputs (futures.pb), or None."""
        if not row.input_uri:
            return None
        data = self.objects.get_bytes(row.input_uri.rsplit("/", 1)[0] + "/futures.pb")
        return dynamic_job_pb2.DynamicJobSpec.FromString(data) if data else None


def _with_failure_node(template) -> list:
    """A workflow's nodes, then its on_failure handler (listed once it ran)."""
    nodes = list(template.nodes)
    if template.HasField("failure_node") and template.failure_node.id:
        nodes.append(template.failure_node)
    return nodes


def _bind(bindings, scope_inputs, outputs):
    from sandbox.engine.bindings import resolve_all

    try:
        return resolve_all(bindings, scope_inputs, outputs, "node")
    except SkiffError:
        return None


def _key(ident) -> tuple:
    return (ident.project, ident.domain, ident.name, ident.version)


def _name_cases(nodes) -> None:
    """Branch case nodes renamed "<branch id>-<case id>", as Flyte's compiler names them."""
    for node in nodes:
        if node.WhichOneof("target") != "branch_node":
            continue
        if_else = node.branch_node.if_else
        cases = [if_else.case.then_node, *(c.then_node for c in if_else.other)]
        if if_else.HasField("else_node"):
            cases.append(if_else.else_node)
        for case in cases:
            case.id = f"{node.id}-{case.id}"
        _name_cases(cases)


def _dynamic_closure(spec, task_template, task_id) -> compiler_pb2.CompiledWorkflowClosure:
    """The workflow a dynamic task built, as flyteadmin hands it out (GetNodeExecutionData's
    dynamic_workflow, GetDynamicNodeWorkflow): its nodes, tasks and subworkflows."""
    primary = workflow_pb2.WorkflowTemplate(nodes=spec.nodes, outputs=spec.outputs)
    primary.id.CopyFrom(identifier_pb2.Identifier(
        resource_type=WORKFLOW, project=task_id.project, domain=task_id.domain,
        name=task_id.name, version=task_id.version))
    if task_template is not None:
        primary.interface.CopyFrom(task_template.interface)
    closure = compiler_pb2.CompiledWorkflowClosure()
    closure.primary.template.CopyFrom(primary)
    for sub in spec.subworkflows:
        closure.sub_workflows.add().template.CopyFrom(sub)
    for template in [closure.primary.template, *(s.template for s in closure.sub_workflows)]:
        _name_cases(template.nodes)
    for task in spec.tasks:
        closure.tasks.add().template.CopyFrom(task)
    return closure


class RecentTrees:
    """The trees of the last few ended executions, shared by the admin's threads."""

    def __init__(self, size: int = 16):
        self._size, self._lock, self._trees = size, threading.Lock(), OrderedDict()

    def get(self, execution_id: str, build) -> NodeTree:
        with self._lock:
            tree = self._trees.get(execution_id)
            if tree is not None:
                self._trees.move_to_end(execution_id)
                return tree
        tree = build()  # outside the lock: it reads the store and MinIO
        with self._lock:
            self._trees[execution_id] = tree
            while len(self._trees) > self._size:
                self._trees.popitem(last=False)
        return tree

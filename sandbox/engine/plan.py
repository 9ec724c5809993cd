"""The DAG an execution walks: nodes, their dependencies, and the tasks they run.

Built from registered specs only. Subworkflow and launch plan nodes are inlined: their nodes
join the parent's DAG under ids prefixed with the parent node's id ("n1-n0"), their inputs
bound to whatever the parent bound, so one scheduler loop runs everything and a resumed
execution sees every inner node's state. Branch, array and gate nodes stay single nodes,
handled by their own node handlers. A lone task is wrapped in a one-node workflow so that
running a task goes through the same path.
"""
from __future__ import annotations

import dataclasses

from flyteidl.core import identifier_pb2, interface_pb2, literals_pb2, workflow_pb2

from sandbox.registry import LAUNCH_PLAN, TASK, WORKFLOW, get_spec
from sdk.compile.idl_walk import nested_nodes
from sdk.errors import SandboxError

START_NODE = "start-node"
END_NODE = "end-node"
# flytekit binds workflow inputs to node id "" (its GLOBAL_INPUT_NODE_ID); admin reads it as
# the start node, and so do we.
WORKFLOW_INPUT_NODES = (START_NODE, "")
_MAX_DEPTH = 20


@dataclasses.dataclass
class Plan:
    workflow_name: str
    interface: interface_pb2.TypedInterface
    nodes: dict[str, workflow_pb2.Node]  # flattened, in template order, start/end excluded
    upstream: dict[str, set[str]]
    tasks: dict[tuple, object]  # (project, domain, name, version) -> core.TaskTemplate
    outputs: list[literals_pb2.Binding]
    failure_node: workflow_pb2.Node | None = None  # runs once the workflow has failed
    run_all_runnable: bool = False  # FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
    sub_workflows: list = dataclasses.field(default_factory=list)  # for cases planned later
    # An inlined subworkflow's own on_failure handler, by the prefix of the subworkflow's nodes
    # ("n1-"): it runs when a node under that prefix fails, before the parent fails.
    scope_failure_nodes: dict[str, workflow_pb2.Node] = dataclasses.field(default_factory=dict)

    def task_for(self, node: workflow_pb2.Node):
        """The TaskTemplate of a task node (None for other kinds)."""
        if node.WhichOneof("target") != "task_node":
            return None
        return self.tasks[task_key(node.task_node.reference_id)]

    def task_name(self, node: workflow_pb2.Node) -> str | None:
        task = self.task_for(node)
        return task.id.name if task is not None else None


def task_key(ref: identifier_pb2.Identifier) -> tuple:
    return (ref.project, ref.domain, ref.name, ref.version)


def promise_sources(binding_data: literals_pb2.BindingData, into: set[str]) -> None:
    kind = binding_data.WhichOneof("value")
    if kind == "promise":
        into.add(binding_data.promise.node_id)
    elif kind == "collection":
        for item in binding_data.collection.bindings:
            promise_sources(item, into)
    elif kind == "map":
        for item in binding_data.map.bindings.values():
            promise_sources(item, into)


def literal_to_binding(literal: literals_pb2.Literal) -> literals_pb2.BindingData:
    kind = literal.WhichOneof("value")
    if kind == "collection":
        return literals_pb2.BindingData(collection=literals_pb2.BindingDataCollection(
            bindings=[literal_to_binding(item) for item in literal.collection.literals]))
    if kind == "map":
        return literals_pb2.BindingData(map=literals_pb2.BindingDataMap(bindings={
            k: literal_to_binding(v) for k, v in literal.map.literals.items()}))
    return literals_pb2.BindingData(scalar=literal.scalar)


class _Scope:
    """One workflow template being inlined under `prefix`, its inputs bound by `inputs`
    (None at the top: references to workflow inputs stay as they are)."""

    def __init__(self, builder, template, prefix: str, inputs, extra_upstream: set[str], depth):
        self.builder = builder
        self.template = template
        self.prefix = prefix
        self.inputs = inputs
        self.extra_upstream = extra_upstream
        self.depth = depth
        self.by_id = {n.id: n for n in template.nodes if n.id not in (START_NODE, END_NODE)}
        self.inlined: dict[str, "_Scope"] = {}
        self.inner_ids: dict[str, list[str]] = {}

    def where(self) -> str:
        return f"workflow {self.template.id.name!r}"

    def rewrite(self, data: literals_pb2.BindingData) -> literals_pb2.BindingData:
        kind = data.WhichOneof("value")
        if kind == "collection":
            return literals_pb2.BindingData(collection=literals_pb2.BindingDataCollection(
                bindings=[self.rewrite(b) for b in data.collection.bindings]))
        if kind == "map":
            return literals_pb2.BindingData(map=literals_pb2.BindingDataMap(bindings={
                k: self.rewrite(b) for k, b in data.map.bindings.items()}))
        if kind != "promise":
            return data
        ref = data.promise
        if ref.node_id in WORKFLOW_INPUT_NODES:
            if self.inputs is None:
                return data
            if ref.var not in self.inputs:
                raise SandboxError(f"{self.where()} uses input {ref.var!r}, which its parent "
                                   "node does not bind; recompile the workflow")
            return self._with_path(self.inputs[ref.var], ref)
        inner = self.inline(ref.node_id)
        if inner is not None:
            return self._with_path(inner.output(ref.var), ref)
        out = literals_pb2.BindingData()
        out.CopyFrom(data)
        out.promise.node_id = self.prefix + ref.node_id
        return out

    @staticmethod
    def _with_path(data, ref):
        if not ref.attr_path:
            return data
        if data.WhichOneof("value") == "scalar":  # a constant bound by the parent: select now
            from sandbox.engine import attr_path

            selected = attr_path.follow(literals_pb2.Literal(scalar=data.scalar), ref.attr_path,
                                        f"node {ref.node_id!r}")
            return literal_to_binding(selected)
        if data.WhichOneof("value") != "promise":
            raise SandboxError(f"attribute access {list(ref.attr_path)} on a bound list or map "
                               "is not supported by the sandbox; bind a task's output instead")
        out = literals_pb2.BindingData()
        out.CopyFrom(data)
        out.promise.attr_path.extend(ref.attr_path)
        return out

    def output(self, var: str) -> literals_pb2.BindingData:
        for binding in self.template.outputs:
            if binding.var == var:
                return self.rewrite(binding.binding)
        raise SandboxError(f"{self.where()} has no output {var!r}; recompile the workflow")

    def upstream_ids(self, node_ids) -> set[str]:
        ids = set(self.extra_upstream)
        for node_id in node_ids:
            if node_id in WORKFLOW_INPUT_NODES:
                continue
            if self.inline(node_id) is not None:
                ids.update(self.inner_ids[node_id])
            else:
                ids.add(self.prefix + node_id)
        return ids

    def inline(self, node_id: str) -> "_Scope | None":
        """The scope of a subworkflow / launch plan node (expanded on first use)."""
        node = self.by_id.get(node_id)
        if node is None:
            if node_id in (START_NODE, END_NODE):
                return None
            raise SandboxError(f"{self.where()} refers to unknown node {node_id!r}; recompile "
                               "the workflow")
        if node.WhichOneof("target") != "workflow_node":
            return None
        if node_id not in self.inlined:
            self.inlined[node_id] = self.builder.inline(self, node)
        return self.inlined[node_id]

    def expand(self) -> None:
        for node in self.by_id.values():
            if self.inline(node.id) is not None:
                continue
            self.builder.add(self, node)


class _Builder:
    def __init__(self, store, root_spec_subworkflows):
        self.store = store
        self.subworkflows = {task_key(s.id): s for s in root_spec_subworkflows}
        self.nodes: dict[str, workflow_pb2.Node] = {}
        self.upstream: dict[str, set[str]] = {}
        self.tasks: dict[tuple, object] = {}
        self.scope_failure_nodes: dict[str, workflow_pb2.Node] = {}

    def load_task(self, ref: identifier_pb2.Identifier):
        key = task_key(ref)
        if key not in self.tasks:
            self.tasks[key] = get_spec(self.store, TASK, ref.project, ref.domain, ref.name,
                                       ref.version or None).template
        return self.tasks[key]

    def _collect_tasks(self, node: workflow_pb2.Node) -> None:
        # A branch case that calls a workflow is planned when the case is taken.
        for inner in nested_nodes([node]):
            if inner.WhichOneof("target") == "task_node":
                self.load_task(inner.task_node.reference_id)

    def _rewrite_node(self, scope: _Scope, node: workflow_pb2.Node) -> workflow_pb2.Node:
        out = workflow_pb2.Node()
        out.CopyFrom(node)
        out.id = scope.prefix + node.id
        del out.inputs[:]
        for binding in node.inputs:
            out.inputs.add(var=binding.var).binding.CopyFrom(scope.rewrite(binding.binding))
        if node.WhichOneof("target") == "branch_node":
            block = out.branch_node.if_else
            for then in [block.case.then_node] + [c.then_node for c in block.other] + (
                    [block.else_node] if block.HasField("else_node") else []):
                rewritten = self._rewrite_node(scope, then)
                then.CopyFrom(rewritten)
        return out

    def add(self, scope: _Scope, node: workflow_pb2.Node) -> None:
        kind = node.WhichOneof("target")
        if kind not in ("task_node", "branch_node", "array_node", "gate_node"):
            raise SandboxError(f"{scope.where()} node {node.id!r} has no task, workflow, "
                               "branch, array or gate target; recompile the workflow")
        self._collect_tasks(node)
        flat = self._rewrite_node(scope, node)
        deps = scope.upstream_ids(node.upstream_node_ids)
        for binding in flat.inputs:
            promise_sources(binding.binding, deps)
        if kind == "branch_node":  # whichever case runs, its inputs must be ready
            block = flat.branch_node.if_else
            for then in [block.case.then_node] + [c.then_node for c in block.other] + (
                    [block.else_node] if block.HasField("else_node") else []):
                for binding in then.inputs:
                    promise_sources(binding.binding, deps)
        deps.difference_update(WORKFLOW_INPUT_NODES)
        self.nodes[flat.id] = flat
        self.upstream[flat.id] = deps

    def inline(self, scope: _Scope, node: workflow_pb2.Node) -> _Scope:
        if scope.depth >= _MAX_DEPTH:
            raise SandboxError(f"{scope.where()} nests workflows deeper than {_MAX_DEPTH} "
                               "levels (a recursive launch plan?)")
        ref_kind = node.workflow_node.WhichOneof("reference")
        ref = getattr(node.workflow_node, ref_kind)
        bound = {b.var: scope.rewrite(b.binding) for b in node.inputs}
        if ref_kind == "launchplan_ref":
            lp = get_spec(self.store, LAUNCH_PLAN, ref.project, ref.domain, ref.name,
                          ref.version or None)
            wf_id = lp.spec.workflow_id
            template = self._workflow_template(wf_id)
            for name, param in lp.spec.default_inputs.parameters.items():
                if name not in bound and param.HasField("default"):
                    bound[name] = literal_to_binding(param.default)
            for name, literal in lp.spec.fixed_inputs.literals.items():
                bound[name] = literal_to_binding(literal)
        else:
            template = self._workflow_template(ref)
        missing = set(template.interface.inputs.variables) - bound.keys()
        if missing:
            raise SandboxError(f"{scope.where()} node {node.id!r} does not bind input(s) "
                               f"{sorted(missing)} of {template.id.name!r}; recompile")
        inner = _Scope(self, template, f"{scope.prefix}{node.id}-", bound,
                       scope.upstream_ids(node.upstream_node_ids), scope.depth + 1)
        before = set(self.nodes)
        inner.expand()
        scope.inner_ids[node.id] = [n for n in self.nodes if n not in before]
        handler = self.failure_node(inner, template)
        if handler is not None:
            self.scope_failure_nodes[inner.prefix] = handler
        return inner

    def failure_node(self, scope: _Scope, template) -> workflow_pb2.Node | None:
        """`template`'s on_failure node, its inputs bound in `scope` (a workflow handler is
        planned when it runs: plan_detached_workflow_node)."""
        if not (template.HasField("failure_node") and template.failure_node.id):
            return None
        handler_kind = template.failure_node.WhichOneof("target")
        if handler_kind == "task_node":
            self.load_task(template.failure_node.task_node.reference_id)
        elif handler_kind != "workflow_node":
            raise SandboxError(f"workflow {template.id.name!r}: its failure handler is a "
                               f"{handler_kind}; make it a task or a workflow")
        return self._rewrite_node(scope, template.failure_node)

    def _workflow_template(self, ref):
        key = task_key(ref)
        if key in self.subworkflows:
            return self.subworkflows[key]
        spec = get_spec(self.store, WORKFLOW, ref.project, ref.domain, ref.name,
                        ref.version or None)
        for sub in spec.sub_workflows:
            self.subworkflows.setdefault(task_key(sub.id), sub)
        return spec.template


def plan_workflow(store, template: workflow_pb2.WorkflowTemplate, sub_workflows=(),
                  prefix: str = "", tasks=()) -> Plan:
    """`prefix` names the nodes of a nested DAG (a dynamic task's nodes); `tasks` are task
    templates that come with the template rather than from the registry."""
    builder = _Builder(store, sub_workflows)
    for task in tasks:
        builder.tasks[task_key(task.id)] = task
    scope = _Scope(builder, template, prefix, None, set(), 0)
    scope.expand()
    for node_id, deps in builder.upstream.items():
        unknown = deps - builder.nodes.keys()
        if unknown:
            raise SandboxError(f"workflow {template.id.name!r} node {node_id!r} depends on "
                               f"unknown node(s) {sorted(unknown)}; recompile the workflow")
    outputs = [literals_pb2.Binding(var=b.var, binding=scope.rewrite(b.binding))
               for b in template.outputs]
    failure_node = builder.failure_node(scope, template)
    policy = workflow_pb2.WorkflowMetadata.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
    return Plan(template.id.name, template.interface, builder.nodes, builder.upstream,
                builder.tasks, outputs, failure_node, template.metadata.on_failure == policy,
                list(builder.subworkflows.values()), builder.scope_failure_nodes)


def plan_detached_workflow_node(store, node: workflow_pb2.Node, sub_workflows,
                                prefix: str) -> Plan:
    """A plan running one subworkflow / launch plan node whose inputs are already resolved:
    they are read from the plan's inputs under the same names (a taken branch case)."""
    builder = _Builder(store, sub_workflows)
    ref_kind = node.workflow_node.WhichOneof("reference")
    ref = getattr(node.workflow_node, ref_kind)
    if ref_kind == "launchplan_ref":
        lp = get_spec(store, LAUNCH_PLAN, ref.project, ref.domain, ref.name, ref.version or None)
        called = builder._workflow_template(lp.spec.workflow_id)
    else:
        called = builder._workflow_template(ref)
    detached = workflow_pb2.Node()
    detached.CopyFrom(node)
    del detached.inputs[:]
    del detached.upstream_node_ids[:]
    for binding in node.inputs:
        promise = detached.inputs.add(var=binding.var).binding.promise
        promise.node_id, promise.var = START_NODE, binding.var
    wrapper = workflow_pb2.WorkflowTemplate(nodes=[detached])
    wrapper.id.CopyFrom(called.id)
    for var in called.interface.outputs.variables:
        promise = wrapper.outputs.add(var=var).binding.promise
        promise.node_id, promise.var = node.id, var
    return plan_workflow(store, wrapper, list(builder.subworkflows.values()), prefix=prefix)


def plan_task(task_template) -> Plan:
    """A one-node plan running `task_template` with the execution's inputs."""
    node = workflow_pb2.Node(id="n0")
    node.task_node.reference_id.CopyFrom(task_template.id)
    for name in task_template.interface.inputs.variables:
        binding = node.inputs.add(var=name)
        binding.binding.promise.node_id = START_NODE
        binding.binding.promise.var = name
    outputs = []
    for name in task_template.interface.outputs.variables:
        binding = literals_pb2.Binding(var=name)
        binding.binding.promise.node_id = "n0"
        binding.binding.promise.var = name
        outputs.append(binding)
    return Plan(task_template.id.name, task_template.interface, {"n0": node}, {"n0": set()},
                {task_key(task_template.id): task_template}, outputs)

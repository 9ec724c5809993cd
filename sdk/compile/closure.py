"""A workflow's compiled closure, as flyteadmin compiles it when a workflow is registered.

Pure IDL in, pure IDL out (no user code). The rules are those of Flyte's compiler
(flytepropeller/pkg/compiler), so that Skiff's admin serves and refuses what flyteadmin does:

- the template gains `start-node` (its outputs are the workflow inputs) and `end-node` (bound
  to the workflow outputs); every node's `upstream_node_ids` are sorted;
- a binding the compiler checks names its source node, `start-node` for a workflow input; the
  nodes inside an array node are not checked, so their promises keep an empty node id;
- a branch's case nodes are renamed `<branch id>-<node id>` and get upstream connections from
  what they read (no downstream ones); the failure node gets upstream connections only;
- a top-level node nothing feeds hangs off `start-node`; one that feeds nothing feeds
  `end-node`; connections list ids sorted;
- a subworkflow is compiled once it is referenced by a node; the closure lists the tasks the
  workflow needs, sorted by identifier.

A workflow Flyte's compiler refuses raises WorkflowCompileError, naming the node and what is
wrong: unknown tasks, launch plans and subworkflows, unbound or unknown inputs, mismatching
types, conditions without a value, branches without an else, cycles, unreachable nodes.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Mapping

from flyteidl.admin import workflow_pb2 as admin_workflow_pb2
from flyteidl.core import compiler_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2, \
    workflow_pb2

from sdk.compile.castable import castable, describe
from sdk.errors import SkiffError

START_NODE = "start-node"
END_NODE = "end-node"

Key = tuple  # (project, domain, name, version) of an identifier


class WorkflowCompileError(SkiffError):
    """A workflow Flyte's compiler would refuse; `problems` lists one line per problem."""

    def __init__(self, workflow: str, problems: list[str], graph_problems: list[str] = ()):
        self.workflow = workflow
        self.problems = problems
        # The subset about the graph itself (no nodes, cycles, unreachable nodes): a workflow
        # with one of these can never run, whatever its bindings.
        self.graph_problems = list(graph_problems)
        super().__init__(f"workflow {workflow} does not compile: " + "; ".join(problems))


class MissingReference(WorkflowCompileError):
    """A task or launch plan the workflow calls is not registered."""


@dataclasses.dataclass
class LaunchPlanInterface:
    """What a launch plan node needs of the plan it calls (admin.LaunchPlanClosure fields)."""

    expected_inputs: interface_pb2.ParameterMap
    expected_outputs: interface_pb2.VariableMap


def key(ident) -> Key:
    return (ident.project, ident.domain, ident.name, ident.version)


def _id_text(ident) -> str:
    return "/".join(p for p in key(ident) if p) or "<empty identifier>"


def _sort_key(ident) -> tuple:
    return (ident.resource_type, *key(ident))


# ---- what a workflow needs -------------------------------------------------------------------

def _case_nodes(node: workflow_pb2.Node) -> list[workflow_pb2.Node]:
    if_else = node.branch_node.if_else
    nodes = [if_else.case.then_node] + [block.then_node for block in if_else.other]
    if if_else.HasField("else_node"):
        nodes.append(if_else.else_node)
    return nodes


def _requirements(template, subworkflows: Mapping[Key, workflow_pb2.WorkflowTemplate],
                  tasks: dict, plans: dict, follow: bool, seen: set) -> None:
    nodes = list(template.nodes)
    if template.HasField("failure_node"):
        nodes.append(template.failure_node)
    while nodes:
        node = nodes.pop(0)
        target = node.WhichOneof("target")
        if target == "task_node" and node.task_node.HasField("reference_id"):
            tasks.setdefault(key(node.task_node.reference_id), node.task_node.reference_id)
        elif target == "workflow_node":
            ref = node.workflow_node.WhichOneof("reference")
            if ref == "launchplan_ref":
                plans.setdefault(key(node.workflow_node.launchplan_ref),
                                 node.workflow_node.launchplan_ref)
            elif ref == "sub_workflow_ref" and follow:
                sub_key = key(node.workflow_node.sub_workflow_ref)
                if sub_key in subworkflows and sub_key not in seen:
                    seen.add(sub_key)
                    _requirements(subworkflows[sub_key], subworkflows, tasks, plans, follow, seen)
        elif target == "branch_node":
            nodes[:0] = _case_nodes(node)
        elif target == "array_node":
            nodes.insert(0, node.array_node.node)


def required_references(spec: admin_workflow_pb2.WorkflowSpec):
    """(task ids, launch plan ids) the workflow calls, subworkflows and failure nodes included,
    sorted as Flyte sorts them: what an admin must find registered before it compiles."""
    subs = {key(sub.id): sub for sub in spec.sub_workflows}
    tasks, plans = {}, {}
    _requirements(spec.template, subs, tasks, plans, True, set())
    return sorted(tasks.values(), key=_sort_key), sorted(plans.values(), key=_sort_key)


# ---- interfaces ------------------------------------------------------------------------------

@dataclasses.dataclass
class _Interface:
    inputs: dict  # name -> types_pb2.LiteralType
    outputs: dict


def _variables(variable_map) -> dict:
    if variable_map is None:
        return {}
    return {name: var.type for name, var in variable_map.variables.items()}


def _optional(t) -> bool:
    """A union with None among its types may stay unbound."""
    return t is not None and t.WhichOneof("type") == "union_type" and any(
        v.WhichOneof("type") == "simple" and v.simple == types_pb2.NONE
        for v in t.union_type.variants)


_VAR_NAME = re.compile(r"(\[(\d+)\]\.)?(\w+)")


class _Context:
    """What every workflow of one closure shares: the registered entities and the errors."""

    def __init__(self, tasks: Mapping[Key, tasks_pb2.TaskTemplate],
                 plans: Mapping[Key, LaunchPlanInterface],
                 subworkflows: Mapping[Key, compiler_pb2.CompiledWorkflow],
                 scalar_operands: bool = False):
        self.tasks = tasks
        self.scalar_operands = scalar_operands
        self.plans = plans
        self.subworkflows = subworkflows
        self.compiled: set[Key] = set()
        self.problems: list[str] = []
        self.graph_problems: list[str] = []

    def graph_problem(self, text: str) -> None:
        self.problems.append(text)
        self.graph_problems.append(text)


class _Builder:
    """One workflow being compiled: Flyte's workflow builder, node by node."""

    def __init__(self, compiled: compiler_pb2.CompiledWorkflow, ctx: _Context):
        self.compiled = compiled
        self.template = compiled.template
        self.ctx = ctx
        self.nodes: dict[str, workflow_pb2.Node] = {}
        self.ifaces: dict[str, _Interface] = {}
        self.upstream: dict[str, set[str]] = {}
        self.downstream: dict[str, set[str]] = {}

    def problem(self, node_id: str, text: str) -> None:
        self.ctx.problems.append(f"node {node_id}: {text}")

    # ---- edges ----

    def add_upstream(self, provider: str, dependent: str) -> None:
        self.upstream.setdefault(dependent, set()).add(provider or START_NODE)

    def add_downstream(self, provider: str, dependent: str) -> None:
        self.downstream.setdefault(provider or START_NODE, set()).add(dependent)

    def add_execution_edge(self, provider: str, dependent: str) -> None:
        self.add_downstream(provider, dependent)
        self.add_upstream(provider, dependent)

    # ---- bindings ----

    def _output_type(self, source: str, var: str, node_id: str):
        iface = self.ifaces.get(source)
        if iface is None or var not in iface.outputs:
            self.problem(node_id, f"reads output {var!r} of node {source}, which has no such "
                                  "output")
            return None
        return iface.outputs[var]

    def _binding_type(self, node_id: str, param: str, data: literals_pb2.BindingData,
                      expected, check: bool, sources: list[str]):
        """The type a binding supplies (None when unknown); records its source nodes."""
        kind = data.WhichOneof("value")
        if kind not in ("scalar", "promise") and expected is not None \
                and expected.WhichOneof("type") == "union_type":
            # A list or map bound to a union must fit exactly one of its types.
            fits = []
            for variant in expected.union_type.variants:
                saved = len(self.ctx.problems)
                self._binding_type(node_id, param, data, variant, check, [])
                if len(self.ctx.problems) == saved:
                    fits.append(variant)
                del self.ctx.problems[saved:]
            if len(fits) != 1:
                self.problem(node_id, f"input {param!r}: the value fits "
                                      f"{'none' if not fits else 'more than one'} of the types "
                                      f"of {describe(expected)}")
                return None
            return self._binding_type(node_id, param, data, fits[0], check, sources)
        if kind == "collection":
            if expected is not None and expected.WhichOneof("type") != "collection_type" and check:
                self.problem(node_id, f"input {param!r} is bound to a list but expects "
                                      f"{describe(expected)}")
                return None
            inner = expected.collection_type if expected is not None and \
                expected.WhichOneof("type") == "collection_type" else None
            for item in data.collection.bindings:
                self._binding_type(node_id, param, item, inner, check, sources)
            return None
        if kind == "map":
            if expected is not None and expected.WhichOneof("type") != "map_value_type" and check:
                self.problem(node_id, f"input {param!r} is bound to a map but expects "
                                      f"{describe(expected)}")
                return None
            inner = expected.map_value_type if expected is not None and \
                expected.WhichOneof("type") == "map_value_type" else None
            for name in sorted(data.map.bindings):
                self._binding_type(node_id, param, data.map.bindings[name], inner, check, sources)
            return None
        if kind == "promise":
            promise = data.promise
            source = promise.node_id or START_NODE
            if source not in self.nodes:
                self.problem(node_id, f"input {param!r} reads node {promise.node_id!r}, which "
                                      "does not exist (or comes later)")
                return None
            match = _VAR_NAME.fullmatch(promise.var)
            if match is None:
                self.problem(node_id, f"input {param!r} reads {promise.var!r}, which is not a "
                                      "variable name")
                return None
            up_type = self._output_type(source, match.group(3), node_id)
            if up_type is None:
                return None
            source_type = up_type
            if match.group(2) is not None:
                if up_type.WhichOneof("type") != "collection_type":
                    self.problem(node_id, f"input {param!r} indexes {promise.var!r}, which is "
                                          "not a list")
                    return None
                source_type = up_type.collection_type
            for attr in promise.attr_path:
                kind2 = source_type.WhichOneof("type")
                if kind2 == "collection_type":
                    source_type = source_type.collection_type
                elif kind2 == "map_value_type":
                    source_type = source_type.map_value_type
                elif source_type.HasField("structure") and source_type.structure.dataclass_type:
                    name = attr.string_value
                    if name not in source_type.structure.dataclass_type:
                        self.problem(node_id, f"input {param!r} reads field {name!r} of "
                                              f"{promise.var!r}, which has no such field")
                        return None
                    source_type = source_type.structure.dataclass_type[name]
            if check and expected is not None and not castable(source_type, expected):
                self.problem(node_id, f"input {param!r} expects {describe(expected)} but is bound "
                                      f"to {promise.var!r} of {source}, which is "
                                      f"{describe(source_type)}")
                return None
            promise.node_id = source
            sources.append(source)
            return up_type
        if kind == "scalar":
            return None  # literal values: flyteadmin checks them at execution
        self.problem(node_id, f"input {param!r} has no value")
        return None

    def bind(self, node: workflow_pb2.Node, bindings, params: dict | None, check: bool,
             direction: str) -> dict:
        """Check `bindings` against `params` and connect the sources; returns the types bound."""
        resolved: dict = {}
        seen: set[str] = set()
        for binding in bindings:
            if params is not None and binding.var not in params and check:
                self.problem(node.id, f"binds input {binding.var!r}, which it does not have "
                                      f"(inputs: {', '.join(sorted(params)) or 'none'})")
                continue
            if not binding.HasField("binding"):
                self.problem(node.id, f"input {binding.var!r} has no binding")
                continue
            if binding.var in seen:
                self.problem(node.id, f"input {binding.var!r} is bound more than once")
                continue
            seen.add(binding.var)
            expected = params.get(binding.var) if params is not None else None
            sources: list[str] = []
            saved = len(self.ctx.problems)
            bound = self._binding_type(node.id, binding.var, binding.binding, expected, check,
                                       sources)
            if len(self.ctx.problems) > saved:
                continue
            for source in sources:
                if direction == "both":
                    self.add_execution_edge(source, node.id)
                elif direction == "up":
                    self.add_upstream(source, node.id)
            resolved[binding.var] = bound if bound is not None else expected
        for name in sorted(set(params or ()) - seen):
            if not _optional(params[name]):
                self.problem(node.id, f"input {name!r} is not bound")
        return resolved

    # ---- interfaces of nodes ----

    def interface(self, node: workflow_pb2.Node) -> _Interface | None:
        if node.id in self.ifaces:
            return self.ifaces[node.id]
        iface = self._compute_interface(node)
        if iface is not None:
            self.ifaces[node.id] = iface
        return iface

    def _compute_interface(self, node: workflow_pb2.Node) -> _Interface | None:
        target = node.WhichOneof("target")
        if target == "task_node":
            ref = node.task_node.reference_id
            task = self.ctx.tasks.get(key(ref))
            if task is None:
                self.problem(node.id, f"runs task {_id_text(ref)}, which is not registered")
                return None
            return _Interface(_variables(task.interface.inputs), _variables(task.interface.outputs))
        if target == "workflow_node":
            ref_kind = node.workflow_node.WhichOneof("reference")
            ref = getattr(node.workflow_node, ref_kind) if ref_kind else None
            if ref_kind == "launchplan_ref" and key(ref) == key(self.template.id):
                return _Interface(_variables(self.template.interface.inputs),
                                  _variables(self.template.interface.outputs))
            if ref_kind == "launchplan_ref":
                plan = self.ctx.plans.get(key(ref))
                if plan is None:
                    self.problem(node.id, f"calls launch plan {_id_text(ref)}, which is not "
                                          "registered")
                    return None
                bound = {b.var for b in node.inputs}
                inputs = {name: p.var.type for name, p in plan.expected_inputs.parameters.items()
                          if p.required or name in bound}
                return _Interface(inputs, _variables(plan.expected_outputs))
            if ref_kind == "sub_workflow_ref":
                sub = self.ctx.subworkflows.get(key(ref))
                if sub is None:
                    self.problem(node.id, f"calls subworkflow {_id_text(ref)}, which is not in "
                                          "the workflow's spec")
                    return None
                return _Interface(_variables(sub.template.interface.inputs),
                                  _variables(sub.template.interface.outputs))
            self.problem(node.id, "a workflow node needs a launch plan or subworkflow reference")
            return None
        if target == "branch_node":
            return self._branch_interface(node)
        if target == "gate_node":
            gate = node.gate_node
            kind = gate.WhichOneof("condition")
            if kind == "approve":
                bound = self.bind(node, node.inputs, None, False, "up")
                return _Interface(bound, dict(bound))
            if kind == "signal":
                if not gate.signal.HasField("type"):
                    self.problem(node.id, "the signal has no type")
                    return None
                if not gate.signal.output_variable_name:
                    self.problem(node.id, "the signal has no output variable name")
                    return None
                return _Interface({}, {gate.signal.output_variable_name: gate.signal.type})
            if kind == "sleep":
                return _Interface({}, {})
            self.problem(node.id, "a gate node needs approve, signal or sleep")
            return None
        if target == "array_node":
            inner = node.array_node.node
            return self.interface(inner)
        self.problem(node.id, "the node has no target (task, workflow, branch, gate or array)")
        return None

    def _branch_interface(self, node: workflow_pb2.Node) -> _Interface | None:
        if_else = node.branch_node.if_else
        if not node.branch_node.HasField("if_else") or not if_else.HasField("case") \
                or not if_else.case.HasField("then_node"):
            self.problem(node.id, "the branch has no first case with a node to run")
            return None
        outputs: dict | None = None
        saved = len(self.ctx.problems)
        for case in _case_nodes(node):
            case.id = f"{node.id}-{case.id}"
            iface = self.interface(case)
            if iface is None:
                continue
            if outputs is None:
                outputs = dict(iface.outputs)
                continue
            for name in sorted(set(outputs) & set(iface.outputs)):
                if outputs[name].SerializeToString(deterministic=True) != \
                        iface.outputs[name].SerializeToString(deterministic=True):
                    self.problem(case.id, f"output {name!r} is {describe(iface.outputs[name])} "
                                          f"here but {describe(outputs[name])} in another case")
            outputs = {n: t for n, t in outputs.items() if n in iface.outputs}
        bound = self.bind(node, node.inputs, None, False, "up")
        if len(self.ctx.problems) > saved or outputs is None:
            return None
        return _Interface(bound, outputs)

    # ---- validating nodes ----

    def _operand(self, node: workflow_pb2.Node, side: str, operand) -> None:
        kind = operand.WhichOneof("val") if operand is not None else None
        if kind == "primitive" or (kind == "scalar" and self.ctx.scalar_operands):
            return
        if kind == "var" and operand.var:
            iface = self.ifaces.get(node.id)
            if iface is None:
                self.problem(node.id, f"the condition reads {operand.var!r} but the branch has "
                                      "no inputs")
            elif operand.var not in iface.inputs:
                self.problem(node.id, f"the condition reads {operand.var!r}, which is not an "
                                      "input of the branch")
            return
        # Flyte's compiler accepts only literal primitives and variables as operands
        # (a comparison with None, for one, is refused).
        self.problem(node.id, f"the condition's {side} has no primitive value or variable; "
                              "Flyte's compiler requires one (is_none() is not supported)")

    def _condition(self, node: workflow_pb2.Node, expr) -> None:
        kind = expr.WhichOneof("expr")
        if kind == "comparison":
            self._operand(node, "right value", expr.comparison.right_value
                          if expr.comparison.HasField("right_value") else None)
            self._operand(node, "left value", expr.comparison.left_value
                          if expr.comparison.HasField("left_value") else None)
        elif kind == "conjunction":
            self._condition(node, expr.conjunction.left_expression)
            self._condition(node, expr.conjunction.right_expression)
        else:
            self.problem(node.id, "a case has no condition")

    def validate_node(self, node: workflow_pb2.Node) -> bool:
        saved = len(self.ctx.problems)
        if not node.id:
            self.problem("<node>", "a node has no id")
        if node.id in (START_NODE, END_NODE):
            return True
        self.interface(node)
        self._aliases(node)
        ids = sorted(node.upstream_node_ids)
        del node.upstream_node_ids[:]
        node.upstream_node_ids.extend(ids)
        target = node.WhichOneof("target")
        if target == "branch_node":
            self._branch(node)
        elif target == "workflow_node" and \
                node.workflow_node.WhichOneof("reference") == "sub_workflow_ref":
            self._subworkflow(node.workflow_node.sub_workflow_ref)
        return len(self.ctx.problems) == saved

    def _aliases(self, node: workflow_pb2.Node) -> None:
        iface = self.ifaces.get(node.id)
        aliases: dict[str, str] = {}
        for alias in node.output_aliases:
            if alias.var in aliases:
                self.problem(node.id, f"output {alias.var!r} is aliased twice")
            aliases[alias.var] = alias.alias
        if iface is None or not aliases:
            return
        outputs = {}
        for name, t in iface.outputs.items():
            outputs[aliases.pop(name, name)] = t
        for alias in aliases.values():
            self.problem(node.id, f"alias {alias!r} names no output")
        iface.outputs = outputs

    def _branch(self, node: workflow_pb2.Node) -> None:
        if_else = node.branch_node.if_else
        blocks = ([if_else.case] if if_else.HasField("case") else []) + list(if_else.other)
        if not if_else.HasField("case"):
            self.problem(node.id, "the branch has no condition")
        for block in blocks:
            if block.HasField("condition"):
                self._condition(node, block.condition)
            else:
                self.problem(node.id, "a case has no condition")
            if not block.HasField("then_node"):
                self.problem(node.id, "a case has no node to run")
        if not if_else.HasField("else_node") and not if_else.HasField("error"):
            self.problem(node.id, "the branch has neither an else node nor an error to raise")
        for case in _case_nodes(node):
            if self.validate_node(case):
                iface = self.ifaces.get(case.id)
                if iface is not None:
                    self.bind(case, case.inputs, iface.inputs, True, "up")

    def _subworkflow(self, ref) -> None:
        sub_key = key(ref)
        sub = self.ctx.subworkflows.get(sub_key)
        if sub is None or sub_key in self.ctx.compiled:
            return
        self.ctx.compiled.add(sub_key)
        _Builder(sub, self.ctx).build()

    # ---- the workflow ----

    def build(self) -> None:
        template = self.template
        name = template.id.name
        if not template.nodes:
            self.ctx.graph_problem(f"workflow {name} has no nodes")
            return
        for section in (template.interface.inputs, template.interface.outputs):
            section.SetInParent()
            for var_name, var in section.variables.items():
                if not var_name or not var.HasField("type"):
                    self.ctx.problems.append(f"workflow {name}: variable {var_name!r} has no "
                                             "name or no type")
        originals = list(template.nodes)
        copies = []
        for original in originals:
            copy = workflow_pb2.Node()
            copy.CopyFrom(original)
            copies.append(copy)
        del template.nodes[:]
        start = template.nodes.add(id=START_NODE)
        end = template.nodes.add(id=END_NODE)
        end.inputs.extend(template.outputs)
        self.nodes[START_NODE] = start
        self.nodes[END_NODE] = end
        self.ifaces[START_NODE] = _Interface({}, _variables(template.interface.inputs))
        self.ifaces[END_NODE] = _Interface(_variables(template.interface.outputs), {})

        top_level = []
        for copy in copies:
            top_level.append(copy.id)
            if copy.id in self.nodes:
                self.problem(copy.id, "the id is used by two nodes")
                continue
            node = template.nodes.add()
            node.CopyFrom(copy)
            self.nodes[node.id] = node
            self.validate_node(node)

        ordered = sorted(self.nodes)
        for node_id in ordered:
            if node_id == START_NODE:
                continue
            node = self.nodes[node_id]
            iface = self.ifaces.get(node_id)
            if iface is None:
                continue
            for upstream in node.upstream_node_ids:
                self.add_execution_edge(upstream, node_id)
            self.bind(node, node.inputs, iface.inputs, True, "both")

        if template.HasField("failure_node"):
            failure = template.failure_node
            self.validate_node(failure)
            iface = self.ifaces.get(failure.id)
            if iface is not None:
                self.bind(failure, failure.inputs, iface.inputs, True, "up")

        for node_id in ordered:
            if node_id in (START_NODE, END_NODE) or node_id not in top_level:
                continue
            if node_id not in self.upstream:
                self.add_execution_edge(START_NODE, node_id)
            if node_id not in self.downstream:
                self.add_execution_edge(node_id, END_NODE)

        self.bind(end, end.inputs, self.ifaces[END_NODE].inputs, True, "both")
        # The template's own outputs name their sources as the end node's inputs do.
        del template.outputs[:]
        template.outputs.extend(end.inputs)
        self._check_reachable(name)

        connections = self.compiled.connections
        connections.Clear()
        connections.SetInParent()
        for node_id, ids in self.upstream.items():
            connections.upstream[node_id].ids.extend(sorted(ids))
        for node_id, ids in self.downstream.items():
            connections.downstream[node_id].ids.extend(sorted(ids))

    def _check_reachable(self, name: str) -> None:
        visiting: list[str] = []
        visited: set[str] = set()

        def visit(node_id: str) -> list[str] | None:
            if node_id in visiting:
                return visiting[visiting.index(node_id):] + [node_id]
            if node_id in visited:
                return None
            visiting.append(node_id)
            visited.add(node_id)
            for nxt in sorted(self.downstream.get(node_id, ())):
                cycle = visit(nxt)
                if cycle is not None:
                    return cycle
            visiting.pop()
            return None

        cycle = visit(START_NODE)
        if cycle is not None:
            self.ctx.graph_problem(f"workflow {name}: nodes depend on each other in a cycle "
                                     f"({' > '.join(cycle)}); break the cycle")
            return
        unreachable = sorted(set(self.nodes) - visited - {END_NODE})
        if unreachable:
            self.ctx.graph_problem(f"workflow {name}: nodes {', '.join(unreachable)} can never "
                                     "start (unreachable from the workflow's inputs)")


def _templates(tasks) -> dict[Key, tasks_pb2.TaskTemplate]:
    values = tasks.values() if isinstance(tasks, Mapping) else tasks
    return {key(t.id): t for t in values}


def compile_closure(spec: admin_workflow_pb2.WorkflowSpec, tasks,
                    launch_plans: Mapping[Key, LaunchPlanInterface] | None = None,
                    scalar_operands: bool = False) -> compiler_pb2.CompiledWorkflowClosure:
    """The closure flyteadmin compiles for `spec`.

    `tasks` holds the task templates (a mapping or an iterable; extra ones are ignored),
    `launch_plans` the interfaces of the launch plans the workflow calls, by identifier key.
    `scalar_operands` accepts conditions that compare with a literal scalar such as None
    (`is_none()`), which this flyteadmin's compiler refuses but the sandbox runs.
    Raises MissingReference when a called task or launch plan is missing, and
    WorkflowCompileError when Flyte's compiler would refuse the workflow.
    """
    name = spec.template.id.name
    available = _templates(tasks)
    plans = dict(launch_plans or {})
    task_ids, plan_ids = required_references(spec)
    missing = [f"task {_id_text(t)}" for t in task_ids if key(t) not in available]
    missing += [f"launch plan {_id_text(p)}" for p in plan_ids if key(p) not in plans]
    if missing:
        raise MissingReference(name, [f"it calls {m}, which is not registered" for m in missing])

    closure = compiler_pb2.CompiledWorkflowClosure()
    closure.primary.template.CopyFrom(spec.template)
    seen = set()
    for sub in spec.sub_workflows:
        if key(sub.id) in seen:
            raise WorkflowCompileError(name, [f"subworkflow {_id_text(sub.id)} is listed twice"])
        seen.add(key(sub.id))
        closure.sub_workflows.add().template.CopyFrom(sub)
    for task_id in task_ids:
        template = closure.tasks.add().template
        template.CopyFrom(available[key(task_id)])
        # Flyte's compiler fills a task's missing input/output maps as it reads the interface.
        if template.HasField("interface"):
            template.interface.inputs.SetInParent()
            template.interface.outputs.SetInParent()
    ctx = _Context({key(t.template.id): t.template for t in closure.tasks}, plans,
                   {key(s.template.id): s for s in closure.sub_workflows}, scalar_operands)
    _Builder(closure.primary, ctx).build()
    if ctx.problems:
        raise WorkflowCompileError(name, ctx.problems, ctx.graph_problems)
    return closure


def compile_workflow(template: workflow_pb2.WorkflowTemplate, tasks=(),
                     launch_plans=None, scalar_operands: bool = False
                     ) -> compiler_pb2.CompiledWorkflow:
    """The compiled primary workflow of a template without subworkflows."""
    spec = admin_workflow_pb2.WorkflowSpec(template=template)
    return compile_closure(spec, tasks, launch_plans, scalar_operands).primary

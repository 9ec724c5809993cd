"""`conditional("name").if_(...).then(...).elif_(...).then(...).else_().then(...)` or `.fail("...")`.

Spelled as in flytekit. While traced, each case's `then(...)` call becomes that case's node in
a nested scope; the finished conditional is one branch node in the enclosing workflow, whose
inputs are the promises the conditions read and whose outputs are what every case returns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from sdk.authoring.expressions import Expression, is_expression
from sdk.authoring.interface import Interface
from sdk.authoring.promise import Promise, VoidPromise, outputs_as_promises
from sdk.authoring.tracing import Node, TraceScope, current_scope, pop_scope, push_scope
from sdk.errors import CompileError


def branch_input_var(promise: Promise) -> str:
    """The branch node's input name for a promise a condition reads: `<node id>.<var>` (flytekit's)."""
    return f"{promise.node_id}.{promise.var}"


@dataclass
class Case:
    """One arm: a condition (None for else) and either a node to run or an error message."""

    condition: Optional[Expression]
    node: Optional[Node] = None
    error: Optional[str] = None
    # output name -> python type of what `then(...)` returned (empty for a void result)
    outputs: dict[str, Any] = field(default_factory=dict)


class BranchEntity:
    """The branch node's entity: its cases and the interface they share."""

    def __init__(self, name: str, where: str, cases: list[Case], inputs: dict[str, Promise]):
        self.name = name
        self.where = where
        self.cases = cases
        self.input_promises = inputs
        self.interface = Interface(
            inputs={var: p.python_type for var, p in inputs.items()}, outputs=self._common_outputs()
        )

    @property
    def short_name(self) -> str:
        return self.name

    def _common_outputs(self) -> dict[str, Any]:
        """Outputs present in every non-failing case (in the first case's order), as flytekit keeps them."""
        returning = [c for c in self.cases if c.error is None]
        if not returning or any(not c.outputs for c in returning):
            return {}
        first = returning[0].outputs
        common = {name: hint for name, hint in first.items() if all(name in c.outputs for c in returning)}
        for case in returning[1:]:
            for name, hint in common.items():
                if case.outputs[name] != hint:
                    raise CompileError(
                        f"{self.where}: output '{name}' is "
                        f"{_type_name(hint)} in one branch but {_type_name(case.outputs[name])} in another; every "
                        "branch must return the same types"
                    )
        return common

    def __repr__(self) -> str:
        return f"BranchEntity({self.name})"


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint)


class ConditionalSection:
    def __init__(self, name: str):
        parent = current_scope()
        if parent is None:
            raise CompileError(
                f"conditional '{name}' can only be used inside a @workflow or @dynamic body; outside, use a Python if"
            )
        self.name = name
        self.parent = parent
        # The branch node takes the next id of the enclosing scope when the conditional closes.
        self.node_id = parent.next_id()
        self.where = f"workflow {parent.workflow_name}, conditional '{name}' (node {self.node_id})"
        self.cases: list[Case] = []
        # Nodes of all cases share one nested scope (ids n0, n1, ... as flytekit numbers them).
        label = f"conditional '{name}' (node {self.node_id})"
        self.scope = TraceScope(parent.workflow_name, parent.prefix, label=label)
        self._case_start = 0
        self._done = False
        push_scope(self.scope)

    def if_(self, condition: Any) -> "CaseBuilder":
        if self.cases:
            raise CompileError(f"{self.where}: if_ comes once, first; use elif_ for further cases")
        return self._start(condition, "if_")

    def _start(self, condition: Any, statement: str) -> "CaseBuilder":
        if self._done:
            raise CompileError(f"{self.where}: the conditional is already complete after else_()")
        if statement != "else_":
            _check_condition(f"{self.where}, {statement}", condition)
        self._case_start = len(self.scope.nodes)
        return CaseBuilder(self, Case(condition if statement != "else_" else None), last=statement == "else_")

    def _finish_case(self, builder: "CaseBuilder", value: Any) -> Any:
        case = builder.case
        created = self.scope.nodes[self._case_start:]
        statement = "else_" if case.condition is None else ("if_" if not self.cases else "elif_")
        where = f"{self.where}, {statement}"
        if builder.failing:
            if created:
                raise CompileError(f"{where}: .fail(...) runs nothing; move the calls into a then(...) branch")
        else:
            case.node, case.outputs = _then_node(where, value, created)
        self.cases.append(case)
        if not builder.last:
            return _Chain(self)
        return self._close()

    def _close(self) -> Any:
        self._done = True
        pop_scope(self.scope)
        if len(self.cases) < 2:
            raise CompileError(f"{self.where}: needs an else_() case after if_(...)")
        inputs: dict[str, Promise] = {}
        for case in self.cases:
            if case.condition is None:
                continue
            for operand in case.condition.operands():
                if isinstance(operand, Promise):
                    inputs.setdefault(branch_input_var(operand), operand)
        entity = BranchEntity(self.name, self.where, self.cases, dict(sorted(inputs.items())))
        node = self.parent.add_node(entity, dict(entity.input_promises))
        return outputs_as_promises(node.id, entity.interface.outputs, None, node)


def _check_condition(where: str, condition: Any) -> None:
    if isinstance(condition, Promise):
        raise CompileError(
            f"{where}: a bare value is not a condition; write {condition.var}.is_true(), .is_false() or a comparison"
        )
    if isinstance(condition, bool):
        raise CompileError(
            f"{where}: the condition was evaluated by Python to {condition}; use & and | instead of and/or/not, "
            "and compare workflow values, not constants"
        )
    if not is_expression(condition):
        raise CompileError(
            f"{where}: expects a comparison (==, !=, <, <=, >, >=, is_true(), is_false(), is_none()) or a "
            f"combination with & and |, got {condition!r}"
        )


def _then_node(where: str, value: Any, created: list[Node]) -> tuple[Node, dict[str, Any]]:
    """The node a case runs and its outputs; the case must be exactly one call."""
    if isinstance(value, (Promise, VoidPromise)):
        node = value.node
        outputs = {value.var: value.python_type} if isinstance(value, Promise) else {}
    elif isinstance(value, tuple) and value and all(isinstance(v, Promise) for v in value):
        node = value[0].node
        outputs = {v.var: v.python_type for v in value}
    else:
        node, outputs = None, {}
    if node is None or node not in created:
        raise CompileError(
            f"{where}: then(...) takes the result of one call made inside it (a task, workflow, launch plan, "
            f"map task or nested conditional), got {value!r}"
        )
    if len(created) > 1:
        raise CompileError(
            f"{where}: then(...) may hold one call, but {len(created)} were made; put several calls in a "
            "@workflow and call that"
        )
    return node, outputs


class CaseBuilder:
    def __init__(self, section: ConditionalSection, case: Case, last: bool):
        self.section = section
        self.case = case
        self.last = last
        self.failing = False

    def then(self, value: Any) -> Any:
        return self.section._finish_case(self, value)

    def fail(self, message: str) -> Any:
        if not self.last:
            raise CompileError(f"{self.section.where}: only the else_() case can fail(...)")
        self.failing = True
        self.case.error = str(message)
        return self.section._finish_case(self, None)


class _Chain:
    """What `then(...)` returns before else_: the way to add the next case."""

    def __init__(self, section: ConditionalSection):
        self._section = section

    def elif_(self, condition: Any) -> CaseBuilder:
        return self._section._start(condition, "elif_")

    def else_(self) -> CaseBuilder:
        return self._section._start(None, "else_")

    def __getattr__(self, name: str) -> Any:
        raise CompileError(
            f"{self._section.where}: is not finished, so it has no '{name}'; end it with .else_().then(...) "
            "or .else_().fail(...)"
        )


def conditional(name: str) -> ConditionalSection:
    """Start a conditional inside a workflow; `name` names the branch node."""
    return ConditionalSection(name)

"""In-process execution: running tasks and workflows as plain Python calls.

Values cross every task boundary as literals (Python -> literal -> Python), as flytekit's
local execution does, so a value the type engine would reject in a container fails here too.
Gates ask the caller through `GateAnswers` (passed down as an argument, never global state);
how each node kind runs lives in `sdk.authoring.local_nodes`.
"""
from __future__ import annotations

import time
import typing
from dataclasses import dataclass
from typing import Any, Callable, Optional

from flyteidl.core import literals_pb2

from sdk.authoring.interface import Interface
from sdk.authoring.promise import Promise, WORKFLOW_INPUTS_NODE_ID, has_promises
from sdk.errors import CompileError, TypeTransformerError

Literals = dict[str, literals_pb2.Literal]


def _type_engine():
    from sdk.types import TypeEngine

    return TypeEngine


def to_literal_at(where: str, var: str, value: Any, hint: Any) -> literals_pb2.Literal:
    """A value as a literal; a type error names `where` (entity, node) and the variable."""
    try:
        return _type_engine().to_literal(value, hint)
    except TypeTransformerError as error:
        raise TypeTransformerError(f"{where}: variable '{var}': {error}") from error


def to_python_at(where: str, var: str, literal: literals_pb2.Literal, hint: Any) -> Any:
    try:
        return _type_engine().to_python_value(literal, hint)
    except TypeTransformerError as error:
        raise TypeTransformerError(f"{where}: variable '{var}': {error}") from error


def _call_inputs(kind: str, entity: Any, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call's inputs with defaults filled in; rejects positional, unknown and missing inputs."""
    where = f"{kind} {entity.name}"
    interface: Interface = entity.interface
    if args:
        raise CompileError(f"{where}: pass inputs by keyword, e.g. {entity.short_name}(x=...)")
    unknown = sorted(set(kwargs) - set(interface.inputs))
    if unknown:
        raise CompileError(f"{where}: unknown input '{unknown[0]}'; its inputs are {', '.join(interface.inputs) or 'none'}")
    values: dict[str, Any] = {}
    for name in interface.inputs:
        has_default, default = interface.default_for(name)
        if name not in kwargs and not has_default:
            raise CompileError(f"{where}: input '{name}' is missing; pass {name}=...")
        values[name] = kwargs.get(name, default)
    return values


def _inputs_to_literals(where: str, interface: Interface, values: dict[str, Any]) -> Literals:
    return {name: to_literal_at(where, name, values[name], interface.inputs[name]) for name in interface.inputs}


def _literals_to_python(where: str, types: dict[str, Any], literals: Literals) -> dict[str, Any]:
    return {name: to_python_at(where, name, literals[name], types[name]) for name in types}


def _result_to_literals(where: str, interface: Interface, result: Any) -> Literals:
    names = list(interface.outputs)
    if not names:
        return {}
    if len(names) == 1:
        values = [result]
    elif isinstance(result, tuple) and len(result) == len(names):
        values = list(result)
    else:
        count = len(result) if isinstance(result, tuple) else 1
        raise TypeTransformerError(
            f"{where}: returned {count} value(s) but declares {len(names)} outputs ({', '.join(names)})"
        )
    return {name: to_literal_at(where, name, value, interface.outputs[name]) for name, value in zip(names, values)}


def shape_outputs(interface: Interface, values: dict[str, Any]) -> Any:
    """None, a single value, a tuple, or the declared NamedTuple, as the function's caller expects."""
    ordered = [values[name] for name in interface.outputs]
    if not ordered:
        return None
    if interface.output_tuple is not None:
        return interface.output_tuple(*ordered)
    if len(ordered) == 1:
        return ordered[0]
    return tuple(ordered)


@dataclass(frozen=True)
class GateAnswers:
    """How gates get their answers in-process.

    on_input(gate name, expected python type) -> the value; on_approve(gate name, value) -> bool;
    sleep(seconds). Missing callbacks make the gate fail with a message saying how to answer.
    """

    on_input: Optional[Callable[[str, Any], Any]] = None
    on_approve: Optional[Callable[[str, Any], bool]] = None
    sleep: Callable[[float], None] = time.sleep


NO_ANSWERS = GateAnswers()


def run_task_literals(task: Any, inputs: Literals, answers: GateAnswers = NO_ANSWERS) -> Literals:
    where = f"task {task.name}"
    python_inputs = _literals_to_python(where, task.interface.inputs, inputs)
    if getattr(task, "is_dynamic", False):
        # Build the workflow for these values, then run it here (a container returns it instead).
        return run_graph_literals(task.trace(**python_inputs), {}, answers)
    return _result_to_literals(where, task.interface, task.execute(**python_inputs))


def resolve_binding(where: str, var: str, value: Any, hint: Any, produced: dict[str, Literals]) -> literals_pb2.Literal:
    if isinstance(value, Promise):
        return produced[value.node_id][value.var]
    if not has_promises(value):
        return to_literal_at(where, var, value, hint)
    args = typing.get_args(hint)
    if isinstance(value, list):
        item_type = args[0] if args else Any
        items = [resolve_binding(where, var, item, item_type, produced) for item in value]
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))
    value_type = args[1] if len(args) == 2 else Any
    entries = {str(k): resolve_binding(where, var, v, value_type, produced) for k, v in value.items()}
    return literals_pb2.Literal(map=literals_pb2.LiteralMap(literals=entries))


def run_graph_literals(workflow: Any, inputs: Literals, answers: GateAnswers = NO_ANSWERS) -> Literals:
    """Run a traced workflow's nodes in order on literals; return its output literals.

    A failed node stops the run (FAIL_IMMEDIATELY), or, under FAIL_AFTER_EXECUTABLE_NODES_COMPLETE,
    lets every node that does not depend on it run first; then the on_failure handler runs
    and the first failure is raised.
    """
    from sdk.authoring.local_nodes import run_failure_handler, run_node

    produced: dict[str, Literals] = {WORKFLOW_INPUTS_NODE_ID: inputs}
    keep_going = getattr(workflow, "failure_policy", 0) == 1
    first_failure: Optional[tuple[Any, BaseException]] = None
    stopped: set[str] = set()
    for node in workflow.nodes:
        if stopped.intersection(node.upstream_ids):
            stopped.add(node.id)
            continue
        try:
            produced[node.id] = run_node(node, produced, answers)
        except Exception as error:
            if first_failure is None:
                first_failure = (node, error)
            stopped.add(node.id)
            if not keep_going:
                break
    if first_failure is not None:
        failed_node, error = first_failure
        run_failure_handler(workflow, failed_node, error, inputs, answers)
        raise error
    where = f"workflow {workflow.name}"
    return {
        name: resolve_binding(where, name, value, workflow.interface.outputs[name], produced)
        for name, value in workflow.output_bindings.items()
    }


def run_entity_literals(entity: Any, inputs: Literals, answers: GateAnswers = NO_ANSWERS) -> Literals:
    from sdk.authoring.launch_plan import LaunchPlan
    from sdk.authoring.map_task import MapTask
    from sdk.authoring.workflow import WorkflowEntity

    if isinstance(entity, LaunchPlan):
        merged = {**inputs, **entity.fixed_literals()}
        return run_graph_literals(entity.workflow, merged, answers)
    if isinstance(entity, WorkflowEntity):
        return run_graph_literals(entity, inputs, answers)
    if isinstance(entity, MapTask):
        from sdk.authoring.local_nodes import run_map_task

        return run_map_task(entity, inputs, answers)
    return run_task_literals(entity, inputs, answers)


def run_call(kind: str, entity: Any, args: tuple, kwargs: dict[str, Any], answers: GateAnswers = NO_ANSWERS) -> Any:
    where = f"{kind} {entity.name}"
    values = _call_inputs(kind, entity, args, kwargs)
    outputs = run_entity_literals(entity, _inputs_to_literals(where, entity.interface, values), answers)
    return shape_outputs(entity.interface, _literals_to_python(where, entity.interface.outputs, outputs))


def run_task(task: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
    return run_call("task", task, args, kwargs)


def run_workflow(workflow: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
    return run_call("workflow", workflow, args, kwargs)


def run_traced_graph(graph: Any, answers: GateAnswers = NO_ANSWERS) -> Any:
    """Run a graph a @dynamic body built; return Python outputs shaped as its function returns them."""
    outputs = run_graph_literals(graph, {}, answers)
    return shape_outputs(graph.interface, _literals_to_python(f"dynamic task {graph.name}", graph.interface.outputs, outputs))


def run_locally(
    entity: Any,
    inputs: Optional[dict[str, Any]] = None,
    *,
    on_input: Optional[Callable[[str, Any], Any]] = None,
    on_approve: Optional[Callable[[str, Any], bool]] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Run a task, workflow, launch plan or map task in this process, answering gates with the callbacks.

    Same result as calling the entity; `entity(**inputs)` is `run_locally(entity, inputs)`.
    """
    return run_with_answers(entity, inputs, GateAnswers(on_input, on_approve, sleep))


def run_with_answers(entity: Any, inputs: Optional[dict[str, Any]], answers: GateAnswers) -> Any:
    """`run_locally` with a ready GateAnswers (e.g. sdk.authoring.prompts.console_answers())."""
    from sdk.authoring.launch_plan import LaunchPlan
    from sdk.authoring.workflow import WorkflowEntity

    kind = "workflow" if isinstance(entity, WorkflowEntity) else "launch plan" if isinstance(entity, LaunchPlan) else "task"
    return run_call(kind, entity, (), dict(inputs or {}), answers)

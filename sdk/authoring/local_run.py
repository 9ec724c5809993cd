"""In-process execution: running tasks and workflows as plain Python calls.

Values cross every task boundary as literals (Python -> literal -> Python), as flytekit's
local execution does, so a value the type engine would reject in a container fails here too.
"""
from __future__ import annotations

import typing
from typing import Any

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


def _to_python(where: str, var: str, literal: literals_pb2.Literal, hint: Any) -> Any:
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
    return {name: _to_python(where, name, literals[name], types[name]) for name in types}


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


def run_task_literals(task: Any, inputs: Literals) -> Literals:
    where = f"task {task.name}"
    python_inputs = _literals_to_python(where, task.interface.inputs, inputs)
    return _result_to_literals(where, task.interface, task.execute(**python_inputs))


def _resolve_binding(where: str, var: str, value: Any, hint: Any, produced: dict[str, Literals]) -> literals_pb2.Literal:
    if isinstance(value, Promise):
        return produced[value.node_id][value.var]
    if not has_promises(value):
        return to_literal_at(where, var, value, hint)
    args = typing.get_args(hint)
    if isinstance(value, list):
        item_type = args[0] if args else Any
        items = [_resolve_binding(where, var, item, item_type, produced) for item in value]
        return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=items))
    value_type = args[1] if len(args) == 2 else Any
    entries = {str(k): _resolve_binding(where, var, v, value_type, produced) for k, v in value.items()}
    return literals_pb2.Literal(map=literals_pb2.LiteralMap(literals=entries))


def run_graph_literals(workflow: Any, inputs: Literals) -> Literals:
    """Run a traced workflow's nodes in order on literals; return its output literals."""
    produced: dict[str, Literals] = {WORKFLOW_INPUTS_NODE_ID: inputs}
    for node in workflow.nodes:
        where = f"workflow {workflow.name}, node {node.id} ({node.entity.name})"
        node_inputs = {
            name: _resolve_binding(where, name, value, node.entity.interface.inputs[name], produced)
            for name, value in node.bindings.items()
        }
        produced[node.id] = run_entity_literals(node.entity, node_inputs)
    where = f"workflow {workflow.name}"
    return {
        name: _resolve_binding(where, name, value, workflow.interface.outputs[name], produced)
        for name, value in workflow.output_bindings.items()
    }


def run_entity_literals(entity: Any, inputs: Literals) -> Literals:
    from sdk.authoring.launch_plan import LaunchPlan
    from sdk.authoring.workflow import WorkflowEntity

    if isinstance(entity, LaunchPlan):
        merged = {**inputs, **entity.fixed_literals()}
        return run_graph_literals(entity.workflow, merged)
    if isinstance(entity, WorkflowEntity):
        return run_graph_literals(entity, inputs)
    return run_task_literals(entity, inputs)


def run_call(kind: str, entity: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
    where = f"{kind} {entity.name}"
    values = _call_inputs(kind, entity, args, kwargs)
    outputs = run_entity_literals(entity, _inputs_to_literals(where, entity.interface, values))
    return shape_outputs(entity.interface, _literals_to_python(where, entity.interface.outputs, outputs))


def run_task(task: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
    return run_call("task", task, args, kwargs)


def run_workflow(workflow: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
    return run_call("workflow", workflow, args, kwargs)

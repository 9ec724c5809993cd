"""Checks Flyte admin makes before it accepts a workflow, done before anything is written.

Every error names the workflow, the node and the variable, and says what to change.
"""
from __future__ import annotations

import typing
from typing import Any

from sdk.authoring.condition import BranchEntity
from sdk.authoring.promise import WORKFLOW_INPUTS_NODE_ID, Promise, has_promises
from sdk.authoring.workflow import WorkflowEntity
from sdk.compile.types_bridge import describe, literal, literal_type, types_match
from sdk.errors import CompileError


def _source(node_id: str) -> str:
    return "the workflow inputs" if node_id == WORKFLOW_INPUTS_NODE_ID else f"node {node_id}"


def _check_value(where: str, var: str, value: Any, hint: Any, produced: dict[str, dict[str, Any]]) -> None:
    if isinstance(value, Promise):
        if value.node_id not in produced:
            raise CompileError(f"{where}: input '{var}' is bound to node '{value.node_id}', which does not exist")
        outputs = produced[value.node_id]
        if value.var not in outputs:
            raise CompileError(
                f"{where}: input '{var}' is bound to '{value.var}', which {_source(value.node_id)} does not have; "
                f"it has {', '.join(outputs) or 'nothing'}"
            )
        upstream = literal_type(where, value.var, outputs[value.var])
        downstream = literal_type(where, var, hint)
        if not types_match(upstream, downstream):
            raise CompileError(
                f"{where}: input '{var}' expects {describe(downstream)} but is bound to '{value.var}' of "
                f"{_source(value.node_id)}, which is {describe(upstream)}; pass a value of the declared type"
            )
        return
    if not has_promises(value):
        literal(where, var, value, hint)
        return
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    args, origin = typing.get_args(hint), typing.get_origin(hint)
    if isinstance(value, list) and origin is list:
        for item in value:
            _check_value(where, var, item, args[0], produced)
    elif isinstance(value, dict) and origin is dict:
        for item in value.values():
            _check_value(where, var, item, args[1], produced)
    else:
        raise CompileError(
            f"{where}: input '{var}' expects {describe(literal_type(where, var, hint))} but is bound to a "
            f"{type(value).__name__} of promises; pass a value of the declared type"
        )


def _check_node(node: Any, produced: dict[str, dict[str, Any]]) -> None:
    where = f"workflow {node.workflow_name}, node {node.id} ({node.entity.name})"
    inputs = node.entity.interface.inputs
    for name in node.bindings:
        if name not in inputs:
            raise CompileError(f"{where}: unknown input '{name}'; its inputs are {', '.join(inputs) or 'none'}")
    for name, hint in inputs.items():
        if name not in node.bindings:
            raise CompileError(f"{where}: input '{name}' is not bound; pass {name}=... in the call")
        _check_value(where, name, node.bindings[name], hint, produced)
    for upstream in node.run_after_ids:
        if upstream not in produced:
            raise CompileError(f"{where}: is ordered after node '{upstream}', which does not exist")
    if isinstance(node.entity, BranchEntity):
        # A case's node reads values of the enclosing workflow, never of another case.
        for case in node.entity.cases:
            if case.node is not None:
                _check_node(case.node, produced)


def _check_acyclic(workflow: WorkflowEntity) -> None:
    upstream = {node.id: set(node.upstream_ids) for node in workflow.nodes}
    done: set[str] = set()
    while len(done) < len(upstream):
        ready = [n for n, deps in upstream.items() if n not in done and deps <= done]
        if not ready:
            stuck = sorted(n for n in upstream if n not in done)
            raise CompileError(
                f"workflow {workflow.name}: nodes {', '.join(stuck)} depend on each other in a cycle; "
                "break the cycle so every node can start after its inputs exist"
            )
        done.update(ready)


def validate_workflow(workflow: WorkflowEntity) -> None:
    if not workflow.nodes:
        raise CompileError(
            f"workflow {workflow.name}: has no nodes, and Flyte admin rejects an empty workflow; call at least "
            "one task in it"
        )
    produced: dict[str, dict[str, Any]] = {WORKFLOW_INPUTS_NODE_ID: workflow.interface.inputs}
    for node in workflow.nodes:
        if node.id in produced:
            raise CompileError(f"workflow {workflow.name}: node id '{node.id}' is used twice; node ids must be unique")
        produced[node.id] = node.entity.interface.outputs
    for node in workflow.nodes:
        _check_node(node, produced)
    if getattr(workflow, "failure_node", None) is not None:
        _check_node(workflow.failure_node, {WORKFLOW_INPUTS_NODE_ID: workflow.interface.inputs})
    _check_acyclic(workflow)
    where = f"workflow {workflow.name}"
    for name, hint in workflow.interface.outputs.items():
        if name not in workflow.output_bindings:
            raise CompileError(f"{where}: output '{name}' is not bound; return a value for every declared output")
        _check_value(f"{where}, outputs", name, workflow.output_bindings[name], hint, produced)

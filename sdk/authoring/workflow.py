"""`@workflow`: a function whose task calls are traced into a DAG of nodes."""
from __future__ import annotations

import enum
from typing import Any, Callable, Optional

from sdk.authoring.interface import Interface, interface_from_function, is_optional
from sdk.authoring.naming import entity_name
from sdk.authoring.promise import WORKFLOW_INPUTS_NODE_ID, Promise, VoidPromise
from sdk.authoring.tracing import Node, TraceScope, current_scope, tracing
from sdk.errors import CompileError, SkiffError


# False inside a task container (sdk.entrypoint sets it before importing the task's module):
# there a module's workflows are never run, so their bodies are traced only if something asks
# for their nodes, not on import (a module with a 1000-node workflow imports in 18 ms instead
# of 28). Everywhere else a workflow is traced when it is decorated, so that
# a broken body is reported at once.
TRACE_ON_DECORATION = True


class WorkflowFailurePolicy(enum.IntEnum):
    """What a failed node does to the rest of the workflow (values as core.WorkflowMetadata's)."""

    FAIL_IMMEDIATELY = 0
    FAIL_AFTER_EXECUTABLE_NODES_COMPLETE = 1


def trace_function(
    where: str, workflow_name: str, function: Callable, kwargs: dict[str, Any], prefix: str = ""
) -> tuple[list[Node], Any]:
    """Run `function(**kwargs)` under a tracing scope; return (the nodes it added, its result)."""
    with tracing(workflow_name, prefix) as scope:
        try:
            result = function(**kwargs)
        except SkiffError:
            raise
        except Exception as error:  # e.g. arithmetic on a promise
            raise CompileError(
                f"{where}: tracing its body failed with {type(error).__name__}: {error}; a "
                "workflow only wires task calls together, so compute values inside a task"
            ) from error
        _check_closed(where, scope)
    return scope.nodes, result


def _check_closed(where: str, scope: TraceScope) -> None:
    inner = current_scope()
    if inner is not scope:
        raise CompileError(
            f"{where}: {inner.label or 'a conditional'} is left unfinished; end it with .else_().then(...) "
            "or .else_().fail(...)"
        )


def bind_outputs(where: str, interface: Interface, result: Any) -> dict[str, Any]:
    """Output name -> the promise or constant the traced body returned for it."""
    if isinstance(result, VoidPromise):
        result = None
    names = list(interface.outputs)
    if not names:
        if result is not None:
            raise CompileError(f"{where}: returns a value but declares no outputs; add a return annotation")
        return {}
    if result is None:
        raise CompileError(f"{where}: output '{names[0]}' is not bound; return a value for every declared output")
    if len(names) == 1:
        return {names[0]: result}
    if not isinstance(result, tuple) or len(result) != len(names):
        raise CompileError(
            f"{where}: declares {len(names)} outputs ({', '.join(names)}) but returns "
            f"{len(result) if isinstance(result, tuple) else 1} value(s); return one value per output"
        )
    return dict(zip(names, result))


class WorkflowEntity:
    """A traced workflow: `.nodes` in call order and `.output_bindings` (output name -> value)."""

    def __init__(
        self,
        function: Callable,
        failure_policy: Optional[WorkflowFailurePolicy] = None,
        on_failure: Any = None,
    ):
        self.function = function
        self.name = entity_name(function)
        self.interface = interface_from_function(f"workflow {self.name}", function)
        self.failure_policy = WorkflowFailurePolicy(failure_policy or WorkflowFailurePolicy.FAIL_IMMEDIATELY)
        self.on_failure = on_failure
        self.__doc__ = function.__doc__
        self.__name__ = function.__name__
        self.__module__ = function.__module__
        self._traced: Optional[tuple[list[Node], dict[str, Any], Optional[Node]]] = None
        if TRACE_ON_DECORATION:
            self._trace()

    def _trace(self) -> tuple[list[Node], dict[str, Any], Optional[Node]]:
        if self._traced is None:
            where = f"workflow {self.name}"
            nodes, result = trace_function(where, self.name, self.function, self._input_promises())
            bindings = bind_outputs(where, self.interface, result)
            failure = self._trace_failure_node() if self.on_failure is not None else None
            self._traced = (nodes, bindings, failure)
        return self._traced

    @property
    def nodes(self) -> list[Node]:
        """The traced nodes, in call order."""
        return self._trace()[0]

    @property
    def output_bindings(self) -> dict[str, Any]:
        """Output name -> the value the body returned for it."""
        return self._trace()[1]

    @property
    def failure_node(self) -> Optional[Node]:
        """The on_failure handler's node `fn0`, or None."""
        return self._trace()[2]

    def _input_promises(self) -> dict[str, Promise]:
        return {name: Promise(WORKFLOW_INPUTS_NODE_ID, name, hint) for name, hint in self.interface.inputs.items()}

    def _trace_failure_node(self) -> Node:
        """The on_failure handler as node `fn0`, called with the workflow's inputs, as flytekit builds it."""
        handler = self.on_failure
        where = f"workflow {self.name}: on_failure handler {getattr(handler, 'name', handler)!r}"
        handler_inputs = getattr(getattr(handler, "interface", None), "inputs", None)
        if handler_inputs is None or not callable(handler):
            raise CompileError(f"{where} must be a @task or @workflow")
        for name, hint in self.interface.inputs.items():
            if name not in handler_inputs or handler_inputs[name] != hint:
                raise CompileError(
                    f"{where}: must accept every workflow input with the same type; input '{name}' is "
                    "missing or differs"
                )
        for name in handler_inputs:
            if name not in self.interface.inputs and not is_optional(handler_inputs[name]):
                raise CompileError(
                    f"{where}: its input '{name}' is not a workflow input, so it must be Optional "
                    f"(e.g. {name}: Optional[str] = None, which receives the error message)"
                )
        nodes, _ = trace_function(where, self.name, lambda **kw: handler(**kw), self._input_promises(), "f")
        if len(nodes) != 1:
            raise CompileError(f"{where}: must be a single task or workflow call")
        return nodes[0]

    @property
    def short_name(self) -> str:
        return self.function.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        scope = current_scope()
        if scope is not None:
            return scope.add_call(self, args, kwargs)
        from sdk.authoring.local_run import run_workflow

        return run_workflow(self, args, kwargs)

    def __repr__(self) -> str:
        return f"WorkflowEntity({self.name})"


def workflow(
    _function: Callable | None = None,
    *,
    failure_policy: Optional[WorkflowFailurePolicy] = None,
    on_failure: Any = None,
) -> Any:
    """Declare a workflow; its body is traced once, when it is decorated.

    `failure_policy` (WorkflowFailurePolicy) and `on_failure` (a task or workflow taking the
    workflow's inputs, plus an optional `err`) are spelled as in flytekit.
    """

    def wrap(function: Callable) -> WorkflowEntity:
        return WorkflowEntity(function, failure_policy, on_failure)

    return wrap(_function) if _function is not None else wrap

"""`@workflow`: a function whose task calls are traced into a DAG of nodes."""
from __future__ import annotations

from typing import Any, Callable

from sdk.authoring.interface import interface_from_function
from sdk.authoring.naming import entity_name
from sdk.authoring.promise import WORKFLOW_INPUTS_NODE_ID, Promise
from sdk.authoring.tracing import Node, current_scope, tracing
from sdk.errors import CompileError, SkiffError


class WorkflowEntity:
    """A traced workflow: `.nodes` in call order and `.output_bindings` (output name -> value)."""

    def __init__(self, function: Callable):
        self.function = function
        self.name = entity_name(function)
        self.interface = interface_from_function(f"workflow {self.name}", function)
        self.__doc__ = function.__doc__
        self.__name__ = function.__name__
        self.__module__ = function.__module__
        with tracing(self.name) as scope:
            inputs = {
                name: Promise(WORKFLOW_INPUTS_NODE_ID, name, hint) for name, hint in self.interface.inputs.items()
            }
            try:
                result = function(**inputs)
            except SkiffError:
                raise
            except Exception as error:  # e.g. arithmetic on a promise
                raise CompileError(
                    f"workflow {self.name}: tracing its body failed with {type(error).__name__}: {error}; a "
                    "workflow only wires task calls together, so compute values inside a task"
                ) from error
        self.nodes: list[Node] = scope.nodes
        self.output_bindings: dict[str, Any] = self._bind_outputs(result)

    @property
    def short_name(self) -> str:
        return self.function.__name__

    def _bind_outputs(self, result: Any) -> dict[str, Any]:
        names = list(self.interface.outputs)
        if not names:
            if result is not None:
                raise CompileError(
                    f"workflow {self.name}: returns a value but declares no outputs; add a return annotation"
                )
            return {}
        if result is None:
            raise CompileError(
                f"workflow {self.name}: output '{names[0]}' is not bound; return a value for every declared output"
            )
        if len(names) == 1:
            return {names[0]: result}
        if not isinstance(result, tuple) or len(result) != len(names):
            raise CompileError(
                f"workflow {self.name}: declares {len(names)} outputs ({', '.join(names)}) but returns "
                f"{len(result) if isinstance(result, tuple) else 1} value(s); return one value per output"
            )
        return dict(zip(names, result))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        scope = current_scope()
        if scope is not None:
            return scope.add_call(self, args, kwargs)
        from sdk.authoring.local_run import run_workflow

        return run_workflow(self, args, kwargs)

    def __repr__(self) -> str:
        return f"WorkflowEntity({self.name})"


def workflow(_function: Callable | None = None) -> Any:
    """Declare a workflow; its body is traced once, when it is decorated."""

    def wrap(function: Callable) -> WorkflowEntity:
        return WorkflowEntity(function)

    return wrap(_function) if _function is not None else wrap

"""`@dynamic`: a task whose body, run with real input values, builds a workflow.

It is a python-task like any other in the package (flytekit too gives it the plain task type);
what differs is what running it means: in-process the built graph runs right away; in a
container the entrypoint compiles the graph into a `core.DynamicJobSpec` (futures.pb, see
`sdk.compile.dynamic_spec.compile_dynamic_job_spec`) for the engine to run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from sdk.authoring.interface import Interface
from sdk.authoring.task import PythonFunctionTask, task_options
from sdk.authoring.tracing import Node

# flytekit numbers the nodes of a dynamic workflow dn0, dn1, ...
DYNAMIC_NODE_PREFIX = "d"


@dataclass
class TracedGraph:
    """A workflow built at run time: shaped like WorkflowEntity where the runner and compiler look."""

    name: str
    interface: Interface
    nodes: list[Node]
    output_bindings: dict[str, Any]
    failure_node: Optional[Node] = None
    failure_policy: int = 0

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]


class DynamicTask(PythonFunctionTask):
    is_dynamic = True

    def trace(self, **python_inputs: Any) -> TracedGraph:
        """Run the body on real values, with calls traced into nodes."""
        from sdk.authoring.workflow import bind_outputs, trace_function

        where = f"dynamic task {self.name}"
        nodes, result = trace_function(where, self.name, self.function, python_inputs, DYNAMIC_NODE_PREFIX)
        outputs = bind_outputs(where, self.interface, result)
        return TracedGraph(self.name, self.interface, nodes, outputs)

    def execute(self, **kwargs: Any) -> Any:
        """Build the graph for these inputs and run it in this process."""
        from sdk.authoring.local_run import run_traced_graph

        return run_traced_graph(self.trace(**kwargs))

    def __repr__(self) -> str:
        return f"DynamicTask({self.name})"


def dynamic(_function: Optional[Callable] = None, **options: Any) -> Any:
    """Declare a dynamic workflow task; takes the same options as @task."""
    resolved = task_options(**options)

    def wrap(function: Callable) -> DynamicTask:
        return DynamicTask(function, **resolved)

    return wrap(_function) if _function is not None else wrap

"""`compile_dynamic_job_spec`: what a @dynamic task's container returns, as flytekit builds it.

The task's body runs on its real inputs with calls traced (node ids dn0, dn1, ...); the graph
becomes a `core.DynamicJobSpec` (nodes, the templates of every task they run, the output
bindings, the subworkflows they call) that the entrypoint writes as `futures.pb` under the
output prefix. A body that calls nothing gives its outputs directly, as a `core.LiteralMap` for
`outputs.pb`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Union

from flyteidl.core import dynamic_job_pb2, literals_pb2, tasks_pb2

from sdk.authoring.local_run import resolve_binding
from sdk.authoring.map_task import MapTask
from sdk.authoring.task import PythonFunctionTask
from sdk.compile.bindings import binding
from sdk.compile.identifiers import dynamic_job_identifiers, fill_empty
from sdk.compile.nodes import compile_node
from sdk.compile.task_spec import task_spec
from sdk.compile.validate import validate_workflow
from sdk.compile.workflow_spec import all_nodes, subworkflows, workflow_template
from sdk.errors import CompileError

FUTURES_FILE = "futures.pb"
CODE_BUNDLE_PLACEHOLDER = "{{ .remote_package_path }}"
DEST_DIR_PLACEHOLDER = "{{ .dest_dir }}"


def _task_templates(graph: Any, image: str, code_bundle: str) -> list[tasks_pb2.TaskTemplate]:
    """Templates of every task the graph (and its subworkflows) runs, each once, in first-use order."""
    found: dict[str, Any] = {}
    for workflow in [graph, *subworkflows(graph)]:
        for node in all_nodes(workflow):
            if isinstance(node.entity, (PythonFunctionTask, MapTask)):
                found.setdefault(node.entity.name, node.entity)
    templates = []
    for entity in found.values():
        template = task_spec(entity, image).template
        if code_bundle:
            # As registration does for packaged tasks (docs/contracts.md, "Package").
            args = [a.replace(CODE_BUNDLE_PLACEHOLDER, code_bundle).replace(DEST_DIR_PLACEHOLDER, ".")
                    for a in template.container.args]
            del template.container.args[:]
            template.container.args.extend(args)
        templates.append(template)
    return templates


@dataclass(frozen=True)
class DynamicIds:
    """Project, domain and version for the identifiers a dynamic job spec carries."""

    project: str
    domain: str
    version: str

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "DynamicIds":
        """As flytekit's entrypoint: the execution's project and domain, the running task's
        version (a cluster sets the FLYTE_INTERNAL_* variables; Skiff's engine does too)."""
        return cls(environ.get("FLYTE_INTERNAL_EXECUTION_PROJECT", ""),
                   environ.get("FLYTE_INTERNAL_EXECUTION_DOMAIN", ""),
                   environ.get("FLYTE_INTERNAL_TASK_VERSION", ""))


def compile_dynamic_job_spec(
    task: Any, inputs: dict[str, Any], image: str, code_bundle: str = "",
    ids: Optional[DynamicIds] = None,
) -> Union[dynamic_job_pb2.DynamicJobSpec, literals_pb2.LiteralMap]:
    """The DynamicJobSpec `task` builds for Python `inputs`, or its outputs when it calls nothing.

    `image` is the default image of the tasks it runs (the container finds it in the
    SKIFF_DYNAMIC_DEFAULT_IMAGE variable); `code_bundle`, when given, replaces the code bundle
    placeholder in their arguments, so they run the same code as the dynamic task itself.
    `ids` fill every identifier's empty project, domain and version (a cluster's admin refuses
    task events whose ids lack them).
    """
    if not getattr(task, "is_dynamic", False):
        raise CompileError(f"task {getattr(task, 'name', task)} is not a @dynamic task; only those build a workflow")
    graph = task.trace(**inputs)
    where = f"dynamic task {task.name}"
    if not graph.nodes:
        outputs = literals_pb2.LiteralMap()
        for name, value in graph.output_bindings.items():
            outputs.literals[name].CopyFrom(resolve_binding(where, name, value, task.interface.outputs[name], {}))
        return outputs
    validate_workflow(graph)
    spec = dynamic_job_pb2.DynamicJobSpec(
        nodes=[compile_node(node) for node in graph.nodes],
        min_successes=len(graph.nodes),
        outputs=[binding(where, name, graph.output_bindings[name], task.interface.outputs[name])
                 for name in task.interface.outputs],
        tasks=_task_templates(graph, image, code_bundle),
        subworkflows=[workflow_template(sub) for sub in subworkflows(graph)],
    )
    if ids is not None:
        for ident in dynamic_job_identifiers(spec):
            fill_empty(ident, ids.project, ids.domain, ids.version)
    return spec

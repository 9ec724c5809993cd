"""A PythonFunctionTask (or @dynamic, or map task) -> admin.TaskSpec, laid out as flytekit
serializes a python-task."""
from __future__ import annotations

from importlib import metadata as importlib_metadata
from typing import Any

from flyteidl.admin import description_entity_pb2, task_pb2
from flyteidl.core import literals_pb2, security_pb2, tasks_pb2, workflow_pb2

from sdk.authoring.map_task import MapTask
from sdk.authoring.naming import module_of
from sdk.authoring.resources import Resources
from sdk.compile.identifiers import task_identifier
from sdk.compile.interfaces import typed_interface
from sdk.errors import CompileError
from sdk.secret_names import check_secret_names

# Resources field -> core.Resources.ResourceName
_RESOURCE_NAMES = {
    "cpu": tasks_pb2.Resources.CPU,
    "mem": tasks_pb2.Resources.MEMORY,
    "gpu": tasks_pb2.Resources.GPU,
    "ephemeral_storage": tasks_pb2.Resources.EPHEMERAL_STORAGE,
}

# Flyte fills the {{...}} templates when it starts the container; registration fills the code
# bundle's path and destination (see docs/contracts.md "Package").
_EXECUTE_ARGS = [
    "skiff-execute",
    "--inputs", "{{.input}}",
    "--output-prefix", "{{.outputPrefix}}",
    "--raw-output-data-prefix", "{{.rawOutputDataPrefix}}",
    "--checkpoint-path", "{{.checkpointOutputPrefix}}",
    "--prev-checkpoint", "{{.prevCheckpointPrefix}}",
    "--code-bundle", "{{ .remote_package_path }}",
    "--dest-dir", "{{ .dest_dir }}",
]  # fmt: skip


def sdk_version() -> str:
    try:
        return importlib_metadata.version("skiff")
    except importlib_metadata.PackageNotFoundError:
        return "0.0.0"


# A map task's container runs one item of the mapped task (see docs/contracts.md, "Map tasks").
MAP_TASK_FLAG = "--map-task"


def container_args(task: Any, fast: bool = True) -> list[str]:
    """skiff-execute's arguments; without `fast` (`--copy none`) no code bundle is fetched:
    the image holds the code, as in a flytekit package written without fast registration."""
    execute = _EXECUTE_ARGS if fast else _EXECUTE_ARGS[:_EXECUTE_ARGS.index("--code-bundle")]
    args = [*execute, "--task-module", module_of(task.function), "--task-name", task.function.__name__]
    if isinstance(task, MapTask):
        args.append(MAP_TASK_FLAG)
        if task.bound_inputs:
            args += ["--map-bound-inputs", ",".join(task.bound_inputs)]
    return args


def resource_entries(resources: Resources) -> list[tasks_pb2.Resources.ResourceEntry]:
    """Entries of a node override, in flytekit's order for overrides (cpu, mem, gpu, storage)."""
    return [tasks_pb2.Resources.ResourceEntry(name=_RESOURCE_NAMES[k], value=v) for k, v in resources.items()]


# flytekit writes a task container's requests and limits in this order (its container
# definition lists them by hand), unlike the overrides above: the same bytes need the same order.
_CONTAINER_ORDER = ("ephemeral_storage", "cpu", "gpu", "mem")


def container_resource_entries(resources: Resources) -> list[tasks_pb2.Resources.ResourceEntry]:
    """Entries of a task container, in flytekit's container order; empty values are left out."""
    values = dict(resources.items())
    return [tasks_pb2.Resources.ResourceEntry(name=_RESOURCE_NAMES[k], value=values[k])
            for k in _CONTAINER_ORDER if values.get(k)]


# TaskMetadata.tags entry of `@task(reuse_container=True)`: a Skiff sandbox runs the task in a
# warm worker (sandbox.runtime.warm_pool) even when the run did not ask for reuse.
REUSE_CONTAINER_TAG = "skiff.reuse-container"


def _task_metadata(task: Any) -> tasks_pb2.TaskMetadata:
    meta = task.metadata
    out = tasks_pb2.TaskMetadata(
        discoverable=meta.cache,
        runtime=tasks_pb2.RuntimeMetadata(
            type=tasks_pb2.RuntimeMetadata.FLYTE_SDK, version=sdk_version(), flavor="python"
        ),
        retries=literals_pb2.RetryStrategy(retries=meta.retries),
        discovery_version=meta.cache_version if meta.cache else "",
        cache_serializable=meta.cache_serialize,
        cache_ignore_input_vars=list(meta.cache_ignore_input_vars),
    )
    if meta.timeout is not None:
        out.timeout.FromTimedelta(meta.timeout)
    if meta.interruptible is not None:
        out.interruptible = meta.interruptible
    if getattr(meta, "reuse_container", False):
        # A tag, which Flyte stores and ignores: the task's IDL is Flyte's own, and a cluster
        # runs it in a pod per attempt as ever; only a Skiff sandbox reads it.
        out.tags[REUSE_CONTAINER_TAG] = "true"
    # Set but false, as flytekit writes them.
    out.generates_deck.value = False
    out.metadata.SetInParent()
    return out


def node_metadata(name: str, task: Any) -> workflow_pb2.NodeMetadata:
    """A task node's metadata: timeout, retries and interruptible copied from the task, as flytekit does."""
    meta = task.metadata
    out = workflow_pb2.NodeMetadata(name=name, retries=literals_pb2.RetryStrategy(retries=meta.retries))
    if meta.timeout is not None:
        out.timeout.FromTimedelta(meta.timeout)
    if meta.interruptible is not None:
        out.interruptible = meta.interruptible
    return out


def description(docstring) -> description_entity_pb2.DescriptionEntity:
    long = description_entity_pb2.Description(format=description_entity_pb2.DESCRIPTION_FORMAT_RST)
    if docstring.long_description:  # `value` is in a oneof: only set it when there is text
        long.value = docstring.long_description
    return description_entity_pb2.DescriptionEntity(
        short_description=docstring.short_description, long_description=long
    )


# A @dynamic task compiles tasks at run time; they default to the image the package was built
# for, which its container learns from here (flytekit passes its serialization settings likewise).
DYNAMIC_IMAGE_ENV = "SKIFF_DYNAMIC_DEFAULT_IMAGE"


def _environment(task: Any, image: str) -> dict[str, str]:
    env = dict(task.environment)
    if getattr(task, "is_dynamic", False):
        env[DYNAMIC_IMAGE_ENV] = image
    return env


def task_spec(task: Any, image: str, fast: bool = True) -> task_pb2.TaskSpec:
    container = tasks_pb2.Container(
        image=task.container_image or image,
        args=container_args(task, fast),
        resources=tasks_pb2.Resources(
            requests=container_resource_entries(task.resources.requests),
            limits=container_resource_entries(task.resources.limits),
        ),
        env=[literals_pb2.KeyValuePair(key=k, value=v) for k, v in _environment(task, image).items()],
    )
    template = tasks_pb2.TaskTemplate(
        id=task_identifier(task.name),
        type=task.task_type,
        metadata=_task_metadata(task),
        interface=typed_interface(f"task {task.name}", task.interface),
        container=container,
        task_type_version=getattr(task, "task_type_version", 0),
    )
    if task.secret_requests:
        for s in task.secret_requests:
            check_secret_names(f"task {task.name}", s.group, s.key or "", s.group_version or "",
                               error=CompileError)
        template.security_context.CopyFrom(
            security_pb2.SecurityContext(
                secrets=[
                    security_pb2.Secret(group=s.group, key=s.key or "", group_version=s.group_version or "")
                    for s in task.secret_requests
                ]
            )
        )
    if isinstance(task, MapTask):
        return task_pb2.TaskSpec(template=template)  # flytekit gives a map task no description
    return task_pb2.TaskSpec(template=template, description=description(task.interface.docstring))

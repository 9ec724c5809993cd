"""`map_task(task, concurrency=..., min_success_ratio=...)`: one task run over the items of lists.

Compiled as flytekit 1.16 compiles an ArrayNode map task: a task entity of its own, named
`<module>.map_<function>_<md5 of the settings>-arraynode`, whose interface is the task's with
every input and the output lifted to lists (outputs to lists of Optional when some items may
fail), and a workflow node holding an array_node around that task.
"""
from __future__ import annotations

import functools
import typing
from typing import Any, Optional

from sdk.authoring.interface import Interface
from sdk.authoring.naming import module_of
from sdk.authoring.tracing import current_scope
from sdk.errors import CompileError


def _md5(data: bytes):
    """MD5 from Python's built-in module: `hashlib` loads OpenSSL (~2.5 ms), which every task
    container whose module maps a task would pay (its workflow is compiled at import)."""
    try:
        from _md5 import md5
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import md5
    return md5(data)


class MapTask:
    # What the engine and the entrypoint learn from the task template (see docs/contracts.md).
    task_type_version = 1

    def __init__(
        self,
        task: Any,
        concurrency: Optional[int] = None,
        min_successes: Optional[int] = None,
        min_success_ratio: Optional[float] = 1.0,
    ):
        from sdk.authoring.task import PythonFunctionTask

        # functools.partial(task, y=...) binds inputs: they are passed whole to every item.
        self.bound_values: dict[str, Any] = {}
        if isinstance(task, functools.partial):
            if task.args:
                raise CompileError(f"map_task({task.func!r}): bind inputs of the partial by keyword")
            self.bound_values = dict(task.keywords)
            task = task.func
        where = f"map_task({getattr(task, 'name', task)!r})"
        if not isinstance(task, PythonFunctionTask) or getattr(task, "is_dynamic", False):
            raise CompileError(f"{where}: can map only a plain @task (not a workflow, launch plan or @dynamic)")
        if len(task.interface.outputs) > 1:
            raise CompileError(
                f"{where}: task {task.name} has {len(task.interface.outputs)} outputs; a mapped task may have at "
                "most one (return a dataclass to carry several values)"
            )
        if concurrency is not None and (isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 0):
            raise CompileError(f"{where}: concurrency must be a whole number >= 0 (0: no limit), got {concurrency!r}")
        if min_success_ratio is not None and not (0 <= float(min_success_ratio) <= 1):
            raise CompileError(f"{where}: min_success_ratio must be between 0 and 1, got {min_success_ratio!r}")
        unknown = sorted(set(self.bound_values) - set(task.interface.inputs))
        if unknown:
            raise CompileError(f"{where}: binds '{unknown[0]}', which is not an input of task {task.name}")
        self.task = task
        self.bound_inputs = sorted(self.bound_values)
        self.concurrency = concurrency
        self.min_successes = min_successes
        self.min_success_ratio = min_success_ratio
        module, function_name = module_of(task.function), task.function.__name__
        # The same text flytekit hashes.
        settings = f"{','.join(self.bound_inputs)}{concurrency}{min_successes}{min_success_ratio}"
        digest = _md5(settings.encode("utf-8")).hexdigest()
        self.name = f"{module}.map_{function_name}_{digest}-arraynode"
        self.optional_outputs = min_success_ratio is not None and min_success_ratio != 1 and bool(task.interface.outputs)
        self.interface = Interface(
            inputs={
                k: v if k in self.bound_values else typing.List[v]  # type: ignore[valid-type]
                for k, v in task.interface.inputs.items()
            },
            outputs={
                k: typing.List[typing.Optional[v]] if self.optional_outputs else typing.List[v]  # type: ignore[valid-type]
                for k, v in task.interface.outputs.items()
            },
            docstring=task.interface.docstring,
        )
        # The task template copies the mapped task's settings.
        self.function = task.function
        self.metadata = task.metadata
        self.resources = task.resources
        self.container_image = task.container_image
        self.environment = task.environment
        self.secret_requests = task.secret_requests
        self.task_type = task.task_type

    @property
    def short_name(self) -> str:
        return self.name

    def required_successes(self, count: int) -> int:
        """How many of `count` items must succeed (flytekit's rule: min_successes, else ceil(ratio * count))."""
        import math

        if self.min_successes:
            return self.min_successes
        ratio = 1.0 if self.min_success_ratio is None else float(self.min_success_ratio)
        return math.ceil(count * ratio)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        kwargs = {**self.bound_values, **kwargs}
        scope = current_scope()
        if scope is not None:
            return scope.add_call(self, args, kwargs)
        from sdk.authoring.local_run import run_call

        return run_call("map task", self, args, kwargs)

    def __repr__(self) -> str:
        return f"MapTask({self.name})"


def map_task(
    task: Any,
    concurrency: Optional[int] = None,
    min_successes: Optional[int] = None,
    min_success_ratio: float = 1.0,
) -> MapTask:
    """Map `task` over lists: call the result with a list for each of the task's inputs
    (`functools.partial(task, y=...)` passes y whole to every item instead)."""
    return MapTask(task, concurrency, min_successes, min_success_ratio)

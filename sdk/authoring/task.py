"""`@task`: a typed Python function that runs as one container in a workflow."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, Iterable, Optional, Union

from sdk.authoring.interface import Interface, interface_from_function
from sdk.authoring.naming import entity_name
from sdk.authoring.resources import Resources, Secret
from sdk.authoring.tracing import current_scope
from sdk.errors import CompileError


@dataclass(frozen=True)
class TaskMetadata:
    retries: int = 0
    cache: bool = False
    cache_version: str = ""
    cache_serialize: bool = False
    cache_ignore_input_vars: tuple[str, ...] = ()
    timeout: Optional[timedelta] = None
    interruptible: Optional[bool] = None
    reuse_container: bool = False  # run in a sandbox's warm worker (sdk.compile.task_spec)


@dataclass(frozen=True)
class TaskResources:
    requests: Resources = field(default_factory=Resources)
    limits: Resources = field(default_factory=Resources)


def _timeout(name: str, value: Union[int, timedelta, None]) -> Optional[timedelta]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, timedelta)):
        raise CompileError(f"task {name}: timeout must be seconds (int) or a timedelta, got {value!r}")
    seconds = value if isinstance(value, int) else value.total_seconds()
    if seconds <= 0:
        raise CompileError(f"task {name}: timeout must be positive, got {value!r}")
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def _source_version(function: Callable) -> str:
    """A cache version derived from the function's source, for cache=True without cache_version."""
    # Imported here, only for cache=True without a version: task containers start faster
    # (hashlib loads OpenSSL, ~2.5 ms).
    import hashlib
    import textwrap

    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        source = function.__qualname__
    return hashlib.sha256(source.encode()).hexdigest()


def _metadata(name: str, interface: Interface, function: Callable, options: dict[str, Any]) -> TaskMetadata:
    retries = options["retries"]
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise CompileError(f"task {name}: retries must be a whole number >= 0, got {retries!r}")
    cache = bool(options["cache"])
    ignored = options["cache_ignore_input_vars"] or ()
    ignored = (ignored,) if isinstance(ignored, str) else tuple(ignored)
    for var in ignored:
        if var not in interface.inputs:
            raise CompileError(
                f"task {name}: cache_ignore_input_vars names '{var}', which is not an input; "
                f"its inputs are {', '.join(interface.inputs) or 'none'}"
            )
    if not cache and (options["cache_serialize"] or ignored or options["cache_version"]):
        raise CompileError(f"task {name}: cache_version/cache_serialize/cache_ignore_input_vars need cache=True")
    version = options["cache_version"] or (_source_version(function) if cache else "")
    return TaskMetadata(
        retries=retries,
        cache=cache,
        cache_version=str(version),
        cache_serialize=bool(options["cache_serialize"]),
        cache_ignore_input_vars=ignored,
        timeout=_timeout(name, options["timeout"]),
        interruptible=options["interruptible"],
        reuse_container=bool(options.get("reuse_container", False)),
    )


class PythonFunctionTask:
    """A task built from a Python function; calling it runs it, or adds a node inside a workflow."""

    task_type = "python-task"

    def __init__(self, function: Callable, **options: Any):
        self.function = function
        self.name = entity_name(function)
        self.interface = interface_from_function(f"task {self.name}", function)
        self.metadata = _metadata(self.name, self.interface, function, options)
        self.resources = TaskResources(options["requests"] or Resources(), options["limits"] or Resources())
        self.container_image: Optional[str] = options["container_image"]
        self.environment: dict[str, str] = {str(k): str(v) for k, v in (options["environment"] or {}).items()}
        self.secret_requests: list[Secret] = list(options["secret_requests"] or [])
        self.__doc__ = function.__doc__
        self.__name__ = function.__name__
        self.__module__ = function.__module__

    @property
    def short_name(self) -> str:
        return self.function.__name__

    def execute(self, **kwargs: Any) -> Any:
        """Run the function on Python values, with no tracing and no type conversion."""
        return self.function(**kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        scope = current_scope()
        if scope is not None:
            return scope.add_call(self, args, kwargs)
        from sdk.authoring.local_run import run_task

        return run_task(self, args, kwargs)

    def __repr__(self) -> str:
        return f"PythonFunctionTask({self.name})"


def task_options(
    *,
    cache: bool = False,
    cache_version: str = "",
    cache_serialize: bool = False,
    cache_ignore_input_vars: Iterable[str] = (),
    retries: int = 0,
    timeout: Union[int, timedelta, None] = None,
    interruptible: Optional[bool] = None,
    requests: Optional[Resources] = None,
    limits: Optional[Resources] = None,
    container_image: Optional[str] = None,
    environment: Optional[dict[str, str]] = None,
    secret_requests: Optional[list[Secret]] = None,
    reuse_container: bool = False,
) -> dict[str, Any]:
    """The options @task and @dynamic accept, with their defaults (a TypeError names an unknown one)."""
    return dict(
        cache=cache,
        cache_version=cache_version,
        cache_serialize=cache_serialize,
        cache_ignore_input_vars=cache_ignore_input_vars,
        retries=retries,
        timeout=timeout,
        interruptible=interruptible,
        requests=requests,
        limits=limits,
        container_image=container_image,
        environment=environment,
        secret_requests=secret_requests,
        reuse_container=reuse_container,
    )


def task(_function: Optional[Callable] = None, **options: Any) -> Any:
    """Declare a task; use as `@task` or `@task(retries=2, ...)` (options spelled as in flytekit,
    see `task_options`)."""
    resolved = task_options(**options)

    def wrap(function: Callable) -> PythonFunctionTask:
        return PythonFunctionTask(function, **resolved)

    return wrap(_function) if _function is not None else wrap

"""The execution-wide settings Flyte's admin hands to the engine: overwrite_cache and envs.

flyteadmin merges the execution spec (higher priority) with its launch plan's spec:
overwrite_cache is on when either asks for it; envs are the execution's when it sets any, else
the launch plan's. The engine then recomputes every cacheable task (its result replaces the
cache entry) and sets the variables in every task container. At creation, the spec stored (and
answered by GetExecution) gets max parallelism and security context resolved as flyteadmin
resolves them (`resolved_spec`).
"""
from __future__ import annotations

import dataclasses

from sandbox.registry import LAUNCH_PLAN, EntityNotFound, get_spec


@dataclasses.dataclass
class ExecutionSettings:
    overwrite_cache: bool = False
    envs: dict[str, str] = dataclasses.field(default_factory=dict)


def _envs(message) -> dict[str, str]:
    return {pair.key: pair.value for pair in message.values}


def execution_settings(store, execution_id: str) -> ExecutionSettings:
    """The settings of `execution_id` from its stored request spec (none for a plain
    `skiff run`) merged over its launch plan's."""
    from sandbox.admin.repository import AdminRepository

    settings = ExecutionSettings()
    request = AdminRepository(store).execution_request(execution_id)
    if request is not None:  # execution_pb2 is imported only then: a cached rerun skips it
        from flyteidl.admin import execution_pb2

        spec = execution_pb2.ExecutionSpec.FromString(request[0])
        settings = ExecutionSettings(spec.overwrite_cache, _envs(spec.envs))
    record = store.execution(execution_id)
    if record is None or not record.launch_plan:
        return settings
    try:
        launch_plan = get_spec(store, LAUNCH_PLAN, record.project, record.domain,
                               record.launch_plan, record.version)
    except EntityNotFound:  # registered under another version than its workflow's
        return settings
    settings.overwrite_cache = settings.overwrite_cache or launch_plan.spec.overwrite_cache
    if not settings.envs:
        settings.envs = _envs(launch_plan.spec.envs)
    return settings


def apply_settings(ctx, execution_id: str) -> None:
    """Hand the execution's settings to the engine context (a run, a resume, the runner)."""
    settings = execution_settings(ctx.store, execution_id)
    ctx.overwrite_cache = settings.overwrite_cache
    ctx.task_env = settings.envs


def remember_settings(store, execution_id: str, overwrite_cache: bool,
                      envs: dict[str, str]) -> None:
    """Store `skiff run --sandbox`'s --overwrite-cache and --envvars as an execution request
    spec, as CreateExecution stores a client's, so a resume or recover applies them too."""
    if not overwrite_cache and not envs:
        return
    from flyteidl.admin import common_pb2, execution_pb2

    from sandbox.admin.repository import AdminRepository

    spec = execution_pb2.ExecutionSpec(overwrite_cache=overwrite_cache, envs=common_pb2.Envs(
        values=[{"key": k, "value": v} for k, v in envs.items()]))
    AdminRepository(store).add_execution_request(execution_id, spec.SerializeToString())


# ---- what flyteadmin stores at creation ------------------------------------------------------

DEFAULT_MAX_PARALLELISM = 25  # flyteadmin's default when neither request nor launch plan sets one


def resolved_spec(request, launch_plan) -> "execution_pb2.ExecutionSpec":
    """The spec flyteadmin stores for a created execution: the request's, with max parallelism
    and security context taken from the launch plan (admin.LaunchPlan or None) when the request
    leaves them unset, else flyteadmin's defaults (25, an empty run-as identity)."""
    from flyteidl.admin import execution_pb2

    spec = execution_pb2.ExecutionSpec()
    spec.CopyFrom(request.spec)
    plan = launch_plan.spec if launch_plan is not None else None
    if not spec.max_parallelism:
        spec.max_parallelism = (plan.max_parallelism if plan is not None else 0) or \
            DEFAULT_MAX_PARALLELISM
    if not spec.HasField("security_context"):
        if plan is not None and plan.HasField("security_context"):
            spec.security_context.CopyFrom(plan.security_context)
        else:
            spec.security_context.run_as.SetInParent()
    return spec

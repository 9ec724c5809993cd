"""The execution-wide settings Flyte's admin hands to the engine: overwrite_cache and envs.

flyteadmin merges the execution spec (higher priority) with its launch plan's spec:
overwrite_cache is on when either asks for it; envs are the execution's when it sets any, else
the launch plan's. The engine then recomputes every cacheable task (its result replaces the
cache entry) and sets the variables in every task container.
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

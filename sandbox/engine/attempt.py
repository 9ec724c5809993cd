"""One task attempt: the container request built from the task template, and the attempt's
result read back (outputs.pb, error.pb, exit status) and classified as Flyte does."""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from flyteidl.core import errors_pb2, execution_pb2, literals_pb2

from sandbox.runtime.resources import cpu_to_nano_cpus, memory_to_bytes
from sdk.errors import SkiffError
from sdk.secret_names import check_secret_names

if TYPE_CHECKING:
    from sandbox.runtime.container import ContainerRequest, ContainerResult
    from sandbox.runtime.policy import ContainerPolicy

USER, SYSTEM = "user", "system"
_CPU, _MEMORY = 1, 3  # core.Resources.ResourceName
_LOG_TAIL_LINES = 30
_KILLED_EXIT_CODES = (137, 143)  # 128 + SIGKILL, 128 + SIGTERM


@dataclasses.dataclass
class AttemptPaths:
    inputs_uri: str
    output_prefix: str
    raw_prefix: str
    checkpoint_prefix: str
    prev_checkpoint_prefix: str  # "" when there is no previous attempt


@dataclasses.dataclass
class AttemptOutcome:
    outputs: literals_pb2.LiteralMap | None = None
    futures: object | None = None  # a core.DynamicJobSpec: the task built a workflow to run
    error_kind: str | None = None  # USER or SYSTEM when the attempt failed
    error: str | None = None
    recoverable: bool = True
    # How the container ended, kept per attempt for the console: its exit code (None when
    # there was none) and a short reason ("exit 1", "out of memory", "timed out after 5s").
    exit_code: int | None = None
    exit_status: str | None = None


def _fill_template(arg: str, values: dict[str, str]) -> str:
    # Flyte accepts `{{.input}}` and `{{ .Input }}` alike.
    return re.sub(r"\{\{\s*\.(\w+)\s*\}\}",
                  lambda m: values.get(m.group(1).lower(), m.group(0)), arg)


def container_args(task_template, paths: AttemptPaths) -> list[str]:
    values = {
        "input": paths.inputs_uri,
        "inputprefix": paths.output_prefix,
        "outputprefix": paths.output_prefix,
        "rawoutputdataprefix": paths.raw_prefix,
        "checkpointoutputprefix": paths.checkpoint_prefix,
        # Flyte passes a quoted empty string when there is no previous checkpoint.
        "prevcheckpointprefix": paths.prev_checkpoint_prefix or '""',
    }
    return [_fill_template(a, values) for a in task_template.container.args]


def _secret_value(secret, secrets_dir: str | None, task_name: str) -> str:
    # The names decide the file read below: checked again here, whatever registered them.
    check_secret_names(f"task {task_name}", secret.group, secret.key, secret.group_version)
    parts = [p for p in (secret.group, secret.group_version, secret.key) if p]
    env_name = "_FSEC_" + "_".join(parts).upper()
    if env_name in os.environ:
        return os.environ[env_name]
    if secrets_dir:
        path = secret_file(secrets_dir, secret.group, secret.key, task_name)
        if path is not None and path.is_file():
            return path.read_text().rstrip("\n")
    where = f"{secrets_dir}/{secret.group}/{secret.key}" if secrets_dir else "a file"
    raise SkiffError(f"secret group {secret.group!r} key {secret.key!r} is not available; set "
                     f"{env_name} in the environment or write it to {where}")


def secret_file(secrets_dir: str, group: str, key: str, task_name: str) -> Path | None:
    """The file of a secret, links resolved; a SkiffError when it lies outside `secrets_dir`
    (a link pointing elsewhere), None when it does not exist."""
    root = Path(secrets_dir).resolve()
    try:
        path = Path(root, group, key or "").resolve(strict=True)
    except (FileNotFoundError, RuntimeError):
        return None
    if root not in path.parents:
        raise SkiffError(f"task {task_name}: the file of secret group {group!r} key {key!r} "
                         f"resolves to {path}, outside {root}; secrets must be files inside "
                         "the secrets directory")
    return path


def secret_env(task_template, secrets_dir: str | None) -> dict[str, str]:
    env = {}
    for secret in task_template.security_context.secrets:
        value = _secret_value(secret, secrets_dir, task_template.id.name)
        parts = [p for p in (secret.group, secret.group_version, secret.key) if p]
        env["_FSEC_" + "_".join(parts).upper()] = value
        if secret.env_var:
            env[secret.env_var] = value
    return env


def _limits(task_template) -> tuple[int | None, int | None, str | None]:
    """(nano_cpus, memory bytes, memory as written): limits win over requests."""
    resources = task_template.container.resources
    chosen: dict[int, str] = {}
    for entries in (resources.requests, resources.limits):
        for entry in entries:
            chosen[entry.name] = entry.value
    cpu = cpu_to_nano_cpus(chosen[_CPU]) if _CPU in chosen else None
    memory = memory_to_bytes(chosen[_MEMORY]) if _MEMORY in chosen else None
    return cpu, memory, chosen.get(_MEMORY)


def timeout_seconds(task_template) -> float | None:
    """The task's timeout (node overrides already applied by overrides.effective_task)."""
    if task_template.metadata.HasField("timeout"):
        seconds = task_template.metadata.timeout.ToTimedelta().total_seconds()
        if seconds > 0:
            return seconds
    return None


def user_retries(task_template) -> int:
    return task_template.metadata.retries.retries


def build_request(task_template, node, paths: AttemptPaths, env: dict[str, str],
                  labels: dict[str, str], secrets: dict[str, str],
                  policy: ContainerPolicy | None = None) -> ContainerRequest:
    from sandbox.runtime.container import ContainerRequest  # only when a container runs
    from sandbox.runtime.policy import ContainerPolicy
    from sdk.compile.task_spec import REUSE_CONTAINER_TAG

    policy = policy or ContainerPolicy()
    container = task_template.container
    cpu, memory, memory_text = _limits(task_template)
    if cpu is None:  # the sandbox's default, so that one task cannot take the machine
        cpu = policy.default_nano_cpus()
    if memory is None:
        memory = policy.default_memory_bytes()
        memory_text = f"{policy.default_memory}, the sandbox's default"
    cpu, notice = clamp_cpu(cpu)
    task_env = {kv.key: kv.value for kv in container.env}
    return ContainerRequest(
        image=container.image, command=list(container.command),
        args=container_args(task_template, paths), env={**env, **task_env}, labels=labels,
        nano_cpus=cpu, memory_bytes=memory, memory_text=memory_text,
        timeout=timeout_seconds(task_template), secret_env=secrets, notice=notice,
        pids_limit=policy.pids_limit, read_only_root=policy.read_only_root,
        reuse_opt_in=task_template.metadata.tags.get(REUSE_CONTAINER_TAG) == "true")


def clamp_cpu(nano_cpus: int | None, cores: int | None = None) -> tuple[int | None, str]:
    """Docker refuses a CPU limit above the machine's cores, where Flyte would schedule the
    task on a node that has them: run it with every core here, and say so in its logs."""
    cores = cores or os.cpu_count() or 1
    if nano_cpus is None or nano_cpus <= cores * 10**9:
        return nano_cpus, ""
    return cores * 10**9, (f"[skiff] the task asks for {nano_cpus / 1e9:g} CPUs; this machine "
                           f"has {cores}: it runs with a limit of {cores}\n")


def _log_tail(logs: str) -> str:
    lines = logs.rstrip().splitlines()[-_LOG_TAIL_LINES:]
    return ("\n" + "\n".join(lines)) if lines else ""


def read_results(objects, output_prefix: str) -> AttemptOutcome | None:
    """outputs.pb, else futures.pb (a dynamic task's workflow), else None."""
    data = objects.get_bytes(f"{output_prefix}/outputs.pb")
    if data is not None:
        return AttemptOutcome(outputs=literals_pb2.LiteralMap.FromString(data))
    data = objects.get_bytes(f"{output_prefix}/futures.pb")
    if data is not None:
        from flyteidl.core import dynamic_job_pb2

        return AttemptOutcome(futures=dynamic_job_pb2.DynamicJobSpec.FromString(data))
    return None


def _from_error_document(data: bytes) -> AttemptOutcome:
    doc = errors_pb2.ErrorDocument.FromString(data)
    error = doc.error
    kind = SYSTEM if error.origin == execution_pb2.ExecutionError.SYSTEM else USER
    message = f"[{error.code}] {error.message}" if error.code else error.message
    return AttemptOutcome(error_kind=kind, error=message,
                          recoverable=error.kind == errors_pb2.ContainerError.RECOVERABLE)


def read_outcome(result: ContainerResult, objects, output_prefix: str,
                 request: ContainerRequest) -> AttemptOutcome:
    """Classify a finished container (see _classify) and say how it ended."""
    outcome = _classify(result, objects, output_prefix, request)
    outcome.exit_code = result.exit_code
    outcome.exit_status = exit_status(result, outcome, request)
    return outcome


def exit_status(result: ContainerResult, outcome: AttemptOutcome,
                request: ContainerRequest) -> str:
    """A short reason the attempt's container ended, as a user reads it on the node page."""
    if result.system_error:
        first = result.system_error.strip().splitlines()[0] if result.system_error.strip() \
            else "unknown"
        return f"container runtime error: {first[:160]}"
    if result.timed_out:
        return f"timed out after {request.timeout:g}s (killed)"
    if result.oom_killed:
        return f"out of memory (OOM killed, exit {result.exit_code})"
    if result.exit_code in _KILLED_EXIT_CODES and outcome.outputs is None:
        signal = "SIGKILL" if result.exit_code == 137 else "SIGTERM"
        return f"killed ({signal}, exit {result.exit_code})"
    if outcome.outputs is not None or outcome.futures is not None:
        return f"exit {result.exit_code}"
    # A task that raised writes error.pb and may still exit 0 (flytekit's default): both count.
    return f"{outcome.error_kind} error, exit {result.exit_code}"


def _classify(result: ContainerResult, objects, output_prefix: str,
              request: ContainerRequest) -> AttemptOutcome:
    """Classify a finished container. Order: runtime failure, timeout, OOM, documents, exit."""
    if result.system_error:
        return AttemptOutcome(error_kind=SYSTEM, error=result.system_error,
                              recoverable=result.retryable)
    if result.timed_out:
        return AttemptOutcome(error_kind=USER, error=(
            f"task timed out after {request.timeout:g}s and its container was killed; raise the "
            f"task's timeout or make it faster{_log_tail(result.logs)}"))
    if result.oom_killed:
        return AttemptOutcome(error_kind=USER, error=(
            f"out of memory (limit {request.memory_text or 'unknown'}): the container was killed "
            f"by the kernel (exit {result.exit_code}); raise the task's memory limit"
            f"{_log_tail(result.logs)}"))
    if result.exit_code == 0:
        done = read_results(objects, output_prefix)
        if done is not None:
            return done
    error_doc = objects.get_bytes(f"{output_prefix}/error.pb")
    if error_doc is not None:
        return _from_error_document(error_doc)
    if result.exit_code in _KILLED_EXIT_CODES:
        # Killed by a signal from outside (`docker kill`, the host): not the task's doing, as
        # Flyte treats a pod that was deleted. An abort is recorded before this is read.
        return AttemptOutcome(error_kind=SYSTEM, error=(
            f"the container was killed from outside (exit {result.exit_code}, not out of "
            f"memory) before it wrote a result; retried as a system error"
            f"{_log_tail(result.logs)}"))
    if result.exit_code == 0:
        return AttemptOutcome(error_kind=SYSTEM, error=(
            "the container exited 0 but wrote none of outputs.pb, futures.pb, error.pb under "
            f"{output_prefix}; is the image's entrypoint a Flyte task executor?"
            f"{_log_tail(result.logs)}"))
    return AttemptOutcome(error_kind=USER, error=(
        f"the container exited with code {result.exit_code} without writing error.pb"
        f"{_log_tail(result.logs)}"))


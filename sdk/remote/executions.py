"""Executions on an admin: create, wait, read inputs and outputs, list, terminate."""
from __future__ import annotations

import getpass
import re
import time
import urllib.parse

from flyteidl.admin import common_pb2, execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2, identifier_pb2, literals_pb2

from sdk.errors import ExecutionFailed, SkiffError
from sdk.remote.data import literal_map
from sdk.remote.errors import RemoteError

Phase = core_execution_pb2.WorkflowExecution.Phase
TERMINAL = {Phase.SUCCEEDED, Phase.FAILED, Phase.ABORTED, Phase.TIMED_OUT}


def phase_name(phase: int) -> str:
    return Phase.Name(phase)


def execution_id(project: str, domain: str, name: str):
    return identifier_pb2.WorkflowExecutionIdentifier(project=project, domain=domain, name=name)


def parse_execution_ref(ref: str, project: str, domain: str):
    """An execution id from a bare name, a console URL
    (`.../projects/P/domains/D/executions/NAME`) or a flyte URL (`flyte://v1/P/D/NAME[/...]`)."""
    ref = ref.strip()
    if ref.startswith("flyte://"):
        parts = [p for p in ref[len("flyte://"):].split("/") if p]
        if len(parts) >= 4 and parts[0] == "v1":
            return execution_id(parts[1], parts[2], parts[3])
    path = urllib.parse.urlparse(ref).path if "://" in ref else ref
    match = re.search(r"projects/([^/]+)/domains/([^/]+)/executions/([^/?#]+)", path)
    if match:
        return execution_id(*match.groups())
    if "/" in ref:
        raise SkiffError(f"cannot read an execution from {ref!r}; give its name, a console URL "
                         "(.../projects/P/domains/D/executions/NAME) or flyte://v1/P/D/NAME")
    return execution_id(project, domain, ref)


def _envs(envvars: dict | None):
    envs = common_pb2.Envs()
    for key, value in (envvars or {}).items():
        envs.values.add(key=key, value=str(value))
    return envs


def create_execution(conn, target, inputs: literals_pb2.LiteralMap, project: str, domain: str,
                     name: str | None = None, overwrite_cache: bool = False,
                     envvars: dict | None = None, tags: list[str] | None = None):
    """Start `target` (a launch plan or task Identifier); its WorkflowExecutionIdentifier."""
    spec = execution_pb2.ExecutionSpec(
        launch_plan=target,
        metadata=execution_pb2.ExecutionMetadata(mode=execution_pb2.ExecutionMetadata.MANUAL,
                                                 principal=getpass.getuser()),
        overwrite_cache=overwrite_cache, envs=_envs(envvars), tags=list(tags or []))
    request = execution_pb2.ExecutionCreateRequest(project=project, domain=domain, name=name or "",
                                                   spec=spec, inputs=inputs)
    what = f"start an execution of {target.name!r} version {target.version!r} in {project}/{domain}"
    return conn.admin.call("CreateExecution", request, what).id


def get_execution(conn, ident):
    return conn.admin.call("GetExecution", execution_pb2.WorkflowExecutionGetRequest(id=ident),
                           f"get execution {ident.name!r} in {ident.project}/{ident.domain}")


def wait(conn, ident, poll_interval: float = 1.0, timeout: float | None = None, say=None):
    """Poll until the execution ends; the final admin.Execution. Raises RemoteError on timeout."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last = None
    while True:
        execution = get_execution(conn, ident)
        phase = execution.closure.phase
        if say is not None and phase != last:
            say(f"execution {ident.name}: {phase_name(phase)}")
            last = phase
        if phase in TERMINAL:
            return execution
        if deadline is not None and time.monotonic() > deadline:
            raise RemoteError(f"execution {ident.name!r} in {ident.project}/{ident.domain} did not "
                              f"finish within {timeout:g} s (still {phase_name(phase)}); wait "
                              "longer or terminate it")
        time.sleep(poll_interval)


def raise_unless_succeeded(execution) -> None:
    phase = execution.closure.phase
    if phase == Phase.SUCCEEDED:
        return
    ident = execution.id
    message = execution.closure.error.message if execution.closure.HasField("error") else ""
    message = " ".join(message.split())[:500]
    raise ExecutionFailed(f"execution {ident.name!r} in {ident.project}/{ident.domain} ended "
                          f"{phase_name(phase)}" + (f": {message}" if message else ""))


def execution_data(conn, ident) -> tuple[literals_pb2.LiteralMap, literals_pb2.LiteralMap]:
    """(inputs, outputs) of an execution, offloaded data read back in."""
    data = conn.admin.call("GetExecutionData",
                           execution_pb2.WorkflowExecutionGetDataRequest(id=ident),
                           f"get the data of execution {ident.name!r}")
    return (literal_map(conn, data.full_inputs, data.inputs),
            literal_map(conn, data.full_outputs, data.outputs))


def list_executions(conn, project: str, domain: str, filters: str = "", limit: int = 200):
    """Every execution in project/domain the admin lists (following page tokens)."""
    token, found = "", []
    while True:
        request = common_pb2.ResourceListRequest(
            id=common_pb2.NamedEntityIdentifier(project=project, domain=domain), limit=limit,
            token=token, filters=filters)
        page = conn.admin.call("ListExecutions", request,
                               f"list executions in {project}/{domain}")
        found.extend(page.executions)
        if not page.token or not page.executions:
            return found
        token = page.token


def terminate(conn, ident, cause: str = "terminated by skiff") -> None:
    conn.admin.call("TerminateExecution",
                    execution_pb2.ExecutionTerminateRequest(id=ident, cause=cause),
                    f"terminate execution {ident.name!r} in {ident.project}/{ident.domain}")

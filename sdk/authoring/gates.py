"""Gate nodes: `sleep(duration)`, `wait_for_input(name, timeout, expected_type)` and
`approve(upstream, name, timeout)`, compiled as flytekit compiles them (gate_node with sleep,
signal or approve; the node's timeout defaults to one hour).

In-process, sleep sleeps and the other two ask the caller's callbacks (see local_run.GateAnswers).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Optional

from sdk.authoring.interface import Interface
from sdk.authoring.promise import WORKFLOW_INPUTS_NODE_ID, Promise
from sdk.authoring.tracing import current_scope
from sdk.errors import CompileError

DEFAULT_TIMEOUT = timedelta(hours=1)
SLEEP_NODE_NAME = "sleep-gate"


class Gate:
    """kind is "sleep", "signal" or "approve"."""

    def __init__(
        self,
        kind: str,
        name: str,
        timeout: Optional[timedelta] = None,
        duration: Optional[timedelta] = None,
        expected_type: Any = None,
        interface: Optional[Interface] = None,
    ):
        self.kind = kind
        self.name = name
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.duration = duration
        self.expected_type = expected_type
        self.interface = interface or Interface(inputs={}, outputs={})

    @property
    def short_name(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Gate({self.kind} {self.name})"


def _scope(what: str):
    scope = current_scope()
    if scope is None:
        raise CompileError(f"{what} can only be used inside a @workflow or @dynamic body")
    return scope


def _duration(where: str, option: str, value: Any) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, (int, float, timedelta)):
        raise CompileError(f"{where}: {option} must be a timedelta or seconds, got {value!r}")
    result = value if isinstance(value, timedelta) else timedelta(seconds=value)
    if result.total_seconds() < 0:
        raise CompileError(f"{where}: {option} must not be negative, got {value!r}")
    return result


def sleep(duration: Any) -> Any:
    """A node that waits `duration`, then lets the nodes ordered after it (`>>`) start."""
    scope = _scope("sleep(...)")
    gate = Gate("sleep", SLEEP_NODE_NAME, duration=_duration(f"workflow {scope.workflow_name}, sleep", "duration", duration))
    return scope.add_call(gate, (), {})


def wait_for_input(name: str, timeout: Any, expected_type: Any) -> Any:
    """A node whose output `o0` is a value of `expected_type` someone gives while the workflow runs."""
    scope = _scope(f"wait_for_input({name!r})")
    where = f"workflow {scope.workflow_name}, wait_for_input '{name}'"
    from sdk.compile.types_bridge import literal_type

    literal_type(where, "o0", expected_type)  # fails early for a type Flyte cannot carry
    gate = Gate("signal", name, timeout=_duration(where, "timeout", timeout), expected_type=expected_type,
                interface=Interface(inputs={}, outputs={"o0": expected_type}))
    return scope.add_call(gate, (), {})


def approve(upstream: Any, name: str, timeout: Any) -> Any:
    """A node that passes `upstream` on once someone approves it; a refusal fails the workflow."""
    scope = _scope(f"approve(..., {name!r})")
    where = f"workflow {scope.workflow_name}, approve '{name}'"
    if not isinstance(upstream, Promise):
        raise CompileError(f"{where}: approves one output of an earlier call, got {upstream!r}")
    if upstream.node_id == WORKFLOW_INPUTS_NODE_ID:
        raise CompileError(f"{where}: workflow inputs cannot be approved; approve the output of a call")
    var, hint = upstream.var, upstream.python_type
    gate = Gate("approve", name, timeout=_duration(where, "timeout", timeout),
                interface=Interface(inputs={var: hint}, outputs={var: hint}))
    return scope.add_call(gate, (), {var: upstream})

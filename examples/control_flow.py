"""The workflow language in one file: a map task, a conditional, a @dynamic task, an approval
gate, a subworkflow, node overrides and an on-failure handler.

    skiff run examples/control_flow.py report --scores '[3, 9, 4]'
"""
import typing
from datetime import timedelta

from sdk import (
    Resources,
    WorkflowFailurePolicy,
    approve,
    conditional,
    dynamic,
    map_task,
    task,
    workflow,
)


@task(cache=True, cache_version="1")
def normalise(score: int) -> float:
    return score / 10


@task
def mean(values: typing.List[float]) -> float:
    return sum(values) / len(values) if values else 0.0


@task
def verdict(average: float, label: str) -> str:
    return f"{label} ({average:.2f})"


@task
def exclaim(text: str) -> str:
    return text + "!"


@dynamic
def emphasise(text: str, times: int) -> str:
    """Chains `times` calls, a number known only when the task runs."""
    result = text
    for _ in range(times):
        result = exclaim(text=result)
    return result


@task
def alert(scores: typing.List[int], err: typing.Optional[str] = None) -> None:
    print(f"report failed for {scores}: {err}")


@workflow
def grade(scores: typing.List[int]) -> float:
    return mean(values=map_task(normalise, concurrency=4)(score=scores))


@workflow(failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE, on_failure=alert)
def report(scores: typing.List[int]) -> str:
    average = grade(scores=scores)
    text = (
        conditional("pass_mark")
        .if_(average >= 0.5)
        .then(verdict(average=average, label="pass"))
        .else_()
        .then(verdict(average=average, label="fail").with_overrides(retries=1, limits=Resources(mem="256Mi")))
    )
    checked = approve(text, "publish", timeout=timedelta(hours=1))
    return emphasise(text=checked, times=2)

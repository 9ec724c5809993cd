"""A @dynamic task that loops over its input to build its graph, called from a workflow."""
import typing

from flytekit import dynamic, task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@task
def join(values: typing.List[int]) -> str:
    return ",".join(str(v) for v in values)


@dynamic
def ladder(n: int) -> str:
    values = []
    current = 0
    for _ in range(n):
        current = inc(x=current)
        values.append(current)
    return join(values=values)


@workflow
def climb(n: int = 3) -> str:
    return ladder(n=n)

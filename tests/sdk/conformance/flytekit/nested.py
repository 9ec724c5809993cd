"""A subworkflow node, a launch-plan node, and an Optional input left to its None default."""
import typing

from flytekit import LaunchPlan, task, workflow


@task
def add(a: int, b: typing.Optional[int]) -> int:
    return a + (b or 0)


@workflow
def inner(a: int, b: int = 2) -> int:
    return add(a=add(a=a, b=b))


inner_lp = LaunchPlan.get_or_create(inner, name="nested_inner_lp", default_inputs={"b": 4})


@workflow
def outer(x: int = 1) -> typing.Tuple[int, int]:
    first = inner(a=x)
    second = inner_lp(a=first)
    return first, second

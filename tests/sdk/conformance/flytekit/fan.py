"""Fan-out to parallel tasks and fan-in through a list binding, plus a constant binding."""
from flytekit import task, workflow


@task
def scale(x: int, factor: int) -> int:
    return x * factor


@task
def total(values: list[int], offset: float) -> float:
    return sum(values) + offset


@task
def describe(value: float, names: dict[str, int]) -> str:
    return f"{value}:{sorted(names)}"


@workflow
def fan(a: int, b: int = 2) -> tuple[float, str]:
    first = scale(x=a, factor=2)
    second = scale(x=b, factor=3)
    third = scale(x=a, factor=b)
    summed = total(values=[first, second, third, 4], offset=0.5)
    return summed, describe(value=summed, names={"a": first, "b": 1})

"""Map tasks: concurrency, min_success_ratio (outputs become lists of Optional), a workflow input
and a node output mapped, and the mapped outputs used downstream."""
import functools
import typing

from flytekit import Resources, map_task, task, workflow


@task
def square(x: int) -> int:
    return x * x


@task
def fragile(x: int) -> int:
    if x < 0:
        raise ValueError(f"negative item {x}")
    return x + 1


@task
def total(values: typing.List[int]) -> int:
    return sum(values)


@task
def count_present(values: typing.List[typing.Optional[int]]) -> int:
    return sum(v is not None for v in values)


@task
def spread(n: int) -> typing.List[int]:
    return list(range(n))


@workflow
def squares(xs: typing.List[int]) -> int:
    return total(values=map_task(square, concurrency=2)(x=xs))


@workflow
def tolerant(xs: typing.List[int]) -> int:
    return count_present(values=map_task(fragile, concurrency=4, min_success_ratio=0.5)(x=xs))


@workflow
def chained(n: int) -> typing.List[int]:
    return map_task(square)(x=spread(n=n))


@workflow
def tuned(xs: typing.List[int]) -> typing.List[int]:
    """Overrides on a map task's node apply to what each item runs with."""
    return map_task(square, concurrency=3)(x=xs).with_overrides(retries=2, limits=Resources(cpu="1"), name="sq")


@task
def scale(x: int, factor: int, offset: int = 0) -> int:
    return x * factor + offset


@workflow
def scaled(xs: typing.List[int], f: int = 3) -> typing.List[int]:
    """A partial binds inputs that every item receives whole."""
    return map_task(functools.partial(scale, factor=f, offset=1))(x=xs)

"""Control flow: conditionals (one taking a dynamic branch), dynamic workflows, map tasks,
subworkflows and launch plans, cached tasks."""
import typing
from functools import partial

from flytekit import LaunchPlan, conditional, dynamic, map_task, task, workflow


@task
def square(x: int) -> int:
    return x * x


@task
def negate(x: int) -> int:
    return -x


@task
def total(xs: typing.List[int]) -> int:
    return sum(xs)


@workflow
def classify(x: int = -3) -> int:
    return conditional("sign").if_(x >= 0).then(square(x=x)).else_().then(negate(x=x))


@dynamic
def squares_upto(n: int) -> int:
    # The workflow is built at run time: one node per value.
    return total(xs=[square(x=i) for i in range(n)])


@workflow
def fan_out(n: int = 4) -> int:
    return squares_upto(n=n)


@workflow
def dynamic_branch(n: int = 3) -> int:
    # A conditional whose taken branch is a dynamic task.
    return conditional("size").if_(n > 2).then(squares_upto(n=n)).else_().then(square(x=n))


@task(cache=True, cache_version="1")
def scale(x: int, factor: int) -> int:
    return x * factor


@workflow
def mapped(xs: typing.List[int] = [1, 2, 3], factor: int = 5) -> int:
    return total(xs=map_task(partial(scale, factor=factor))(x=xs))


@workflow
def squared_sum(a: int, b: int) -> int:
    return total(xs=[square(x=a), square(x=b)])


squared_sum_lp = LaunchPlan.get_or_create(squared_sum, name="snacks.control_flow.squared_sum_lp")


@workflow
def nested(a: int = 2, b: int = 3) -> typing.Tuple[int, int]:
    # A subworkflow, then a launch plan fed by it.
    inner = squared_sum(a=a, b=b)
    launched = squared_sum_lp(a=inner, b=1)
    return inner, launched


# Eager workflows (flytekit.eager) belong to the suite too; they are written and tested on the
# branch that makes them run in the sandbox (issue 15, s2-i15eager).

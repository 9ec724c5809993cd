"""Conditionals: comparisons of inputs and node outputs with constants and each other, & and |,
is_true/is_none, elif chains, a failing else, a nested conditional and outputs used downstream."""
import typing

from flytekit import LaunchPlan, conditional, task, workflow


@task
def double(x: int) -> int:
    return 2 * x


@task
def neg(x: int) -> int:
    return -x


@task
def positive(x: int) -> bool:
    return x > 0


@task
def maybe(x: int) -> typing.Optional[int]:
    return x if x % 2 else None


@task
def describe(x: float, tag: str) -> str:
    return f"{tag}:{x}"


@workflow
def signs(a: int, b: int = 3) -> int:
    d = double(x=a)
    picked = (
        conditional("sign")
        .if_((a > 0) & (d < 4))
        .then(double(x=a))
        .elif_((a == b) | (d != 4))
        .then(neg(x=b))
        .elif_(a >= d)
        .then(neg(x=a))
        .else_()
        .fail("no branch for this input")
    )
    return neg(x=picked)


@workflow
def flags(a: int) -> int:
    p = positive(x=a)
    return conditional("flag").if_(p.is_true()).then(double(x=a)).else_().then(neg(x=a))


@workflow
def nones(a: int) -> int:
    m = maybe(x=a)
    return (
        conditional("none")
        .if_(m.is_none())
        .then(double(x=a))
        .elif_(a <= 4)
        .then(neg(x=a))
        .else_()
        .then(
            conditional("inner")
            .if_(a > 10)
            .then(double(x=a))
            .else_()
            .then(neg(x=a))
        )
    )


@workflow
def floats(r: float, tag: str = "hi") -> str:
    return (
        conditional("range")
        .if_((r >= 0.5) & (r < 1.0))
        .then(describe(x=r, tag=tag))
        .elif_(r < 0.5)
        .then(describe(x=r, tag="low"))
        .else_()
        .then(describe(x=r, tag="high"))
    )


@workflow
def reuse(a: int) -> int:
    """Cases whose calls read outputs of earlier nodes (the branch waits only for what conditions read)."""
    d = double(x=a)
    e = double(x=d)
    return conditional("reuse").if_(a > 0).then(double(x=e)).else_().then(double(x=d))


@workflow
def halve(a: int) -> int:
    return neg(x=double(x=a))


halve_lp = LaunchPlan.get_or_create(halve, name="branches_halve_lp")


@workflow
def delegate(a: int) -> int:
    """A subworkflow and a launch plan as the cases of a conditional."""
    return conditional("delegate").if_(a.is_none()).then(halve(a=a)).else_().then(halve_lp(a=a))

"""Constructs the conformance twins hold in forms this flyteadmin refuses for flytekit's packages
too (a 2Gi memory limit above its platform limit of 1Gi, `is_none()` conditions that its
compiler reads as a missing value), written so that it admits them: task metadata within the
limits, and conditionals with `.fail`, nested cases, subworkflow and launch plan cases."""
from datetime import timedelta

from sdk import LaunchPlan, Resources, Secret, conditional, task, workflow


@task(
    cache=True,
    cache_version="2",
    cache_serialize=True,
    cache_ignore_input_vars=("seed",),
    retries=3,
    timeout=timedelta(minutes=5),
    interruptible=True,
    requests=Resources(cpu="500m", mem="256Mi"),
    limits=Resources(cpu="1", mem="512Mi", ephemeral_storage="1Gi"),
    container_image="other:2",
    environment={"MODE": "fast"},
    secret_requests=[Secret(group="db", key="password"), Secret(group="api")],
)
def heavy(a: int, seed: int = 0) -> int:
    """Short line.

    Longer text.
    """
    return a + seed


@task
def double(x: int) -> int:
    return 2 * x


@task(reuse_container=True)  # a Skiff sandbox's warm worker: a TaskMetadata tag Flyte keeps
def neg(x: int) -> int:
    return -x


@workflow
def metadata(a: int = 1) -> int:
    return double(x=heavy(a=a))


@workflow
def halve(a: int) -> int:
    return neg(x=double(x=a))


halve_lp = LaunchPlan.get_or_create(halve, name="admitted_halve_lp", default_inputs={"a": 2})


@workflow
def choose(a: int, b: int = 3) -> int:
    d = double(x=a)
    picked = (
        conditional("sign")
        .if_((a > 0) & (d < 4))
        .then(double(x=a))
        .elif_((a == b) | (d != 4))
        .then(halve(a=b))
        .elif_(a >= d)
        .then(halve_lp(a=a))
        .elif_(a < -10)
        .then(conditional("inner").if_(a > -20).then(neg(x=a)).else_().then(double(x=a)))
        .else_()
        .fail("no branch for this input")
    )
    return neg(x=picked)


@task
def cleanup(a: int) -> None:
    print(f"cleaning up after {a}")


@workflow(on_failure=cleanup)
def careful(a: int) -> int:
    return double(x=a)


@workflow
def calls_careful(a: int = 2) -> int:
    """A subworkflow with a failure node: registration must hydrate that node too."""
    return neg(x=careful(a=a))

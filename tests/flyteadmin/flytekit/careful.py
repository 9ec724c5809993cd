"""flytekit's own package of a subworkflow with a failure node, registered with `skiff register`
(its failure node must be hydrated as flytectl hydrates it)."""
from flytekit import task, workflow


@task
def double(x: int) -> int:
    return 2 * x


@task
def neg(x: int) -> int:
    return -x


@task
def cleanup(a: int) -> None:
    print(f"cleaning up after {a}")


@workflow(on_failure=cleanup)
def careful(a: int) -> int:
    return double(x=a)


@workflow
def calls_careful(a: int = 2) -> int:
    return neg(x=careful(a=a))

"""Failure policy, an on_failure handler and node-level overrides."""
import typing
from datetime import timedelta

from flytekit import Resources, WorkflowFailurePolicy, task, workflow
from flytekit.types.error import FlyteError


@task
def double(x: int) -> int:
    return 2 * x


@task
def shout(s: str) -> str:
    return s.upper()


@task
def cleanup(a: int, err: typing.Optional[str] = None) -> None:
    print(f"cleaning up after {a}: {err}")


@workflow(failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE, on_failure=cleanup)
def guarded(a: int) -> typing.Tuple[int, str]:
    d = double(x=a).with_overrides(
        retries=2,
        requests=Resources(cpu="1", mem="1Gi"),
        limits=Resources(cpu="2", mem="2Gi"),
        timeout=timedelta(seconds=30),
        cache=True,
        cache_version="7",
        container_image="other:9",
        name="twice",
    )
    s = shout(s="x").with_overrides(interruptible=True, timeout=45)
    return d, s


@task
def report(a: int, err: typing.Optional[FlyteError] = None) -> None:
    print(f"after {a}: node {err.failed_node_id if err else None} failed")


@workflow(on_failure=report)
def reported(a: int) -> int:
    return double(x=a)

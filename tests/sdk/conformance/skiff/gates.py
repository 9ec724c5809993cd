"""Gate nodes: sleep ordered with >>, wait_for_input, approve."""
from datetime import timedelta

from sdk import approve, sleep, task, wait_for_input, workflow


@task
def double(x: int) -> int:
    return 2 * x


@task
def neg(x: int) -> int:
    return -x


@workflow
def gated(a: int) -> int:
    pause = sleep(timedelta(seconds=1))
    n = wait_for_input("num", timeout=timedelta(hours=1), expected_type=int)
    d = double(x=n)
    pause >> d
    approved = approve(d, "ok", timeout=timedelta(hours=2))
    return neg(x=approved)

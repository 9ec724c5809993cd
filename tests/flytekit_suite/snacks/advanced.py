"""Gates (approval and a typed signal), intratask checkpoints and shell tasks."""
import os
import typing
from datetime import timedelta

from flytekit import approve, current_context, kwtypes, task, wait_for_input, workflow
from flytekit.exceptions.user import FlyteRecoverableException
from flytekit.extras.tasks.shell import OutputLocation, ShellTask
from flytekit.types.file import FlyteFile


@task
def propose(x: int) -> int:
    return x * 10


@task
def settle(amount: int, bonus: int) -> int:
    return amount + bonus


@workflow
def gated(x: int = 4) -> int:
    amount = approve(propose(x=x), "confirm-amount", timeout=timedelta(minutes=10))
    bonus = wait_for_input("bonus", timeout=timedelta(minutes=10), expected_type=int)
    return settle(amount=amount, bonus=bonus)


@task(retries=2)
def count_with_checkpoint(n: int) -> int:
    checkpoint = current_context().checkpoint
    previous = checkpoint.read()
    start = int(previous.decode()) if previous else 0
    for i in range(start, n):
        # On a cluster the pod may be preempted half way: the first attempt stops at 5, the
        # next one resumes from the checkpoint (a lost checkpoint fails every attempt).
        if os.environ.get("FLYTE_INTERNAL_EXECUTION_ID") and previous is None and i == 5:
            raise FlyteRecoverableException("preempted at 5")
        checkpoint.write(str(i + 1).encode())
    return n


@workflow
def checkpointed(n: int = 8) -> int:
    return count_with_checkpoint(n=n)


shout_file = ShellTask(
    name="snacks.advanced.shout_file",
    script="""
    set -e
    tr a-z A-Z < {inputs.source} > {outputs.loud}
    """,
    inputs=kwtypes(source=FlyteFile),
    output_locs=[OutputLocation(var="loud", var_type=FlyteFile, location="/tmp/loud.txt")],
)


@task
def write_text(text: str) -> FlyteFile:
    path = os.path.join(current_context().working_directory, "quiet.txt")
    with open(path, "w") as out:
        out.write(text)
    return FlyteFile(path)


@task
def read_text(f: FlyteFile) -> str:
    with open(f) as text:
        return text.read()


@workflow
def shell(text: str = "make some noise") -> str:
    return read_text(f=shout_file(source=write_text(text=text)))

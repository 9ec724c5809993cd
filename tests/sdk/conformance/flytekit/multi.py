"""Tuple and NamedTuple outputs, unpacked and passed on; a workflow with named outputs."""
import typing

from flytekit import task, workflow


class Stats(typing.NamedTuple):
    count: int
    mean: float


@task
def stats(values: list[float]) -> Stats:
    return Stats(len(values), sum(values) / max(len(values), 1))


@task
def split(text: str) -> typing.Tuple[str, str]:
    head, _, tail = text.partition(" ")
    return head, tail


@task
def join(left: str, right: str, count: int) -> str:
    return f"{left}|{right}|{count}"


@task
def noop(text: str) -> None:
    print(text)


@workflow
def multi(values: list[float], text: str = "hello world") -> Stats:
    s = stats(values=values)
    head, tail = split(text=text)
    noop(text=join(left=tail, right=head, count=s.count))
    return Stats(count=s.count, mean=s.mean)


@workflow
def passthrough(text: str) -> typing.Tuple[str, str]:
    return split(text=text)

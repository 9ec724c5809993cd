"""Basics: tasks, workflows, several outputs, default inputs, an imperative workflow."""
import typing

from flytekit import Workflow, task, workflow


@task
def greet(name: str) -> str:
    return f"hello {name}"


@task
def stats(xs: typing.List[int]) -> typing.NamedTuple("Stats", total=int, biggest=int):
    return sum(xs), max(xs)


@workflow
def hello(name: str = "skiff", xs: typing.List[int] = [3, 1, 4]) -> typing.Tuple[str, int, int]:
    total, biggest = stats(xs=xs)
    return greet(name=name), total, biggest


@task
def double(x: int) -> int:
    return 2 * x


# The same pipeline built imperatively, as flytekit's Workflow API does it.
imperative = Workflow(name="snacks.basics.imperative")
imperative.add_workflow_input("x", int)
first = imperative.add_entity(double, x=imperative.inputs["x"])
second = imperative.add_entity(double, x=first.outputs["o0"])
imperative.add_workflow_output("result", second.outputs["o0"], python_type=int)

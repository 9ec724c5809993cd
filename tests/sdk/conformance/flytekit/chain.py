"""A chain of tasks with workflow defaults and two launch plans (default and fixed inputs)."""
from flytekit import LaunchPlan, Resources, task, workflow


@task(cache=True, cache_version="1", retries=2, requests=Resources(cpu="1", mem="256Mi"))
def square(x: int) -> int:
    return x * x


@task
def greet(name: str, total: int) -> str:
    """Greets someone.

    With a total, for the record.

    :param name: who to greet
    """
    return f"{name}:{total}"


@task
def shout(text: str, times: int = 2) -> str:
    return text.upper() * times


@workflow
def pipeline(n: int = 3, name: str = "ada") -> str:
    return shout(text=greet(name=name, total=square(x=n)))


LaunchPlan.get_or_create(pipeline, name="chain_lp", default_inputs={"n": 5})
LaunchPlan.get_or_create(pipeline, name="chain_fixed_lp", default_inputs={"n": 7}, fixed_inputs={"name": "bo"})

"""The smallest useful Skiff workflow: a cached, retried square feeding a greeting."""
from sdk import LaunchPlan, Resources, task, workflow


@task(cache=True, cache_version="1", retries=2, requests=Resources(cpu="1", mem="256Mi"))
def square(x: int) -> int:
    return x * x


@task
def greet(name: str, total: int) -> str:
    return f"{name}:{total}"


@workflow
def pipeline(n: int = 3, name: str = "ada") -> str:
    return greet(name=name, total=square(x=n))


LaunchPlan.get_or_create(pipeline, name="pipeline_lp", default_inputs={"n": 5})

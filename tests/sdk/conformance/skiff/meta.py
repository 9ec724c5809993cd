"""Every task option: caching, retries, timeouts, resources, image, environment, secrets."""
from datetime import timedelta

from sdk import Resources, Secret, task, workflow


@task(
    cache=True,
    cache_version="2",
    cache_serialize=True,
    cache_ignore_input_vars=("seed",),
    retries=3,
    timeout=timedelta(minutes=5),
    interruptible=True,
    requests=Resources(cpu="500m", mem="1Gi"),
    limits=Resources(cpu="2", mem="2Gi", gpu="1", ephemeral_storage="1Gi"),
    container_image="other:2",
    environment={"MODE": "fast", "LEVEL": "3"},
    secret_requests=[Secret(group="db", key="password"), Secret(group="api")],
)
def heavy(a: int, seed: int = 0) -> int:
    """Short line.

    Longer text here,
    on two lines.
    """
    return a + seed


@task(timeout=30, interruptible=False)
def light(x: int) -> int:
    return x


@workflow
def meta(a: int = 1) -> int:
    """A workflow with a docstring."""
    return light(x=heavy(a=a))

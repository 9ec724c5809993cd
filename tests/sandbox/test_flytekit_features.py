"""flytekit features as a Flyte user writes them, registered with `pyflyte register` into the
sandbox and run with FlyteRemote: attribute access into dataclass outputs, an `Echo` task in a
conditional's no-op branch (no container), and a task executed directly."""
from __future__ import annotations

import textwrap
import uuid

import pytest

from test_flytekit_interop import flytekit_image, pyflyte_register, remote  # noqa: F401

pytestmark = pytest.mark.sandbox

FEATURES = textwrap.dedent('''
    from dataclasses import dataclass
    from typing import List

    from flytekit import conditional, task, workflow
    from flytekit.core.task import Echo


    @dataclass
    class Fruit:
        name: str
        sizes: List[int]


    @task
    def pick(n: int) -> Fruit:
        return Fruit(name=f"apple{n}", sizes=[n, n + 1])


    @task
    def add(a: int, b: int) -> int:
        return a + b


    @task
    def label(s: str, t: int) -> str:
        return f"{s.upper()}:{t}"


    @workflow
    def fruity(n: int = 1) -> str:
        fruit = pick(n=n)
        total = add(a=fruit.sizes[0], b=fruit.sizes[1])
        return label(s=fruit.name, t=total)


    echo = Echo(name="echo", inputs={"a": int})


    @workflow
    def maybe(x: int = 1) -> int:
        return conditional("positive").if_(x > 0).then(add(a=x, b=1)).else_().then(echo(a=x))
''')


@pytest.fixture(scope="module")
def features_version(sandbox_home, flytekit_image, tmp_path_factory):
    root = tmp_path_factory.mktemp("features")
    (root / "features").mkdir()
    (root / "features" / "__init__.py").write_text("")
    (root / "features" / "flows.py").write_text(FEATURES)
    config = root / "config.yaml"
    config.write_text(f"admin:\n  endpoint: dns:///{sandbox_home.admin_endpoint}\n"
                      "  insecure: true\n")
    version = "ft-" + uuid.uuid4().hex[:8]
    result = pyflyte_register(root, config, flytekit_image, version)
    assert result.returncode == 0, result.stdout + result.stderr
    return version


def test_attribute_access_into_a_dataclass_output(remote, features_version):
    lp = remote.fetch_launch_plan(name="features.flows.fruity", version=features_version)
    execution = remote.wait(remote.execute(lp, inputs={"n": 4}, wait=False), timeout=300)
    assert execution.is_successful, execution.error
    assert execution.outputs.get("o0", as_type=str) == "APPLE4:9"  # sizes [4, 5]


def test_echo_task_in_a_conditional_runs_without_a_container(remote, features_version):
    lp = remote.fetch_launch_plan(name="features.flows.maybe", version=features_version)
    taken = remote.wait(remote.execute(lp, inputs={"x": -5}, wait=False), timeout=300)
    assert taken.is_successful, taken.error
    assert taken.outputs.get("o0", as_type=int) == -5  # echoed
    added = remote.wait(remote.execute(lp, inputs={"x": 5}, wait=False), timeout=300)
    assert added.outputs.get("o0", as_type=int) == 6


def test_a_task_executed_directly_runs_the_task(remote, features_version):
    task = remote.fetch_task(name="features.flows.add", version=features_version)
    execution = remote.wait(remote.execute(task, inputs={"a": 2, "b": 40}, wait=False),
                            timeout=300)
    assert execution.is_successful, execution.error
    assert execution.outputs.get("o0", as_type=int) == 42

"""flytekit 1.16.31 as the external client of the sandbox's admin: `pyflyte register` (fast
registration through the data proxy) of a flytekit workflow into a task image built by
`skiff image build`, FlyteRemote executing it and reading the values computed in containers,
and FlyteRemote loading a workflow Skiff registered."""
from __future__ import annotations

import datetime
import hashlib
import subprocess
import textwrap
import uuid
from typing import List

import pytest
from flytekit.configuration import Config
from flytekit.exceptions.user import FlyteEntityNotExistException
from flytekit.remote import FlyteRemote

from test_admin import admin, channel, package, register_through_admin  # noqa: F401 - fixtures
from sandbox.admin.client_config import config_path

# FlyteRemote.wait polls every 30 s by default: most of a short execution's wait
POLL = datetime.timedelta(seconds=1)

pytestmark = pytest.mark.sandbox

# One image for every flytekit test; the suite (test_flytekit_suite.py) needs dataframes and
# pydantic models too.
REQUIREMENTS = "flytekit==1.16.31\npandas==3.1.1\npyarrow==26.0.1\npydantic==2.14.4\n"
FLOW = textwrap.dedent('''
    from flytekit import task, workflow


    @task
    def square(x: int) -> int:
        return x * x


    @task
    def add(a: int, b: int) -> int:
        return a + b


    @workflow
    def pipeline(x: int = 3) -> int:
        return add(a=square(x=x), b=x)


    @task
    def refuse(x: int) -> int:
        if x > 0:
            raise ValueError(f"no thanks for {x}")
        return x


    @workflow
    def refusing(x: int = 1) -> int:
        return refuse(x=x)
''')

NESTED = textwrap.dedent('''
    from typing import List

    from flytekit import LaunchPlan, conditional, task, workflow


    @task
    def square(x: int) -> int:
        return x * x


    @task
    def total(xs: List[int]) -> int:
        return sum(xs)


    @workflow
    def inner(x: int) -> int:
        return square(x=x)


    inner_lp = LaunchPlan.get_or_create(inner, name="inner_lp")


    @workflow
    def outer(x: int = 3) -> int:
        a = inner(x=x)
        b = inner_lp(x=a)
        c = conditional("big").if_(b > 10).then(square(x=2)).else_().then(square(x=3))
        return total(xs=[a, b, c])
''')

MAPPED = textwrap.dedent('''
    from typing import List

    from flytekit import map_task, task, workflow


    @task(cache=True, cache_version="1")
    def scale(x: int, factor: int) -> int:
        return x * factor


    @task
    def total(xs: List[int]) -> int:
        return sum(xs)


    @workflow
    def scaled_sum(xs: List[int] = [1, 2, 3], factor: int = 10) -> int:
        from functools import partial

        return total(xs=map_task(partial(scale, factor=factor))(x=xs))
''')


@pytest.fixture(scope="session")
def flytekit_image(sandbox_home, tmp_path_factory):
    """Built once per content: the image is labelled with a digest of its inputs, so a later
    session only re-tags it."""
    requirements = tmp_path_factory.mktemp("image") / "requirements.txt"
    requirements.write_text(REQUIREMENTS)
    tag = "skiff-test-flytekit:" + hashlib.sha256(REQUIREMENTS.encode()).hexdigest()[:12]
    result = subprocess.run(["skiff", "image", "build", "--requirements", str(requirements),
                             "--tag", tag], capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == tag
    return tag


@pytest.fixture(scope="module")
def flyte_project(sandbox_home, tmp_path_factory):
    """A flytekit source tree and a config file pointing pyflyte at the sandbox."""
    root = tmp_path_factory.mktemp("flyteproj")
    (root / "interop").mkdir()
    (root / "interop" / "__init__.py").write_text("")
    (root / "interop" / "flow.py").write_text(FLOW)
    (root / "interop" / "nested.py").write_text(NESTED)
    (root / "interop" / "mapped.py").write_text(MAPPED)
    config = config_path(sandbox_home.home)  # written by `up`: client credentials
    return root, config


def pyflyte_register(root, config, image, version, package="interop", timeout=300):
    """`pyflyte register` of the flytekit package `package` under `root` into the sandbox."""
    return subprocess.run(
        ["pyflyte", "--config", str(config), "register", "--project", "flytesnacks",
         "--domain", "development", "--image", image, "--version", version, package],
        cwd=root, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def remote(sandbox_home):
    return FlyteRemote(Config.auto(config_file=str(config_path(sandbox_home.home))),
                       default_project="flytesnacks", default_domain="development")


@pytest.fixture(scope="module")
def registered_version(flyte_project, flytekit_image):
    root, config = flyte_project
    version = "fk-" + uuid.uuid4().hex[:8]
    result = pyflyte_register(root, config, flytekit_image, version)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Successfully registered 19 entities" in result.stdout
    return version


def test_pyflyte_register_then_flyteremote_runs_it_in_containers(remote, registered_version):
    lp = remote.fetch_launch_plan(name="interop.flow.pipeline", version=registered_version)
    execution = remote.execute(lp, inputs={"x": 4}, wait=False)
    execution = remote.wait(execution, timeout=300, poll_interval=POLL)
    assert execution.is_successful, execution.error
    assert execution.outputs.get("o0", as_type=int) == 20  # 4 * 4 + 4, computed in containers
    nodes = execution.node_executions
    assert set(nodes) == {"n0", "n1"}
    assert nodes["n0"].outputs.get("o0", as_type=int) == 16


def test_subworkflow_launch_plan_and_branch_nodes_sync_in_flyteremote(remote,
                                                                      registered_version):
    lp = remote.fetch_launch_plan(name="interop.nested.outer", version=registered_version)
    execution = remote.wait(remote.execute(lp, inputs={"x": 2}, wait=False), timeout=300,
                            poll_interval=POLL)
    assert execution.is_successful, execution.error
    # a = 2*2, b = a*a through a launch plan node, c = square(2) as b > 10: 4 + 16 + 4
    assert execution.outputs.get("o0", as_type=int) == 24
    nodes = execution.node_executions
    assert set(nodes) == {"n0", "n1", "n2", "n3"}
    assert all(n.is_done and n.closure.phase == 3 for n in nodes.values())  # SUCCEEDED
    # The engine inlines n0 (subworkflow) and n1 (launch plan); their data is bound from
    # their inner nodes.
    assert nodes["n0"].inputs.get("x", as_type=int) == 2
    assert nodes["n0"].outputs.get("o0", as_type=int) == 4
    assert nodes["n1"].outputs.get("o0", as_type=int) == 16
    assert nodes["n2"].outputs.get("o0", as_type=int) == 4


def test_a_flytekit_map_task_runs_each_element_in_its_own_container(remote,
                                                                    registered_version):
    lp = remote.fetch_launch_plan(name="interop.mapped.scaled_sum", version=registered_version)
    execution = remote.wait(remote.execute(lp, inputs={"xs": [4, 5, 6, 7], "factor": 3},
                                           wait=False), timeout=300, poll_interval=POLL)
    assert execution.is_successful, execution.error
    assert execution.outputs.get("o0", as_type=int) == 66  # 3 * (4 + 5 + 6 + 7)
    # Each element read the whole list and picked its own by flytekit's array index.
    mapped = execution.node_executions["n0"]
    assert mapped.outputs.get("o0", as_type=List[int]) == [12, 15, 18, 21]


def test_a_failing_flytekit_task_fails_the_execution_with_its_error(remote,
                                                                   registered_version):
    lp = remote.fetch_launch_plan(name="interop.flow.refusing", version=registered_version)
    execution = remote.wait(remote.execute(lp, inputs={"x": 5}, wait=False), timeout=300,
                            poll_interval=POLL)
    assert execution.closure.phase == 6  # FAILED
    assert "no thanks for 5" in execution.error.message
    assert "n0" in execution.error.message


def test_registering_the_same_version_again_succeeds(flyte_project, flytekit_image,
                                                     registered_version):
    root, config = flyte_project
    result = pyflyte_register(root, config, flytekit_image, registered_version)
    assert result.returncode == 0, result.stdout + result.stderr


def test_changed_code_under_the_same_version_is_refused(flyte_project, flytekit_image,
                                                        registered_version, tmp_path):
    root, config = flyte_project
    changed = tmp_path / "changed"
    (changed / "interop").mkdir(parents=True)
    (changed / "interop" / "__init__.py").write_text("")
    (changed / "interop" / "flow.py").write_text(FLOW.replace("x * x", "x * x * 1"))
    result = pyflyte_register(changed, config, flytekit_image, registered_version)
    assert result.returncode != 0
    assert "different spec" in result.stdout + result.stderr


def test_unknown_execution_is_a_not_found_error_in_flytekit(remote):
    with pytest.raises(FlyteEntityNotExistException, match="nosuchrun"):
        remote.fetch_execution(name="nosuchrun")


def test_flytekit_loads_and_runs_a_workflow_skiff_registered(remote, admin, sandbox_home,
                                                              package):
    version = "sk-" + uuid.uuid4().hex[:8]
    register_through_admin(admin, sandbox_home, package, "flytesnacks", "development", version)
    name = next(e.name for e in package.entities if e.kind == 2 and e.name.endswith(".twice"))
    workflow = remote.fetch_workflow(name=name, version=version)
    assert list(workflow.interface.inputs) == ["x"]
    assert [n.id for n in workflow.flyte_nodes] == ["n0", "n1"]
    lp = remote.fetch_launch_plan(name=name, version=version)
    execution = remote.wait(remote.execute(lp, inputs={"x": 3}, wait=False), timeout=300,
                            poll_interval=POLL)
    assert execution.is_successful, execution.error
    assert execution.outputs.get("o0", as_type=int) == 12

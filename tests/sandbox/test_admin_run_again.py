"""Flyte's RelaunchExecution and RecoverExecution on the sandbox's admin, called by flytekit's
client: relaunch runs every node again with the same inputs; recover keeps what completed and
runs from the node that failed."""
from __future__ import annotations

import datetime
import os
import subprocess
import textwrap
import uuid

import pytest
from flytekit.configuration import Config
from flytekit.exceptions.user import (
    FlyteEntityAlreadyExistsException, FlyteEntityNotExistException,
)
from flytekit.remote import FlyteRemote

from test_engine_support import docker_events
from sandbox.admin.client_config import config_path

pytestmark = pytest.mark.sandbox
POLL = datetime.timedelta(seconds=0.3)

FLOW = textwrap.dedent('''
    import os

    from sdk import task, workflow


    @task
    def first(x: int) -> int:
        return x + 1


    @task
    def picky(x: int) -> int:
        # Fails unless the execution was named "fixed-...": stands for a cause outside the
        # workflow (a service that was down) that is gone when the user recovers the run.
        if not os.environ["FLYTE_INTERNAL_EXECUTION_ID"].startswith("fixed-"):
            raise RuntimeError("the service is down")
        return x * 10


    @workflow
    def flaky(x: int = 1) -> int:
        return picky(x=first(x=x))
''')


@pytest.fixture(scope="module")
def remote(sandbox_home, tmp_path_factory):
    root = tmp_path_factory.mktemp("runagain")
    (root / "runagain.py").write_text(FLOW)
    env = {**os.environ, "SKIFF_HOME": sandbox_home.home}
    subprocess.run(["skiff", "package", "runagain.py", "-o", "runagain.tgz"], cwd=root,
                   env=env, check=True, capture_output=True)
    version = "ra-" + uuid.uuid4().hex[:8]
    registered = subprocess.run(
        ["skiff", "register", "runagain.tgz", "--project", "flytesnacks", "--domain",
         "development", "--version", version, "--endpoint", sandbox_home.admin_endpoint,
         "--insecure"], cwd=root, env=env, capture_output=True, text=True)
    assert registered.returncode == 0, registered.stderr
    flyte = FlyteRemote(Config.auto(config_file=str(config_path(sandbox_home.home))),
                        default_project="flytesnacks", default_domain="development")
    return flyte, version


def _failed_run(flyte, version):
    lp = flyte.fetch_launch_plan(name="runagain.flaky", version=version)
    execution = flyte.wait(flyte.execute(lp, inputs={"x": 4}, wait=False), timeout=300,
                           poll_interval=POLL)
    assert execution.closure.phase == 6, execution.closure  # FAILED, at picky
    assert "the service is down" in execution.error.message
    return execution


def test_recover_keeps_completed_nodes_and_runs_from_the_failure(remote):
    flyte, version = remote
    failed = _failed_run(flyte, version)
    name = "fixed-" + uuid.uuid4().hex[:8]
    with docker_events() as events:
        recovered_id = flyte.client.recover_execution(failed.id, name=name)
        recovered = flyte.wait(flyte.fetch_execution(name=recovered_id.name), timeout=300,
                               poll_interval=POLL)
    assert recovered_id.name == name
    assert recovered.is_successful, recovered.error
    assert recovered.outputs.get("o0", as_type=int) == 50  # (4 + 1) * 10, same inputs
    # Only the failed node ran again: n0's output came from the failed execution.
    assert [e["Actor"]["Attributes"]["skiff.node"] for e in events.of(name)] == ["n1"]
    nodes = recovered.node_executions
    assert nodes["n0"].outputs.get("o0", as_type=int) == 5
    assert recovered.spec.metadata.mode == 5  # RECOVERED
    assert recovered.spec.metadata.reference_execution.name == failed.id.name


def test_relaunch_runs_every_node_again(remote):
    flyte, version = remote
    failed = _failed_run(flyte, version)
    name = "fixed-" + uuid.uuid4().hex[:8]
    with docker_events() as events:
        relaunched_id = flyte.client.relaunch_execution(failed.id, name=name)
        relaunched = flyte.wait(flyte.fetch_execution(name=relaunched_id.name), timeout=300,
                                poll_interval=POLL)
    assert relaunched.is_successful, relaunched.error
    assert relaunched.outputs.get("o0", as_type=int) == 50
    assert sorted(e["Actor"]["Attributes"]["skiff.node"] for e in events.of(name)) == ["n0",
                                                                                      "n1"]
    assert relaunched.spec.metadata.mode == 3  # RELAUNCH


def test_run_again_of_an_unknown_execution_or_under_a_taken_name_is_refused(remote):
    flyte, version = remote
    failed = _failed_run(flyte, version)
    missing = type(failed.id)(project="flytesnacks", domain="development", name="nosuchrun")
    with pytest.raises(FlyteEntityNotExistException, match="nosuchrun"):
        flyte.client.recover_execution(missing)
    with pytest.raises(FlyteEntityAlreadyExistsException, match="already exists"):
        flyte.client.relaunch_execution(failed.id, name=failed.id.name)


def test_recover_and_relaunch_from_the_cli(sandbox_home, tmp_path):
    (tmp_path / "runagain.py").write_text(FLOW)
    env = {**os.environ, "SKIFF_HOME": sandbox_home.home}

    def skiff(*args):
        return subprocess.run(["skiff", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)

    failed = skiff("run", "--sandbox", "runagain.py", "flaky", "--x", "2")
    assert failed.returncode == 1 and "the service is down" in failed.stderr
    failed_id = next(line.split()[1] for line in failed.stderr.splitlines()
                     if line.startswith("execution "))
    name = "fixed-" + uuid.uuid4().hex[:8]
    with docker_events() as events:
        recovered = skiff("executions", "recover", failed_id, "--name", name, "--json",
                          "--quiet")
    assert recovered.returncode == 0, recovered.stderr
    assert recovered.stdout.strip() == '{"o0": 30}'
    assert [e["Actor"]["Attributes"]["skiff.node"] for e in events.of(name)] == ["n1"]

    taken = skiff("executions", "relaunch", failed_id, "--name", name)
    assert taken.returncode == 2 and f"execution name '{name}' is taken" in taken.stderr
    missing = skiff("executions", "recover", "nosuchrun")
    assert missing.returncode == 2 and "nosuchrun" in missing.stderr

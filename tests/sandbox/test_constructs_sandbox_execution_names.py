"""A client-chosen execution name (`skiff run --remote --name`, flytekit's
`execute(..., execution_name=...)`) names the sandbox execution, as Flyte admin does: checked
with Flyte's rule (a letter, then letters, digits and '-', at most 63 characters, checked
case-insensitively as flyteadmin does), and a name already taken is refused with a message saying so."""
from __future__ import annotations

import datetime
import json
import os
import subprocess
import textwrap

import pytest

from sandbox.engine import create_execution
from sandbox.registry import read_package, register_package
from sdk.errors import SkiffError
from test_engine_support import engine_context, ints, package, script_task, task_node, template
from sandbox.admin.client_config import config_path

pytestmark = pytest.mark.sandbox

WORKFLOW = textwrap.dedent('''
    from sdk import task, workflow


    @task
    def triple(x: int) -> int:
        return 3 * x


    @workflow
    def tripled(x: int) -> int:
        return triple(x=x)
''')


@pytest.fixture(scope="module")
def workflow_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("names") / "namedwf.py"
    path.write_text(WORKFLOW)
    return path


def _skiff(home, *args):
    return subprocess.run(["skiff", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SKIFF_HOME": home.home})


def test_run_remote_name_names_the_execution(sandbox_home, workflow_file):
    run = _skiff(sandbox_home, "run", "--remote", "--json", "--name", "nightly-7", str(workflow_file),
                 "tripled", "--x", "5")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"o0": 15}
    assert "execution default/development/nightly-7 " in run.stderr
    show = _skiff(sandbox_home, "executions", "show", "nightly-7", "--json")
    assert show.returncode == 0, show.stderr
    detail = json.loads(show.stdout)
    assert (detail["id"], detail["state"], detail["outputs"]) == ("nightly-7", "succeeded",
                                                                  {"o0": 15})

    again = _skiff(sandbox_home, "run", "--remote", "--name", "nightly-7", str(workflow_file),
                   "tripled", "--x", "6")
    assert again.returncode != 0
    assert "nightly-7 already exists" in again.stderr and "choose another name" in again.stderr


@pytest.mark.parametrize("name", ["7-up", "under_score", "dot.ted", "a" * 64])
def test_run_remote_refuses_names_flyte_refuses(sandbox_home, workflow_file, name):
    run = _skiff(sandbox_home, "run", "--remote", "--name", name, str(workflow_file), "tripled",
                 "--x", "1")
    assert run.returncode != 0
    assert f"execution name '{name}'" in run.stderr
    assert "a letter, then letters, digits and '-', at most 63 characters" in run.stderr
    show = _skiff(sandbox_home, "executions", "show", name)
    assert show.returncode != 0  # nothing was stored


def test_engine_create_execution_takes_an_id(sandbox_home, tmp_path):
    ctx = engine_context(sandbox_home)
    double = script_task("names.double", "out['o'] = inp['x'] * 2", {"x": int}, {"o": int})
    wf = template("names.wf", {"x": int}, {"r": int},
                  [task_node("n0", "names.double", {"x": "start-node.x"})], {"r": "n0.o"})
    reg = register_package(ctx.store, ctx.objects, read_package(package(tmp_path, [double], [wf])),
                           "names", "dev")
    chosen = create_execution(ctx.store, "names", "dev", "names.wf", reg.version, ints({"x": 1}),
                              execution_id="chosen-1")
    assert chosen == "chosen-1" and ctx.store.execution("chosen-1") is not None
    with pytest.raises(SkiffError, match="execution name 'chosen-1' is taken"):
        create_execution(ctx.store, "names", "dev", "names.wf", reg.version, ints({"x": 1}),
                         execution_id="chosen-1")
    with pytest.raises(SkiffError, match="execution name 'chosen_2' .*a letter, then letters"):
        create_execution(ctx.store, "names", "dev", "names.wf", reg.version, ints({"x": 1}),
                         execution_id="chosen_2")
    generated = create_execution(ctx.store, "names", "dev", "names.wf", reg.version,
                                 ints({"x": 1}))
    assert generated != "chosen-1" and len(generated) == 20


def test_flytekit_execution_name_names_the_execution(sandbox_home, workflow_file):
    from flytekit.configuration import Config
    from flytekit.remote import FlyteRemote

    run = _skiff(sandbox_home, "run", "--remote", "--json", str(workflow_file), "tripled",
                 "--x", "1")  # registers the workflow; its version is in the progress lines
    assert run.returncode == 0, run.stderr
    version = run.stderr.split(" as version ")[1].split()[0]
    remote = FlyteRemote(Config.auto(config_file=str(config_path(sandbox_home.home))),
                         default_project="default", default_domain="development")
    lp = remote.fetch_launch_plan(name="namedwf.tripled", version=version)
    execution = remote.wait(  # polled every second (FlyteRemote's default: 30 s)
        remote.execute(lp, inputs={"x": 4}, execution_name="from-flytekit", wait=False),
        timeout=300, poll_interval=datetime.timedelta(seconds=1))
    assert execution.id.name == "from-flytekit"
    assert execution.is_successful, execution.error
    assert execution.outputs.get("o0", as_type=int) == 12

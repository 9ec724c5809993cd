"""flytectl against Skiff's sandbox admin, with Flyte's own flyteadmin as the oracle: the same
package registered in both with `flytectl register files --archive`, then every `flytectl get`
a user runs (project, task, workflow, launch plan, execution; table and `-o yaml`) answers the
same in both once times and storage locations are set aside, and `flytectl create execution`
from the execution spec file `flytectl get launchplan --execFile` writes runs in the sandbox."""
from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import yaml

from sandbox.admin.client_config import config_path
from sdk.compile.package import write_package

pytestmark = pytest.mark.sandbox

EXAMPLE = Path(__file__).parents[2] / "examples" / "pipeline.py"
# A project of its own in both admins: listings without a name (`get task`) then hold only this
# test's entities, whatever other tests registered in the session's admins.
PROJECT, DOMAIN, VERSION = "flytectlcheck", "development", "ctl1"
# Where each admin put the code bundle differs (bucket and key scheme): compared by file name.
_BUNDLE = re.compile(r"s3://[^\s'\"]+/(fast[0-9a-f]+\.tar\.gz)")
_TIMES = {"createdAt", "updatedAt", "startedAt", "occurredAt", "duration"}


@pytest.fixture(scope="module")
def admins(sandbox_home, flyteadmin, tmp_path_factory):
    """{"skiff": flytectl config, "flyte": flytectl config}, the same package registered in both."""
    work = tmp_path_factory.mktemp("flytectl")
    skiff_config = config_path(sandbox_home.home)  # written by `up`: client credentials
    root = work / "src"
    root.mkdir()
    shutil.copy(EXAMPLE, root / "ctlflow.py")
    package = work / "ctlflow.tgz"
    write_package([str(root / "ctlflow.py")], sandbox_home.runtime_image, str(package))
    configs = {"skiff": str(skiff_config), "flyte": flyteadmin["flytekit_config"]}
    for config in configs.values():
        _ctl(flyteadmin, config, "create", "project", "--id", PROJECT, "--name", PROJECT)
        out = _ctl(flyteadmin, config, "register", "files", str(package), "--archive",
                   "-p", PROJECT, "-d", DOMAIN, "--version", VERSION)
        assert out.count("| Success |") == 5, out
    return configs, flyteadmin, work


def _ctl(flyteadmin, config, *args) -> str:
    result = subprocess.run([flyteadmin["flytectl"], *args, "--config", config],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"flytectl {' '.join(args)}: {result.stderr}{result.stdout}"
    return result.stdout


def _normalized(value):
    """Times dropped, code bundle URIs reduced to the bundle's file name."""
    if isinstance(value, dict):
        return {k: _normalized(v) for k, v in value.items() if k not in _TIMES}
    if isinstance(value, list):
        return [_normalized(v) for v in value]
    if isinstance(value, str):
        return _BUNDLE.sub(r"\1", value)
    return value


def _both(admins, *args):
    configs, flyteadmin, _ = admins
    return {side: yaml.safe_load(_ctl(flyteadmin, config, *args, "-p", PROJECT, "-d", DOMAIN,
                                      "-o", "yaml"))
            for side, config in configs.items()}


@pytest.mark.parametrize("args", [
    ("task", "ctlflow.square", "--version", VERSION),
    ("task",),
    ("workflow", "ctlflow.pipeline", "--version", VERSION),
    ("workflow", "ctlflow.pipeline"),  # the versions of one name: flyteadmin's list entries
    ("workflow",),  # the names (ListNamedEntities)
    ("launchplan", "pipeline_lp", "--version", VERSION),
    ("launchplan", "ctlflow.pipeline"),
], ids=lambda args: "-".join(a for a in args if a != "--version"))
def test_get_answers_as_flyteadmin(admins, args):
    answers = _both(admins, "get", *args)
    assert answers["skiff"], answers
    assert _normalized(answers["skiff"]) == _normalized(answers["flyte"])


def test_get_project(admins):
    answers = _both(admins, "get", "project")
    # flyteadmin's seeded projects carry a description ("<name> description"); the rest agrees.
    shape = lambda projects: {p["id"]: (p["name"], p["domains"]) for p in projects}  # noqa: E731
    assert shape(answers["skiff"]).items() >= {PROJECT: shape(answers["flyte"])[PROJECT]}.items()
    configs, flyteadmin, _ = admins
    assert PROJECT in _ctl(flyteadmin, configs["skiff"], "get", "project")


def _execution(admins, side, name) -> dict:
    configs, flyteadmin, _ = admins
    return yaml.safe_load(_ctl(flyteadmin, configs[side], "get", "execution", name, "-p", PROJECT,
                               "-d", DOMAIN, "-o", "yaml"))


def test_create_execution_from_an_exec_file_runs_in_the_sandbox(admins):
    configs, flyteadmin, work = admins
    created = {}
    for side, config in configs.items():
        exec_file = work / f"{side}-exec.yaml"
        _ctl(flyteadmin, config, "get", "launchplan", "pipeline_lp", "--version", VERSION,
             "-p", PROJECT, "-d", DOMAIN, "--execFile", str(exec_file))
        spec = yaml.safe_load(exec_file.read_text())
        assert spec["workflow"] == "pipeline_lp" and spec["inputs"] == {"n": 5, "name": "ada"}
        # Edited as a user would (re-dumping would write the key n unquoted: YAML 1.1's false).
        exec_file.write_text(exec_file.read_text().replace('"n": 5', '"n": 6'))
        out = _ctl(flyteadmin, config, "create", "execution", "-p", PROJECT, "-d", DOMAIN,
                   "--execFile", str(exec_file))
        created[side] = re.search(r'name:"([a-z0-9]+)"', out)[1]

    deadline = time.monotonic() + 120
    while (phase := _execution(admins, "skiff", created["skiff"])["closure"]["phase"]) not in (
            "SUCCEEDED", "FAILED", "ABORTED") and time.monotonic() < deadline:
        time.sleep(1)
    assert phase == "SUCCEEDED"
    # The run computed from the exec file's inputs (n=6): node n1's output, through flytectl.
    details = _ctl(flyteadmin, configs["skiff"], "get", "execution", created["skiff"], "-p",
                   PROJECT, "-d", DOMAIN, "--details", "-o", "yaml")
    assert "ada:36" in details
    assert "taskType: python-task" in details  # each attempt's task type, as propeller reports it

    # The execution spec as both admins keep it (flyteadmin's own run fails: no propeller).
    executions = {side: _execution(admins, side, name) for side, name in created.items()}
    specs = {side: execution["spec"] for side, execution in executions.items()}
    for spec in specs.values():
        spec.pop("metadata")  # the caller's principal, and flyteadmin's Kubernetes namespace
    assert specs["skiff"] == specs["flyte"]
    # The closure has what flyteadmin's has (theirs failed: an error; ours ran: start, duration).
    closures = {side: execution["closure"] for side, execution in executions.items()}
    assert set(closures["flyte"]) - {"error"} <= set(closures["skiff"]), closures
    assert closures["skiff"]["workflowId"] == closures["flyte"]["workflowId"]

    listed = _ctl(flyteadmin, configs["skiff"], "get", "execution", "-p", PROJECT, "-d", DOMAIN)
    assert created["skiff"] in listed and "pipeline_lp" in listed

"""`skiff sandbox run PKG LP` whose package lacks the launch plan's workflow: the workflow's
inputs come from the sandbox's registry, and when it is not registered either the error says
so (it used to claim the launch plan's "inputs are none")."""
from __future__ import annotations

import os
import subprocess
import tarfile

import pytest

pytestmark = pytest.mark.sandbox

WORKFLOW = '''
from sdk import task, workflow, LaunchPlan

@task
def add_one(x: int) -> int:
    return x + 1

@workflow
def orphanwf(x: int = 1) -> int:
    return add_one(x=x)

LaunchPlan.get_or_create(orphanwf, name="orphan_lp", default_inputs={"x": 5})
'''


def test_launch_plan_whose_workflow_is_nowhere_is_named(sandbox_home, tmp_path):
    (tmp_path / "orphan_wf.py").write_text(WORKFLOW)
    env = {**os.environ, "SKIFF_HOME": sandbox_home.home}
    subprocess.run(["skiff", "package", "orphan_wf.py", "-o", "full.tgz"], cwd=tmp_path, env=env,
                   check=True, capture_output=True, timeout=120)
    with tarfile.open(tmp_path / "full.tgz") as full, \
            tarfile.open(tmp_path / "lp_only.tgz", "w:gz") as lp_only:
        for member in full.getmembers():
            if not member.name.endswith("_2.pb"):  # drop the workflow (kind 2)
                lp_only.addfile(member, full.extractfile(member) if member.isfile() else None)
    result = subprocess.run(["skiff", "sandbox", "run", "lp_only.tgz", "orphan_lp", "--x", "2"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "inputs are none" not in result.stderr
    assert ("launch plan orphan_lp runs workflow orphan_wf.orphanwf, which is neither in package "
            "lp_only.tgz nor registered in default/development") in result.stderr

"""Launch plans of the same name for different workflows: fine apart, refused in one package."""

import textwrap

import pytest

from sdk.compile.package import write_package
from sdk.errors import CompileError
from sdk.loader import entities_in, load_module

SOURCE = """
from sdk import task, workflow, LaunchPlan

@task
def double(x: int) -> int:
    return 2 * x

@workflow
def flow(x: int = {default}) -> int:
    return double(x=x)

LaunchPlan.get_or_create(flow, name="nightly", default_inputs={{"x": {default}}})
"""


@pytest.fixture()
def two_files(tmp_path):
    for module, default in (("lp_first", 1), ("lp_second", 2)):
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(SOURCE.format(default=default)))
    return tmp_path / "lp_first.py", tmp_path / "lp_second.py"


def test_each_file_keeps_its_own_launch_plan_of_that_name(two_files):
    first, second = (entities_in(load_module(str(path))) for path in two_files)
    nightly_first = [lp for lp in first.launch_plans if lp.name == "nightly"]
    nightly_second = [lp for lp in second.launch_plans if lp.name == "nightly"]
    assert [lp.workflow.name for lp in nightly_first] == ["lp_first.flow"]
    assert [lp.workflow.name for lp in nightly_second] == ["lp_second.flow"]
    assert nightly_first[0].default_inputs == {"x": 1}
    assert nightly_second[0].default_inputs == {"x": 2}


def test_one_package_with_both_is_refused_and_nothing_is_written(two_files, tmp_path):
    output = tmp_path / "both.tgz"
    with pytest.raises(CompileError, match="launch plan name 'nightly' is defined twice"):
        write_package([str(p) for p in two_files], "img:1", str(output))
    assert not output.exists()

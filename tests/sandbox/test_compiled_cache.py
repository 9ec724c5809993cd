"""`skiff run --sandbox` reusing the package compiled from unchanged sources (the compiled-package
cache): a rerun does not import the user's module, gives the same outputs, options and errors,
and any change to the source tree, the flag, or a damaged entry makes it compile again."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import textwrap
from pathlib import Path

import pytest

WORKFLOW = textwrap.dedent('''
    import os

    from sdk import LaunchPlan, task, workflow

    from helper import OFFSET

    # A module-level side effect: shows whether the CLI imported the module (the task's
    # container imports it too, without the variable).
    if os.environ.get("SKIFF_TEST_IMPORT_LOG"):
        with open(os.environ["SKIFF_TEST_IMPORT_LOG"], "a") as log:
            log.write("imported\\n")


    # Not cached: a changed source must show in the outputs. Run {token}.
    @task
    def add(x: int, y: int = 2) -> int:
        """Add two numbers and the helper's offset."""
        return x + y + OFFSET


    @workflow
    def pipe(x: int, y: int = 2) -> int:
        """Add, in a workflow.

        :param x: the first number
        :param y: the second number
        """
        return add(x=x, y=y)


    pipe_fixed = LaunchPlan.get_or_create(pipe, name="pipe_fixed", fixed_inputs={{"y": 10}})
''')


@pytest.fixture
def project(sandbox_home, tmp_path):
    """A source tree (a workflow file and a helper module it imports) and the log its import
    writes to."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "wf.py").write_text(WORKFLOW.format(token=secrets.token_hex(4)))
    (root / "helper.py").write_text("OFFSET = 0\n")
    log = tmp_path / "imports.log"
    log.write_text("")
    return root, log


def skiff(root: Path, log: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SKIFF_TEST_IMPORT_LOG": str(log)}
    return subprocess.run(["skiff", *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)


def imports(log: Path) -> int:
    return log.read_text().count("imported")


def run_pipe(root, log, *extra):
    return skiff(root, log, "run", "--sandbox", *extra)


def compiled_entries(sandbox_home) -> list[Path]:
    return sorted(Path(sandbox_home.home, "compiled").glob("*.json"))


def test_rerun_of_unchanged_file_reuses_the_compiled_package(project, sandbox_home):
    root, log = project
    first = run_pipe(root, log, "wf.py", "pipe", "--x", "3", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"o0": 5}
    assert imports(log) == 1
    again = run_pipe(root, log, "wf.py", "pipe", "--x", "3", "--json")
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert imports(log) == 1  # the module was not imported: the package came from the cache
    # Other entities, by short or dotted name, and other inputs come from the same entry.
    task = run_pipe(root, log, "wf.py", "wf.add", "--x", "1", "--y", "1", "--json")
    assert task.returncode == 0, task.stderr
    assert json.loads(task.stdout) == {"o0": 2}
    plan = run_pipe(root, log, "wf.py", "pipe_fixed", "--x", "1", "--json")
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout) == {"o0": 11}
    assert imports(log) == 1


def test_editing_a_source_of_the_package_recompiles_and_runs_the_new_code(project):
    root, log = project
    assert json.loads(run_pipe(root, log, "wf.py", "pipe", "--x", "3", "--json").stdout) == {"o0": 5}
    (root / "helper.py").write_text("OFFSET = 100\n")
    edited = run_pipe(root, log, "wf.py", "pipe", "--x", "3", "--json")
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout) == {"o0": 105}
    assert imports(log) == 2
    source = (root / "wf.py").read_text().replace("return x + y + OFFSET", "return x * y + OFFSET")
    (root / "wf.py").write_text(source)
    assert json.loads(run_pipe(root, log, "wf.py", "pipe", "--x", "3", "--json").stdout) == {"o0": 106}
    assert imports(log) == 3
    # A new file the workflow does not import is no part of the --copy auto bundle: reused.
    (root / "notes.txt").write_text("data the tasks might read\n")
    assert json.loads(run_pipe(root, log, "wf.py", "pipe", "--x", "3", "--json").stdout) == {"o0": 106}
    assert imports(log) == 3
    # With --copy all it goes into the code bundle, so a new file recompiles.
    assert json.loads(run_pipe(root, log, "--copy", "all", "wf.py", "pipe", "--x", "3", "--json").stdout) == {"o0": 106}
    assert imports(log) == 4
    assert run_pipe(root, log, "--copy", "all", "wf.py", "pipe", "--x", "3").returncode == 0
    assert imports(log) == 4
    (root / "more-notes.txt").write_text("more\n")
    assert run_pipe(root, log, "--copy", "all", "wf.py", "pipe", "--x", "3").returncode == 0
    assert imports(log) == 5


def test_no_compile_cache_flag_imports_and_compiles(project):
    root, log = project
    assert run_pipe(root, log, "wf.py", "pipe", "--x", "3").returncode == 0
    skipped = run_pipe(root, log, "--no-compile-cache", "wf.py", "pipe", "--x", "3", "--json")
    assert skipped.returncode == 0, skipped.stderr
    assert json.loads(skipped.stdout) == {"o0": 5}
    assert imports(log) == 2
    help_text = " ".join(skiff(root, log, "run", "--help").stdout.split())
    assert "--no-compile-cache" in help_text
    assert "modules imported from outside the source root" in help_text


@pytest.mark.parametrize("args", [
    ["wf.py", "pipe", "--help"],
    ["wf.py", "pipe_fixed", "--help"],
    ["wf.py", "wf.add", "--help"],
    ["wf.py", "pipe", "--x", "abc"],
    ["wf.py", "pipe", "--y", "4"],
    ["wf.py", "pipe_fixed", "--x", "1", "--y", "4"],
    ["wf.py", "pipe", "--inputs-file", "bad.json"],
    ["wf.py", "pipe", "--inputs-file", "unknown.json"],
    ["wf.py", "nothing"],
])
def test_options_help_and_errors_are_the_same_on_hit_and_miss(project, args):
    root, log = project
    (root / "bad.json").write_text('{"x": "three"}')
    (root / "unknown.json").write_text('{"x": 1, "z": 2}')
    assert run_pipe(root, log, "wf.py", "pipe", "--x", "3").returncode == 0  # the entry exists now
    count = imports(log)
    hit = run_pipe(root, log, *args)
    if args[1] != "nothing":  # an entity the manifest lacks: the file is loaded to say what exists
        assert imports(log) == count, "the cached entry should have served this"
    miss = run_pipe(root, log, "--no-compile-cache", *args)
    assert (hit.returncode, hit.stdout, hit.stderr) == (miss.returncode, miss.stdout, miss.stderr)
    if "--help" in args:
        assert hit.returncode == 0
    else:
        assert hit.returncode == 2


def test_bad_value_names_entity_and_input_with_exit_2_on_a_hit(project):
    root, log = project
    assert run_pipe(root, log, "wf.py", "pipe", "--x", "3").returncode == 0
    bad = run_pipe(root, log, "wf.py", "pipe", "--x", "abc")
    assert bad.returncode == 2
    assert "workflow wf.pipe: invalid value for input 'x' (--x)" in bad.stderr
    assert imports(log) == 1
    help_text = run_pipe(root, log, "wf.py", "pipe_fixed", "--help").stdout
    assert "--x" in help_text and "--y" not in help_text  # y is fixed by the launch plan
    assert "the first number  [int, required]" in run_pipe(root, log, "wf.py", "pipe", "--help").stdout


def test_inputs_file_project_and_domain_on_a_hit(project, sandbox_home):
    root, log = project
    assert run_pipe(root, log, "wf.py", "pipe", "--x", "3").returncode == 0
    inputs = root.parent / "inputs.yaml"  # outside the source tree, which it would change
    inputs.write_text("x: 5\ny: 6\n")
    run = run_pipe(root, log, "--project", "p2", "--domain", "staging", "wf.py", "pipe",
                   "--inputs-file", str(inputs), "--y", "7", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"o0": 12}  # the option wins over the file
    assert imports(log) == 1
    execution = next(line.split()[1] for line in run.stderr.splitlines() if line.startswith("execution "))
    shown = json.loads(skiff(root, log, "executions", "show", execution, "--json").stdout)
    assert (shown["project"], shown["domain"]) == ("p2", "staging")


@pytest.mark.parametrize("damage", ["manifest", "package"])
def test_damaged_entry_falls_back_to_compiling_and_is_replaced(project, sandbox_home, damage):
    root, log = project
    assert run_pipe(root, log, "wf.py", "pipe", "--x", "3").returncode == 0
    entries = compiled_entries(sandbox_home)
    manifest = max(entries, key=lambda p: p.stat().st_mtime_ns)
    if damage == "manifest":
        manifest.write_text('{"format": "skiff-compiled-package-2", "entities": [{"short"')
    else:
        package = manifest.with_suffix(".tgz")
        package.write_bytes(package.read_bytes()[:100])
    recovered = run_pipe(root, log, "wf.py", "pipe", "--x", "3", "--json")
    assert recovered.returncode == 0, recovered.stderr
    assert json.loads(recovered.stdout) == {"o0": 5}
    assert imports(log) == 2  # compiled again
    assert json.loads(manifest.read_text())["entities"]  # the entry was written again
    hit = run_pipe(root, log, "wf.py", "pipe", "--x", "3", "--json")
    assert json.loads(hit.stdout) == {"o0": 5}
    assert imports(log) == 2  # and serves the next run

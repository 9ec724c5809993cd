"""`skiff run` and `skiff package`: listing, --help, typed options, inputs files, --json, errors."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import textwrap

import pytest
from click.testing import CliRunner

from sandbox.cli import cli, main

WORKFLOW = textwrap.dedent(
    '''
    """Workflows for the CLI tests."""
    import datetime
    import enum
    from dataclasses import dataclass, field
    from typing import NamedTuple, Optional

    from sdk import LaunchPlan, task, workflow
    from sdk.types import File


    class Color(enum.Enum):
        RED = "red"
        BLUE = "blue"


    @dataclass
    class Point:
        x: int
        y: float = 0.5
        tags: list[str] = field(default_factory=list)


    class Summary(NamedTuple):
        point: Point
        color: Color
        when: datetime.datetime
        data: File
        text: str


    @task
    def square(x: int) -> int:
        """Square a number.

        :param x: the number to square
        """
        return x * x


    @task
    def greet(name: str, total: int) -> str:
        return f"{name}:{total}"


    @workflow
    def pipeline(n: int = 3, name: str = "ada") -> str:
        """Square n, then greet with the total."""
        return greet(name=name, total=square(x=n))


    @task
    def everything(
        ratio: float,
        flag: bool,
        when: datetime.datetime,
        wait: datetime.timedelta,
        color: Color,
        items: list[int],
        table: dict[str, float],
        point: Point,
        data: File,
        maybe: Optional[int] = None,
        loud: bool = False,
    ) -> Summary:
        text = (
            f"ratio={ratio} flag={flag} wait={wait.total_seconds()} items={items} "
            f"table={table} maybe={maybe} loud={loud} data={open(data).read().strip()}"
        )
        return Summary(point=point, color=color, when=when, data=data, text=text)


    @task
    def explode(x: int) -> int:
        raise RuntimeError(f"exploded on {x}")


    LaunchPlan.get_or_create(pipeline, name="cli_tests_lp", default_inputs={"n": 5}, fixed_inputs={"name": "lp"})
    '''
)


@pytest.fixture(scope="module")
def wf_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cliwf")
    (directory / "cli_test_wf.py").write_text(WORKFLOW)
    (directory / "data.txt").write_text("payload\n")
    return directory


@pytest.fixture
def run(wf_dir, monkeypatch):
    """Invoke `skiff` in the workflow's directory through click's test runner."""
    monkeypatch.chdir(wf_dir)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_listing_shows_tasks_workflows_and_launch_plans(run):
    result = run("run", "cli_test_wf.py")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("Tasks:") < out.index("square") < out.index("Workflows:") < out.index("pipeline")
    assert "Launch plans:" in out and "cli_tests_lp" in out
    assert "Square a number." in out  # first docstring line next to the name


def test_help_shows_docstring_and_typed_options_with_defaults(run):
    result = run("run", "cli_test_wf.py", "pipeline", "--help")
    assert result.exit_code == 0, result.output
    assert "Square n, then greet with the total." in result.stdout
    assert "--n INTEGER" in result.stdout and "default: 3" in result.stdout
    assert "--name TEXT" in result.stdout and "default: ada" in result.stdout
    task_help = run("run", "cli_test_wf.py", "square", "--help").stdout
    assert "the number to square" in task_help and "required" in task_help
    everything = run("run", "cli_test_wf.py", "everything", "--help").stdout
    assert "--flag / --no-flag" in everything
    assert "[red|blue]" in everything


def test_run_with_options_prints_name_value_lines(run):
    result = run("run", "cli_test_wf.py", "pipeline", "--n", "4", "--name", "bo")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "o0: bo:16"
    assert run("run", "cli_test_wf.py", "pipeline").stdout.strip() == "o0: ada:9"  # defaults
    assert run("run", "cli_test_wf.py", "square", "--x", "-3").stdout.strip() == "o0: 9"


def test_launch_plan_applies_its_defaults_and_fixed_inputs(run):
    result = run("run", "cli_test_wf.py", "cli_tests_lp")
    assert result.stdout.strip() == "o0: lp:25"
    help_text = run("run", "cli_test_wf.py", "cli_tests_lp", "--help").stdout
    assert "--n" in help_text and "--name" not in help_text  # a fixed input is not an option


def test_every_input_type_from_options_and_json_output(run, wf_dir):
    result = run(
        "run", "cli_test_wf.py", "everything",
        "--ratio", "0.25", "--flag", "--when", "2024-01-02T03:04:05Z", "--wait", "1h30m",
        "--color", "blue", "--items", "[1, 2]", "--table", '{"a": 1.5}',
        "--point", '{"x": 1, "tags": ["t"]}', "--data", "data.txt", "--maybe", "7", "--json",
    )
    assert result.exit_code == 0, result.output
    outputs = json.loads(result.stdout)  # exactly one JSON document
    assert outputs["point"] == {"x": 1, "y": 0.5, "tags": ["t"]}
    assert outputs["color"] == "blue"
    assert outputs["when"].startswith("2024-01-02T03:04:05")
    assert os.path.basename(outputs["data"]) == "data.txt"
    assert outputs["text"] == (
        "ratio=0.25 flag=True wait=5400.0 items=[1, 2] table={'a': 1.5} maybe=7 loud=False data=payload"
    )


@pytest.mark.parametrize("suffix", ["yaml", "json"])
def test_inputs_file_yaml_or_json_and_options_win(run, wf_dir, suffix):
    values = {
        "ratio": 2, "flag": False, "when": "2024-05-06T07:08:09+00:00", "wait": 90, "color": "red",
        "items": [3], "table": {}, "point": {"x": 4}, "data": "data.txt", "loud": True,
    }
    path = wf_dir / f"inputs.{suffix}"
    if suffix == "json":
        path.write_text(json.dumps(values))
    else:
        import yaml

        path.write_text(yaml.safe_dump(values))
    result = run("run", "cli_test_wf.py", "everything", "--inputs-file", str(path), "--color", "blue", "--json")
    assert result.exit_code == 0, result.output
    outputs = json.loads(result.stdout)
    assert outputs["color"] == "blue"  # the option overrides the file
    assert outputs["point"] == {"x": 4, "y": 0.5, "tags": []}
    assert "ratio=2.0 flag=False wait=90.0 items=[3]" in outputs["text"] and "loud=True" in outputs["text"]


def test_bad_value_is_a_usage_error_naming_entity_and_input(run):
    result = run("run", "cli_test_wf.py", "square", "--x", "abc")
    assert result.exit_code == 2
    assert "square" in result.stderr and "'x'" in result.stderr and "abc" in result.stderr
    bad_json = run("run", "cli_test_wf.py", "everything", "--point", '{"x": "one"}')
    assert bad_json.exit_code == 2
    assert "cli_test_wf.everything" in bad_json.stderr and "'point'" in bad_json.stderr
    assert "Point.x" in bad_json.stderr


def test_missing_input_is_a_usage_error_naming_entity_and_input(run):
    result = run("run", "cli_test_wf.py", "square")
    assert result.exit_code == 2
    assert "task cli_test_wf.square needs input 'x'" in result.stderr and "--x" in result.stderr


def test_bad_inputs_file_entries_name_the_input(run, wf_dir):
    path = wf_dir / "bad.yaml"
    path.write_text("x: [1, 2]\n")
    result = run("run", "cli_test_wf.py", "square", "--inputs-file", str(path))
    assert result.exit_code == 2 and "'x'" in result.stderr and "square" in result.stderr
    path.write_text("y: 1\n")
    result = run("run", "cli_test_wf.py", "square", "--inputs-file", str(path))
    assert result.exit_code == 2 and "'y'" in result.stderr and "its inputs are: x" in result.stderr
    path.write_text("- 1\n- 2\n")
    result = run("run", "cli_test_wf.py", "square", "--inputs-file", str(path))
    assert result.exit_code == 2 and "mapping" in result.stderr


def test_missing_file_and_unknown_entity_exit_2(run):
    missing = run("run", "no_such_file.py", "pipeline")
    assert missing.exit_code == 2 and "no_such_file.py not found" in missing.stderr
    unknown = run("run", "cli_test_wf.py", "nope")
    assert unknown.exit_code == 2
    assert "'nope'" in unknown.stderr and "square" in unknown.stderr and "pipeline" in unknown.stderr


def test_a_failing_task_exits_1_with_its_error(run):
    result = run("run", "cli_test_wf.py", "explode", "--x", "2")
    assert result.exit_code == 1
    assert "Error: task cli_test_wf.explode failed: RuntimeError: exploded on 2" in result.stderr
    assert "Traceback" in result.stderr  # the user's traceback is shown too


def test_main_returns_exit_codes(wf_dir, monkeypatch, capsys):
    monkeypatch.chdir(wf_dir)
    assert main(["run", "cli_test_wf.py", "square", "--x", "5"]) == 0
    assert capsys.readouterr().out.strip() == "o0: 25"
    assert main(["run", "cli_test_wf.py", "nope"]) == 2
    assert capsys.readouterr().err.startswith("Error: cli_test_wf.py has no task")
    assert main(["run", "cli_test_wf.py", "explode", "--x", "1"]) == 1


def _skiff(args, cwd, env=None):
    return subprocess.run(["skiff", *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def test_subprocess_run_json_and_errors(wf_dir):
    result = _skiff(["run", "cli_test_wf.py", "pipeline", "--n", "6", "--json"], wf_dir)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"o0": "ada:36"}
    run_level = _skiff(["run", "--json", "cli_test_wf.py", "square", "--x", "2"], wf_dir)
    assert json.loads(run_level.stdout) == {"o0": 4}
    bad = _skiff(["run", "cli_test_wf.py", "square", "--x", "1.5"], wf_dir)
    assert bad.returncode == 2 and "'x'" in bad.stderr
    assert _skiff(["--version"], wf_dir).stdout.startswith("skiff, version")


def test_shell_completion_offers_entity_names(wf_dir):
    env = {**os.environ, "_SKIFF_COMPLETE": "bash_complete", "COMP_WORDS": "skiff run cli_test_wf.py p", "COMP_CWORD": "3"}
    result = _skiff([], wf_dir, env=env)
    offered = [line.split(",", 1)[-1] for line in result.stdout.splitlines()]
    assert "pipeline" in offered and "square" not in offered
    env["COMP_WORDS"] = "skiff run cli_test_wf.py "
    every = [line.split(",", 1)[-1] for line in _skiff([], wf_dir, env=env).stdout.splitlines()]
    assert {"square", "greet", "pipeline", "everything", "cli_tests_lp"} <= set(every)


def test_package_writes_a_pyflyte_layout(wf_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SKIFF_HOME", str(tmp_path / "home"))  # no sandbox: the fallback image
    output = tmp_path / "pkg.tgz"
    result = CliRunner().invoke(cli, ["package", str(wf_dir / "cli_test_wf.py"), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "skiff-runtime:latest" in result.stdout
    with tarfile.open(output) as archive:
        names = archive.getnames()
    assert any(n.endswith("_cli_test_wf.square_1.pb") for n in names)
    assert any(n.endswith("_cli_test_wf.pipeline_2.pb") for n in names)
    assert any(n.startswith("fast") and n.endswith(".tar.gz") for n in names)


def test_package_of_a_missing_file_exits_2(tmp_path):
    result = CliRunner().invoke(cli, ["package", str(tmp_path / "none.py"), "-o", str(tmp_path / "p.tgz")])
    assert result.exit_code == 2 and "none.py" in result.stderr


@pytest.fixture
def recorded_sandbox_runs(tmp_path, monkeypatch):
    """A recorded state.json and a stand-in for the engine's run_in_sandbox that records its
    arguments: this tests only the hand-off; tests/sandbox runs the real engine."""
    from sandbox.home import SandboxState

    import sandbox.cli.engine_cmd as engine_cmd

    home = tmp_path / "home"
    monkeypatch.setenv("SKIFF_HOME", str(home))
    # minio_pid names a live process (this one), so the CLI takes the sandbox as up.
    SandboxState(home=str(home), runtime_image="skiff-runtime:abc123", database_url="sqlite://",
                 minio_pid=os.getpid()).save()
    calls = []

    def record(package_path, entity_name, inputs_literal_map, project, domain, as_json,
               **settings):
        with tarfile.open(package_path) as archive:
            names = archive.getnames()
            spec = next(n for n in names if n.endswith("_cli_test_wf.square_1.pb"))
            task_spec = archive.extractfile(spec).read()
        calls.append(dict(names=names, task_spec=task_spec, entity=entity_name, inputs=inputs_literal_map,
                          project=project, domain=domain, as_json=as_json, settings=settings))
        return 3

    monkeypatch.setattr(engine_cmd, "run_in_sandbox", record)
    return calls


def test_sandbox_flag_packages_the_file_and_hands_over_typed_inputs(run, recorded_sandbox_runs):
    from flyteidl.admin import task_pb2

    from sdk.types import TypeEngine

    result = run("run", "--sandbox", "--project", "p1", "--domain", "staging", "--parallelism", "2",
                 "--quiet", "--overwrite-cache", "--envvars", "A=1", "--env", "B=x=y",
                 "cli_test_wf.py", "pipeline", "--n", "4", "--json")
    assert result.exit_code == 3  # the engine's exit code is the command's
    (call,) = recorded_sandbox_runs
    assert call["entity"] == "cli_test_wf.pipeline"
    assert (call["project"], call["domain"], call["as_json"]) == ("p1", "staging", True)
    assert call["settings"] == {"parallelism": 2, "quiet": True, "overwrite_cache": True,
                                "envs": {"A": "1", "B": "x=y"}, "detach": False,
                                "reuse_containers": None}
    values = TypeEngine.literal_map_to_kwargs(call["inputs"], {"n": int, "name": str})
    assert values == {"n": 4, "name": "ada"}  # the default is filled in, the option applied
    spec = task_pb2.TaskSpec()
    spec.ParseFromString(call["task_spec"])
    assert spec.template.container.image == "skiff-runtime:abc123"  # the sandbox's runtime image


def test_sandbox_launch_plan_hands_over_no_fixed_inputs(run, recorded_sandbox_runs):
    result = run("run", "--sandbox", "--image", "mine:1", "cli_test_wf.py", "cli_tests_lp")
    assert result.exit_code == 3
    (call,) = recorded_sandbox_runs
    assert call["entity"] == "cli_tests_lp"
    assert set(call["inputs"].literals) == {"n"}  # `name` is fixed by the launch plan
    assert b"mine:1" in call["task_spec"]


def test_package_uses_the_sandbox_runtime_image(recorded_sandbox_runs, wf_dir, tmp_path):
    output = tmp_path / "pkg.tgz"
    result = CliRunner().invoke(cli, ["package", str(wf_dir / "cli_test_wf.py"), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "skiff-runtime:abc123" in result.stdout


@pytest.mark.sandbox
def test_sandbox_run_for_real(request, wf_dir):
    """`skiff run --sandbox` through the real engine, containers and MinIO, a local File included."""
    try:
        request.getfixturevalue("sandbox_home")  # sets SKIFF_HOME for subprocesses
    except pytest.FixtureLookupError:
        pytest.skip("the sandbox_home fixture (tests/conftest.py) is not defined yet")
    result = _skiff(["run", "--sandbox", "cli_test_wf.py", "pipeline", "--n", "4", "--json"], wf_dir)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"o0": "ada:16"}
    result = _skiff(
        ["run", "--sandbox", "--json", "cli_test_wf.py", "everything", "--ratio", "1", "--no-flag",
         "--when", "2024-01-02T00:00:00Z", "--wait", "5", "--color", "red", "--items", "[]", "--table", "{}",
         "--point", '{"x": 2}', "--data", "data.txt"],
        wf_dir,
    )
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout)
    assert outputs["text"].endswith("data=payload")  # the container read the uploaded file
    assert outputs["point"] == {"x": 2, "y": 0.5, "tags": []}
    failed = _skiff(["run", "--sandbox", "cli_test_wf.py", "explode", "--x", "3"], wf_dir)
    assert failed.returncode == 1 and "exploded on 3" in failed.stderr

"""The `skiff` group: --version, --help, -v, and SkiffErrors as one `Error:` line with an exit code."""

from __future__ import annotations

import logging
import subprocess

import pytest
from click.testing import CliRunner

from sandbox.cli import cli, main


def test_version_and_help_list_the_commands():
    runner = CliRunner()
    version = runner.invoke(cli, ["--version"])
    assert version.exit_code == 0 and version.stdout.startswith("skiff, version ")
    help_text = runner.invoke(cli, ["--help"]).stdout
    for command in ("run", "package", "sandbox"):
        assert f"  {command} " in help_text


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    level = root.level
    yield
    root.setLevel(level)


@pytest.mark.parametrize(("flags", "level"), [([], logging.WARNING), (["-v"], logging.INFO), (["-vv"], logging.DEBUG)])
def test_verbose_sets_the_log_level(tmp_path, restore_logging, flags, level):
    (tmp_path / "empty_wf.py").write_text("x = 1\n")
    result = CliRunner().invoke(cli, [*flags, "run", str(tmp_path / "empty_wf.py")])
    assert result.exit_code == 0, result.output
    assert "defines no tasks, workflows or launch plans" in result.stdout
    assert logging.getLogger().level == level


def test_a_file_that_fails_to_import_is_one_error_line_exit_2(tmp_path, capsys):
    (tmp_path / "broken_wf.py").write_text("def oops(:\n")
    code = main(["run", str(tmp_path / "broken_wf.py")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("Error: ") and "broken_wf.py" in err and "SyntaxError" in err
    assert "Traceback" not in err


def test_console_script_exit_codes(tmp_path):
    (tmp_path / "fails_wf.py").write_text(
        "from sdk import task\n\n@task\ndef bad(x: int) -> int:\n    raise KeyError(x)\n"
    )
    failed = subprocess.run(["skiff", "run", "fails_wf.py", "bad", "--x", "1"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1] == "Error: task fails_wf.bad failed: KeyError: 1"
    usage = subprocess.run(["skiff", "run", "fails_wf.py", "bad", "--nope", "1"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "--nope" in usage.stderr
    # A usage error is one `Error:` line, with where the help is at its end.
    assert usage.stderr.startswith("Error: ") and usage.stderr.count("\n") == 1, usage.stderr
    assert usage.stderr.rstrip().endswith("--help'."), usage.stderr


@pytest.mark.parametrize(("argv", "words", "help_of"), [
    (["run", "--nope"], "No such option '--nope'", "skiff run"),
    (["bogus"], "No such command 'bogus'", "skiff"),
    (["run", "--parallelism", "x", "a.py"], "Invalid value for '--parallelism'", "skiff run"),
    (["sandbox", "run"], "Missing argument 'PKG.tgz'", "skiff sandbox run"),
    (["executions", "terminate"], "Missing argument", "skiff executions terminate"),
])
def test_usage_errors_are_one_error_line_exit_2(capsys, argv, words, help_of):
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == f"{captured.err.splitlines()[0]}\n"  # one line
    line = captured.err.strip()
    assert line.startswith("Error: ") and words in line
    assert line.endswith(f"See '{help_of} --help'.")
    assert "Usage:" not in captured.err and "Try '" not in captured.err


def test_a_group_without_a_command_still_shows_its_help(capsys):
    assert main(["sandbox"]) == 2
    assert "Usage: skiff sandbox" in capsys.readouterr().err

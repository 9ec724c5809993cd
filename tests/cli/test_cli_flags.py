"""Every flag does what it says or is refused: conflicting modes and options of another mode
are one `Error:` line with exit 2, every option has help, `run --sandbox` and `sandbox run`
take the same options."""

from __future__ import annotations

import click
import pytest

from sandbox.cli import cli, main

WORKFLOW = '''
from sdk import task, workflow

@task
def square(x: int) -> int:
    return x * x

@workflow
def pipeline(n: int = 3) -> int:
    return square(x=n)
'''


@pytest.fixture
def wf(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flags_wf.py").write_text(WORKFLOW)
    return "flags_wf.py"


def _commands(command: click.Command, path: tuple[str, ...] = ("skiff",)):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _commands(sub, (*path, name))


def test_every_command_and_option_has_help():
    missing = []
    for path, command in _commands(cli):
        if not (command.help or "").strip():
            missing.append(" ".join(path))
        for param in command.params:
            if isinstance(param, click.Option) and not (param.help or "").strip():
                missing.append(f"{' '.join(path)} {param.opts[0]}")
    assert missing == []


@pytest.mark.parametrize(("args", "message"), [
    (["--sandbox", "--remote"], "Error: --sandbox and --remote exclude each other; choose one"),
    (["--parallelism", "2"], "Error: --parallelism has no effect without --sandbox; add "
                             "--sandbox, or leave --parallelism out"),
    (["--quiet"], "Error: --quiet has no effect without --sandbox"),
    (["--no-compile-cache"], "Error: --no-compile-cache has no effect without --sandbox"),
    (["--sandbox", "--no-wait"], "Error: --no-wait has no effect without --remote; add --remote"),
    (["--sandbox", "--name", "n1"], "Error: --name has no effect without --remote"),
    (["--sandbox", "--version", "v1"], "Error: --version has no effect without --remote"),
    (["--remote", "--parallelism", "2"], "Error: --parallelism has no effect without --sandbox"),
    (["--image", "img:1"], "Error: --image has no effect without --sandbox or --remote"),
    (["--overwrite-cache"], "Error: --overwrite-cache has no effect without --sandbox or --remote"),
    (["--envvars", "A=1"], "Error: --envvars has no effect without --sandbox or --remote"),
    (["--project", "p"], "Error: --project has no effect without --sandbox or --remote"),
    (["--sandbox", "--envvars", "NOEQUALS"], "Error: --envvars 'NOEQUALS' is not KEY=VALUE"),
])
def test_flags_that_conflict_or_do_not_apply_are_one_usage_line(wf, capsys, args, message):
    code = main(["run", *args, wf, "pipeline", "--n", "2"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith(message)
    assert captured.err.count("\n") == 1, captured.err  # one line, no usage block
    assert captured.out == ""  # nothing ran


def test_in_process_run_still_takes_its_own_options(wf, capsys):
    assert main(["run", "--json", wf, "pipeline", "--n", "4"]) == 0
    assert capsys.readouterr().out.strip() == '{"o0": 16}'


def test_run_sandbox_takes_every_option_of_sandbox_run():
    """The options that run an entity in the sandbox are the same for a file and a package
    (sandbox run's --version and --inputs-file name a package's registration and its inputs
    file; a file's entity takes --inputs-file itself)."""
    run = {p.name for p in cli.commands["run"].params}
    sandbox_run = {p.name for p in cli.commands["sandbox"].commands["run"].params
                   if isinstance(p, click.Option)}
    assert sandbox_run - {"version", "inputs_file", "help"} <= run | {"as_json"}
    for name in ("parallelism", "quiet", "overwrite_cache", "envvars", "project", "domain"):
        assert name in run and name in sandbox_run


def test_executions_group_help_names_what_it_does():
    text = cli.commands["executions"].help
    for word in ("resume", "recover", "relaunch", "signal", "approve", "reject"):
        assert word in text

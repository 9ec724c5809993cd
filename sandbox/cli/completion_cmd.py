"""`skiff completion bash|zsh`: the shell completion script, from click's own completion.

`skiff run FILE <TAB>` offers the entities FILE defines (the file is imported, as `pyflyte run`
does) and `skiff run FILE ENTITY --<TAB>` that entity's inputs, because both are click
commands built from the file (sandbox/cli/run_cmd.py).
"""
from __future__ import annotations

import click

SHELLS = ("bash", "zsh")
# The variable click's completion reads; derived from the program name `skiff`.
COMPLETE_VAR = "_SKIFF_COMPLETE"


def completion_script(shell: str) -> str:
    from click.shell_completion import get_completion_class

    from sandbox.cli import cli

    completion = get_completion_class(shell)(cli, {}, "skiff", COMPLETE_VAR)
    return completion.source()


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL (bash or zsh).

    \b
    bash: echo 'eval "$(skiff completion bash)"' >> ~/.bashrc
    zsh:  echo 'eval "$(skiff completion zsh)"' >> ~/.zshrc
    """
    click.echo(completion_script(shell))

"""The `skiff` command line: `run`, `package`, and the sandbox and engine commands.

Errors a user can cause (sdk.errors.SkiffError) become one `Error: <message>` line on stderr and
the error's exit code (2 for input problems, 1 for failed executions); click's usage errors are
one `Error: <message> See '<command> --help'.` line too, exit 2.
"""

from __future__ import annotations

import logging
import sys

import click

from sandbox import __version__
from sdk.errors import SkiffError


class SkiffErrorExit(click.ClickException):
    """A SkiffError shown the way click shows its own errors, with the SkiffError's exit code."""

    def __init__(self, error: SkiffError):
        super().__init__(str(error))
        self.exit_code = error.exit_code


class SkiffGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SkiffError as error:
            raise SkiffErrorExit(error) from error


@click.group(cls=SkiffGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="skiff")
@click.option("-v", "--verbose", count=True, help="More diagnostics on stderr (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Skiff: write typed Flyte tasks and workflows, run them here or in a local sandbox."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(level)


def _register_commands() -> None:
    from sandbox.cli.package_cmd import package
    from sandbox.cli.run_cmd import run

    cli.add_command(run)
    cli.add_command(package)
    for module_name in ("sandbox.cli.sandbox_cmd", "sandbox.cli.engine_cmd"):
        import importlib

        importlib.import_module(module_name).register(cli)
    from sandbox.cli.remote_cmd import register_commands

    register_commands(cli)
    from sandbox.cli.completion_cmd import completion

    cli.add_command(completion)


_register_commands()


# click >= 8.2 raises this (a UsageError) when a command that needs arguments gets none.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def usage_error_line(error: click.UsageError) -> str:
    """A usage error as one line: click's message, then where the help is."""
    path = error.ctx.command_path if error.ctx is not None else "skiff"
    message = " ".join(error.format_message().split())
    return f"Error: {message} See '{path} --help'."


def main(argv: list[str] | None = None) -> int:
    """Console script entry: run the CLI and exit with its code."""
    try:
        result = cli.main(args=argv, prog_name="skiff", standalone_mode=False)
    except click.UsageError as error:
        if isinstance(error, _NO_ARGS_IS_HELP):
            error.show()  # a command run without arguments: its help, as click shows it
        else:
            click.echo(usage_error_line(error), err=True)
        code = error.exit_code
    except click.ClickException as error:
        error.show()
        code = error.exit_code
    except click.Abort:
        click.echo("Aborted!", err=True)
        code = 1
    except SkiffError as error:  # raised outside a command, e.g. while building one
        click.echo(f"Error: {error}", err=True)
        code = error.exit_code
    else:
        code = result if isinstance(result, int) else 0
    if argv is None:
        sys.exit(code)
    return code

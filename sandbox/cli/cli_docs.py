"""docs/cli.md, generated from the commands' own help: `python -m sandbox.cli.cli_docs`.

A test renders it again and compares, so the page never drifts from the CLI. Only the commands
registered on each group are walked: `skiff run`'s sub-commands are workflow files and their
entities, made from the file at run time, so its page shows its own options alone.
"""
from __future__ import annotations

import sys

import click

HEADER = """# The `skiff` command line

Generated from the commands' own `--help` by `python -m sandbox.cli.cli_docs > docs/cli.md`;
a test keeps it in step. Shell completion: `eval "$(skiff completion bash)"` (or `zsh`).
"""


def _help_text(command: click.Command) -> str:
    """The help as written; click's \\b (keep this paragraph's lines) becomes a code block."""
    text = (command.help or "").strip()
    paragraphs = []
    for paragraph in text.split("\n\n"):
        lines = [line.rstrip() for line in paragraph.strip("\n").splitlines()]
        if lines and lines[0].strip() == "\b":
            body = "\n".join(line.strip() for line in lines[1:])
            paragraphs.append(f"```\n{body}\n```")
        else:
            paragraphs.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(p for p in paragraphs if p)


def _option_row(ctx: click.Context, param: click.Parameter) -> str:
    names = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
    if not getattr(param, "is_flag", False) and param.metavar is not None:
        names += f" {param.metavar}"
    elif not getattr(param, "is_flag", False) and not getattr(param, "count", False):
        names += f" {param.make_metavar(ctx) if _metavar_takes_ctx() else param.make_metavar()}"
    text = getattr(param, "help", None) or ""
    default = param.default
    if getattr(param, "show_default", False) and default not in (None, (), False):
        text += f" [default: {default}]"
    return f"- {names}: {text}".rstrip(": ").rstrip()


def _metavar_takes_ctx() -> bool:
    import inspect

    return "ctx" in inspect.signature(click.Parameter.make_metavar).parameters


def _section(path: list[str], command: click.Command, parent: click.Context | None) -> list[str]:
    ctx = click.Context(command, info_name=path[-1], parent=parent)
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines = [f"## {' '.join(path)}", "", f"`{' '.join(path)} {usage}`", ""]
    help_text = _help_text(command)
    if help_text:
        lines += [help_text, ""]
    options = [p for p in command.get_params(ctx) if isinstance(p, click.Option)
               and not p.hidden and "--help" not in p.opts]
    if options:
        lines += [_option_row(ctx, p) for p in options] + [""]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            lines += _section([*path, name], command.commands[name], ctx)
    return lines


def render() -> str:
    from sandbox.cli import cli

    return HEADER + "\n" + "\n".join(_section(["skiff"], cli, None)).rstrip() + "\n"


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()

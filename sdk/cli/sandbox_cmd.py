"""`skiff sandbox up | down | status`: bring the local sandbox's services up and down."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add the `sandbox` command group to the top-level CLI."""
    cli.add_command(sandbox)


@click.group()
def sandbox() -> None:
    """Manage the local sandbox: Docker engine, MinIO, the SQLite store and the runtime image."""

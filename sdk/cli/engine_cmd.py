"""CLI commands backed by the local sandbox engine (filled in as the engine lands)."""
from __future__ import annotations

import click

from sdk.errors import SandboxError


def register(cli: click.Group) -> None:
    """Attach the engine's commands to the top-level `skiff` group."""


def run_in_sandbox(package_path, entity_name, inputs_literal_map, project, domain, as_json) -> int:
    """Register `package_path`, run `entity_name` in containers and print its outputs."""
    raise SandboxError("not implemented yet")

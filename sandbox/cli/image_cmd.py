"""`skiff image build`: task images from the base image plus Python requirements."""
from __future__ import annotations

import click


@click.group("image")
def image() -> None:
    """Task images for the sandbox, built without network access inside the build."""


@image.command("build")
@click.option("--requirements", "-r", "requirements", required=True,
              type=click.Path(dir_okay=False), help="A pip requirements file.")
@click.option("--tag", "-t", required=True, help="The image name, e.g. my-tasks:1.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def build(requirements: str, tag: str, quiet: bool) -> None:
    """Build a task image with REQUIREMENTS installed (wheels fetched on the host).

    With flytekit in the requirements (flytekit==1.16.31), the image runs flytekit-authored
    tasks in the sandbox (pyflyte register --image TAG).
    """
    from sandbox.cli.progress import StepProgress
    from sandbox.services.task_images import build_task_image

    with StepProgress(quiet) as say:
        built = build_task_image(requirements, tag, say=say)
    click.echo(built)

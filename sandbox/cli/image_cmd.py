"""`skiff image build`: task images from the base image plus Python requirements."""
from __future__ import annotations

import click


@click.group("image")
def image() -> None:
    """Task images for the sandbox, built without network access inside the build."""


@image.command("build")
@click.option("--requirements", "-r", "requirements",
              type=click.Path(dir_okay=False), help="A pip requirements file.")
@click.option("--tag", "-t", help="The image name, e.g. my-tasks:1 (with --requirements).")
@click.option("--imagespec", "-i", "imagespec", metavar="FILE_OR_MODULE[:NAME]",
              help="Build the images of flytekit ImageSpecs instead: every module-level "
                   "ImageSpec and task with one in FILE_OR_MODULE (or only NAME), each tagged "
                   "with the name flytekit gives it.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def build(requirements: str | None, tag: str | None, imagespec: str | None,
          quiet: bool) -> None:
    """Build a task image with REQUIREMENTS installed (wheels fetched on the host), or the
    images of a module's flytekit ImageSpecs; prints each image's name.

    With flytekit in the requirements (flytekit==1.16.31), the image runs flytekit-authored
    tasks in the sandbox (pyflyte register --image TAG). With --imagespec, build before
    `pyflyte register` / `pyflyte run --remote`: flytekit then finds the image locally and
    the sandbox runs it without pulling.
    """
    from sandbox.cli.progress import StepProgress

    if imagespec is not None:
        if requirements is not None or tag is not None:
            raise click.UsageError("--imagespec builds the images its ImageSpecs describe, "
                                   "named as flytekit names them; leave out --requirements "
                                   "and --tag")
        from sandbox.services.imagespec_images import (build_image_spec, describe,
                                                       find_image_specs)

        with StepProgress(quiet) as say:
            specs = find_image_specs(imagespec)
            built = []
            for spec in specs:
                say(describe(spec))
                built.append(build_image_spec(spec, say=say))
        for name in built:
            click.echo(name)
        return
    if requirements is None or tag is None:
        raise click.UsageError("give --requirements and --tag, or --imagespec")
    from sandbox.services.task_images import build_task_image

    with StepProgress(quiet) as say:
        built = build_task_image(requirements, tag, say=say)
    click.echo(built)

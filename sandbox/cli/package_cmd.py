"""`skiff package FILES... --image IMAGE -o pkg.tgz`: compile files into a Flyte package."""

from __future__ import annotations

import logging

import click

log = logging.getLogger(__name__)

FALLBACK_IMAGE = "skiff-runtime:latest"


def sandbox_state(bring_up: bool = False, quiet: bool = False):
    """The sandbox's recorded state, or None when there is none. With bring_up, a sandbox that
    is missing or whose MinIO has stopped is brought up first (`skiff sandbox up`), its long
    steps shown on stderr unless quiet."""
    try:
        from sandbox.home import SandboxState, state_path
    except ImportError:
        return None
    state = SandboxState.load() if state_path().exists() else None
    if not bring_up or (state is not None and _minio_running(state)):
        return state
    from sandbox import services
    from sandbox.cli.progress import StepProgress

    if not quiet:
        click.echo("The sandbox is not up; bringing it up (`skiff sandbox up`).", err=True)
    with StepProgress(quiet) as say:
        return services.up(say=say)


def _minio_running(state) -> bool:
    import os

    if not state.minio_pid:
        return False
    try:
        os.kill(state.minio_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def default_image() -> str:
    """The sandbox's runtime image when a sandbox was brought up, else skiff-runtime:latest."""
    state = sandbox_state()
    return (state.runtime_image if state is not None else "") or FALLBACK_IMAGE


def write_package(files: list[str], image: str, output: str) -> None:
    """Compile `files` and write the .tgz (the compile part's package writer does the work)."""
    from sdk.compile.package import write_package as writer

    writer(list(files), image, output)


@click.command(name="package")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--image", default=None, help="Task image [default: the sandbox's runtime image, else skiff-runtime:latest]")
@click.option("-o", "--output", default="package.tgz", show_default=True, type=click.Path(dir_okay=False),
              help="The package file to write.")
def package(files: tuple[str, ...], image: str | None, output: str) -> None:
    """Compile FILES into a package laid out as `pyflyte package --fast` lays it out."""
    image = image or default_image()
    write_package(list(files), image, output)
    click.echo(f"Wrote {output} (image {image})")

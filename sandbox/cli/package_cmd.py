"""`skiff package FILES... --image IMAGE -o pkg.tgz`: compile files into a Flyte package."""

from __future__ import annotations

import logging

import click

log = logging.getLogger(__name__)

FALLBACK_IMAGE = "skiff-runtime:latest"


COPY_HELP = {
    "auto": "only the Python modules under the source root that importing FILE loaded",
    "all": "every file under the source root but caches and what .gitignore/.flyteignore name "
           "(data files next to the code too)",
    "none": "no code bundle: the image must hold the code",
}


def copy_option(default: str, modes: tuple[str, ...]):
    """--copy, as pyflyte's: which files the code bundle holds."""
    text = "; ".join(f"'{m}': {COPY_HELP[m]}" for m in modes)
    return click.option("--copy", type=click.Choice(modes, case_sensitive=False), default=default,
                        show_default=True, callback=lambda ctx, param, value: value.lower(),
                        help=f"Which files go into the code bundle the task containers fetch. {text}.")


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


def write_package(files: list[str], image: str, output: str, copy: str = "all"):
    """Compile `files` and write the .tgz (the compile part's package writer does the work);
    says on stderr what the code bundle holds. The sdk.compile.package.PackageContents."""
    from sdk.compile.package import write_package as writer

    contents = writer(list(files), image, output, copy)
    report_bundle(contents.bundle_contents, copy)
    return contents


def report_bundle(bundle, copy: str) -> None:
    """One line on stderr with the bundle's file count and size; a warning naming its largest
    files when it is large (a multi-minute upload must never be a surprise)."""
    from sdk.compile.bundle import COPY_ALL, describe_size

    if bundle is None:
        click.echo("No code bundle (--copy none): the image must hold the code.", err=True)
        return
    count = len(bundle.sizes)
    click.echo(f"Code bundle {bundle.name}: {count} file{'s' if count != 1 else ''}, "
               f"{describe_size(bundle.total_bytes)} ({describe_size(len(bundle.data))} compressed; "
               f"--copy {copy} from {bundle.root})", err=True)
    if bundle.is_large():
        largest = ", ".join(f"{name} ({describe_size(size)})" for name, size in bundle.largest())
        hint = ("name them in .gitignore or .flyteignore, or use --copy auto (only the loaded modules)"
                if copy == COPY_ALL else "move them out of the source root")
        click.echo(f"Warning: the code bundle holds {describe_size(bundle.total_bytes)}; "
                   f"largest: {largest}; every run uploads it: {hint}.", err=True)


@click.command(name="package")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--image", default=None, help="Task image [default: the sandbox's runtime image, else skiff-runtime:latest]")
@click.option("-o", "--output", default="package.tgz", show_default=True, type=click.Path(dir_okay=False),
              help="The package file to write.")
@copy_option(default="all", modes=("all", "auto", "none"))
def package(files: tuple[str, ...], image: str | None, output: str, copy: str) -> None:
    """Compile FILES into a package laid out as `pyflyte package --copy` lays it out."""
    image = image or default_image()
    write_package(list(files), image, output, copy)
    click.echo(f"Wrote {output} (image {image})")

"""`skiff sandbox up | down | status`: bring the local sandbox's services up and down."""

from __future__ import annotations

import json
import time

import click


def register(cli: click.Group) -> None:
    """Add the `sandbox`, `project` and `image` command groups to the top-level CLI."""
    from sandbox.cli.image_cmd import image

    cli.add_command(sandbox)
    cli.add_command(project)
    cli.add_command(image)
    cli.add_command(ui)


@click.group()
def sandbox() -> None:
    """Manage the local sandbox: Docker engine, MinIO, the SQLite store and the runtime image.

    Its state lives in $SKIFF_HOME (default ~/.skiff); the MinIO binary and the wheelhouse are
    shared in $SKIFF_CACHE_DIR (default ~/.cache/skiff).
    """


@sandbox.command()
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@click.option("--reuse-containers/--no-reuse-containers", default=None,
              help="Record whether executions run their tasks in warm workers (reused "
              "containers) unless `run` says otherwise; kept until changed.")
def up(quiet: bool, reuse_containers: bool | None) -> None:
    """Start MinIO, create the store and build the runtime image (idempotent)."""
    from sandbox import services
    from sandbox.admin.client_config import config_path
    from sandbox.cli.progress import StepProgress
    from sandbox.console import process as console_process
    from sandbox.home import shown_database_url

    started = time.monotonic()
    with StepProgress(quiet) as say:
        state = services.up(say=say, reuse_containers=reuse_containers)
    click.echo(f"Sandbox up in {time.monotonic() - started:.1f} s")
    click.echo(f"  home      {state.home}")
    click.echo(f"  storage   {state.minio_endpoint}  bucket {state.bucket}  "
               f"access key {state.access_key}  (console {state.minio_console})")
    click.echo(f"  store     {shown_database_url(state.database_url)}")
    click.echo(f"  image     {state.runtime_image}")
    click.echo(f"  admin     {state.admin_endpoint}  (Flyte AdminService, DataProxyService, "
               "skiff.sandbox.v1; insecure, OAuth2 client credentials)")
    click.echo(f"  config    {config_path(state.home)}  (pyflyte/flytectl --config; "
               "its client secret is in a 0600 file)")
    click.echo(f"  secrets   {state.home}/state.json (mode 0600)")
    console = console_process.url(state.home)
    if console:  # its login token is never printed here (output ends up in logs): `skiff ui`
        click.echo(f"  console   {console}  (`skiff ui` opens it logged in)")


@sandbox.command()
def down() -> None:
    """Stop the admin server and MinIO; their data, the store and the images are kept."""
    from sandbox import services
    from sandbox.home import skiff_home

    stopped = services.down()
    where = skiff_home()
    click.echo(f"Sandbox down ({where})" if stopped else f"Sandbox was not running ({where})")


@sandbox.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def status(as_json: bool) -> None:
    """Report each part: Docker engine, MinIO, store, runtime image. Exits 1 when not ready."""
    from sandbox import services

    report = services.status()
    if as_json:
        click.echo(json.dumps(report, sort_keys=True))
    else:
        for name, value in _status_rows(report):
            click.echo(f"  {name:<9} {value}")
    if not report["ready"]:
        raise SystemExit(1)


def _status_rows(report: dict) -> list[tuple[str, str]]:
    docker = report["docker"]
    if docker:
        engine = f"engine {docker['version']} at {docker['host']}"
    else:
        engine = f"DOWN: {report['docker_error']}"
    if report["minio_healthy"]:
        storage = f"{report['storage_endpoint']} (pid {report['minio_pid']})"
    else:
        storage = "DOWN (run `skiff sandbox up`)"
    store = report["database_url"]
    if report["store_path"] and not report["store_exists"]:
        store += " (not created yet)"
    if report.get("store_answers") is False and report.get("initialised"):
        store += " (DOES NOT ANSWER; run `skiff sandbox up`)"
    if report.get("admin_running") and report.get("admin_storage_current") is False:
        admin = (f"{report['admin']} (pid {report['admin_pid']}) uses a MinIO endpoint that "
                 "is gone; run `skiff sandbox up`")
    elif report.get("admin_running"):
        admin = f"{report['admin']} (pid {report['admin_pid']})"
    else:
        admin = "DOWN (run `skiff sandbox up`)"
    console = report.get("console") or "DOWN (run `skiff sandbox up`)"
    image = report["image"] or "none"
    if not report["image_present"]:
        image += " (missing; run `skiff sandbox up`)"
    return [("home", report["home"]), ("docker", engine), ("storage", storage),
            ("store", store), ("image", image), ("admin", admin),
            ("console", console)]


@click.group()
def project() -> None:
    """Projects of the local sandbox's admin (default and flytesnacks always exist)."""


@project.command("create")
@click.argument("name")
@click.option("--description", default="", help="A short description.")
def project_create(name: str, description: str) -> None:
    """Create project NAME (domains development, staging and production)."""
    from sandbox.admin.projects import create_project

    create_project(name, description)
    click.echo(f"project {name} created")


@project.command("list")
def project_list() -> None:
    """List the sandbox's projects."""
    from sandbox.admin.projects import list_projects

    for project_id, description in list_projects():
        click.echo(f"{project_id}\t{description}" if description else project_id)


@click.command("ui")
@click.argument("execution", required=False)
@click.option("--print-only", is_flag=True, help="Print the login link; open no browser.")
def ui(execution: str | None, print_only: bool) -> None:
    """Open the sandbox's web console (at EXECUTION's page when given).

    Prints the login link (it carries the sandbox's console token) and opens it in a browser
    when one can be shown here."""
    import os
    import sys
    from urllib.parse import quote

    from sandbox.console import process as console_process
    from sandbox.home import skiff_home
    from sdk.errors import SandboxError

    path = f"/executions/{quote(execution)}" if execution else "/"
    link = console_process.login_link(skiff_home(), path)
    if link is None:
        raise SandboxError("the console is not running; run `skiff sandbox up` first")
    click.echo(link)
    can_show = sys.platform in ("darwin", "win32") or os.environ.get("DISPLAY") or \
        os.environ.get("WAYLAND_DISPLAY")
    if not print_only and can_show:
        import webbrowser

        webbrowser.open(link)

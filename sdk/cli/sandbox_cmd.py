"""`skiff sandbox up | down | status`: bring the local sandbox's services up and down."""

from __future__ import annotations

import json
import time

import click


def register(cli: click.Group) -> None:
    """Add the `sandbox` command group to the top-level CLI."""
    cli.add_command(sandbox)


@click.group()
def sandbox() -> None:
    """Manage the local sandbox: Docker engine, MinIO, the SQLite store and the runtime image.

    Its state lives in $SKIFF_HOME (default ~/.skiff); the MinIO binary and the wheelhouse are
    shared in $SKIFF_CACHE_DIR (default ~/.cache/skiff).
    """


def _progress(message: str) -> None:
    click.echo(f"... {message}", err=True)


@sandbox.command()
def up() -> None:
    """Start MinIO, create the store and build the runtime image (idempotent)."""
    from sandbox import services

    started = time.monotonic()
    state = services.up(say=_progress)
    click.echo(f"Sandbox up in {time.monotonic() - started:.1f} s")
    click.echo(f"  home      {state.home}")
    click.echo(f"  storage   {state.minio_endpoint}  bucket {state.bucket}  "
               f"access key {state.access_key}  (console {state.minio_console})")
    click.echo(f"  store     {state.database_url}")
    click.echo(f"  image     {state.runtime_image}")
    click.echo(f"  secrets   {state.home}/state.json (mode 0600)")


@sandbox.command()
def down() -> None:
    """Stop MinIO; its data, the store and the images are kept."""
    from sandbox import services
    from sandbox.home import skiff_home

    stopped = services.down()
    click.echo(f"Sandbox down ({skiff_home()})" if stopped else f"Sandbox was not running ({skiff_home()})")


@sandbox.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def status(as_json: bool) -> None:
    """Report each part: Docker engine, MinIO, store, runtime image. Exits 1 when not ready."""
    from sandbox import services

    report = services.status()
    if as_json:
        click.echo(json.dumps(report, sort_keys=True))
    else:
        docker = report["docker"]
        rows = [
            ("home", report["home"]),
            ("docker", f"engine {docker['version']} at {docker['host']}" if docker
             else f"DOWN: {report['docker_error']}"),
            ("storage", f"{report['storage_endpoint']} (pid {report['minio_pid']})"
             if report["minio_healthy"] else "DOWN (run `skiff sandbox up`)"),
            ("store", report["database_url"] + ("" if report["store_exists"] or not report["store_path"]
                                                 else " (not created yet)")),
            ("image", (report["image"] or "none") + ("" if report["image_present"] else " (missing)")),
        ]
        for name, value in rows:
            click.echo(f"  {name:<9} {value}")
    if not report["ready"]:
        raise SystemExit(1)

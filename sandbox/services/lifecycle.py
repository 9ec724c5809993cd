"""`up`, `down` and `status` of one sandbox home: Docker engine, MinIO, store, runtime image,
and the admin API server."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from sandbox import home as sandbox_home
from sandbox.admin import process as admin_process
from sandbox.admin.client_config import config_path, write_client_config
from sandbox.console import process as console_process
from sandbox.home import SandboxState
from sandbox.runtime.policy import policy_settings
from sandbox.services import minio_server
from sandbox.services.docker_engine import docker_client, engine_summary
from sandbox.services.docker_images import image_exists
from sandbox.services.images import ensure_runtime_image
from sandbox.services.locks import file_lock
from sandbox.store import init_store
from sdk.errors import SandboxError, SkiffError

log = logging.getLogger(__name__)


def _quiet(message: str) -> None:
    log.info("%s", message)


def up(home: Path | None = None, say=_quiet,
       reuse_containers: bool | None = None) -> SandboxState:
    """Bring every part up; fast and harmless when all are already up. `reuse_containers`
    records the warm-worker setting (None: SKIFF_REUSE_CONTAINERS when set, else as recorded)."""
    home = Path(home or sandbox_home.skiff_home())
    client = docker_client()
    sandbox_home.make_private(home)  # before the lock file or anything else is created in it
    with file_lock(home / ".lock"):
        state = SandboxState.load_or_new(home)
        # SKIFF_DATABASE_URL as set now, else the home's own file; never a stale override.
        state.database_url = sandbox_home.default_database_url(home)
        state.container_policy = policy_settings(state.container_policy)
        if reuse_containers is None and os.environ.get("SKIFF_REUSE_CONTAINERS") is not None:
            from sandbox.engine.setup import reuse_containers_default

            reuse_containers = reuse_containers_default(state)
        if reuse_containers is not None:
            state.reuse_containers = reuse_containers
        say("starting MinIO")
        minio_server.start(state, say)
        state.save()  # the pid is recorded before anything else can fail
        _init_store(state.database_url)
        say("checking the runtime image (rebuilt when Skiff or its dependencies changed)")
        state.runtime_image = ensure_runtime_image(client, say)
        state.save()
        _init_admin_tables(state.database_url)
        # Each step is said before it starts; the servers' own "... on <url>" would read as a
        # new step, and `sandbox up` prints every endpoint at the end.
        say("starting the admin API")
        admin_process.start(state, _quiet)
        state.save()
        write_client_config(state)  # the admin's port may have changed
        say("starting the web console")
        console_process.start(state, _quiet)
        sandbox_home.make_private(home)  # the store and logs just created, an older home's files
    return state


def _init_admin_tables(database_url: str) -> None:
    from sandbox.admin.tables import init_admin_tables

    init_admin_tables(database_url)


def _init_store(database_url: str) -> None:
    """Create the store's tables; a bad URL becomes a SandboxError naming it (password hidden)."""
    try:
        init_store(database_url)
    except (SQLAlchemyError, ValueError) as exc:
        try:
            shown = make_url(database_url).render_as_string(hide_password=True)
        except (SQLAlchemyError, ValueError):
            shown = "the configured URL"
        raise SandboxError(
            f"cannot open the store at {shown}: {str(exc).splitlines()[0]}; "
            "check SKIFF_DATABASE_URL (or unset it to use $SKIFF_HOME/skiff.db)"
        ) from None


def _stop_warm_workers(home: Path) -> None:
    """Warm task workers of this home's engines (a running engine's next attempt starts one
    again); best effort: Docker may be down too."""
    try:
        from sandbox.runtime.docker_runner import docker_api
        from sandbox.runtime.warm_pool import stop_home_workers

        stop_home_workers(docker_api(), str(home))
    except Exception:  # noqa: BLE001 - nothing to stop without a Docker engine
        log.debug("stopping warm workers", exc_info=True)


def down(home: Path | None = None) -> bool:
    """Stop the admin server and MinIO, keeping the data and the store; True when one ran."""
    home = Path(home or sandbox_home.skiff_home())
    if not sandbox_home.state_path(home).exists():
        return False
    with file_lock(home / ".lock"):
        state = SandboxState.load(home)
        admin_stopped = admin_process.stop(state)
        _stop_warm_workers(home)
        admin_stopped = console_process.stop(home) or admin_stopped
        stopped = minio_server.stop(state) or admin_stopped
        state.save()
    return stopped


def status(home: Path | None = None) -> dict:
    """Each part's state, without the secret; never raises for a part that is down."""
    home = Path(home or sandbox_home.skiff_home())
    try:
        state = SandboxState.load(home)
        initialised = True
    except SkiffError:
        state = SandboxState(home=str(home), database_url=sandbox_home.default_database_url(home))
        initialised = False
    running = minio_server.is_running(state)
    admin_running = admin_process.is_running(state) and admin_process.is_healthy(
        state.admin_endpoint)
    admin_follows_storage = state.admin_storage_endpoint == state.minio_endpoint
    report = {
        "home": str(home),
        "initialised": initialised,
        "storage_endpoint": state.minio_endpoint or None,
        "storage_console": state.minio_console or None,
        "bucket": state.bucket,
        "access_key": state.access_key or None,
        "minio_running": running,
        "minio_healthy": running and minio_server.is_healthy(state.minio_endpoint),
        "minio_pid": state.minio_pid if running else None,
        "admin": state.admin_endpoint or None,
        "admin_running": admin_running,
        "admin_pid": state.admin_pid if admin_running else None,
        "admin_storage_current": admin_follows_storage,
        "admin_config": str(config_path(home)) if config_path(home).exists() else None,
        "admin_token_endpoint": state.admin_token_endpoint or None,
        "console": console_process.url(home),
        "database_url": sandbox_home.shown_database_url(state.database_url),
        "store_path": state.store_path,
        "store_exists": bool(state.store_path) and Path(state.store_path).exists(),
        "store_answers": initialised and _store_answers(state.database_url),
        "image": state.runtime_image or None,
        "image_present": False,
        "docker": None,
        "docker_error": None,
    }
    try:
        client = docker_client(timeout=10)
        report["docker"] = engine_summary(client)
        report["image_present"] = bool(state.runtime_image) and image_exists(client, state.runtime_image)
    except SkiffError as error:
        report["docker_error"] = str(error)
    # Ready only when every part answers, and answers for the others: the admin must use the
    # MinIO endpoint that is up now (it moved if its port was taken while MinIO was down).
    report["ready"] = bool(
        report["minio_healthy"] and report["image_present"] and report["docker"]
        and admin_running and admin_follows_storage and report["store_answers"]
    )
    return report


def _store_answers(database_url: str) -> bool:
    """The store opens and answers a query (its tables exist)."""
    try:
        from sandbox.store.connection import Database

        Database(database_url).query("SELECT COUNT(*) FROM executions")
        return True
    except Exception:  # noqa: BLE001 - any failure means not ready
        return False

"""Small helpers over the Docker SDK for building and finding local images."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import docker
import docker.errors

from sandbox import home as sandbox_home
from sdk.errors import SandboxError

log = logging.getLogger(__name__)

# The Dockerfiles and scripts the images are built from; package data, so they ship in the wheel.
IMAGE_FILES = Path(__file__).resolve().parent / "image_files"


def image_file(name: str) -> Path:
    return IMAGE_FILES / name


def image_exists(client: docker.DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def scratch_dir() -> Path:
    """Temporary build directories live in the cache, on the same disk as the wheelhouse."""
    scratch = sandbox_home.cache_dir() / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch


def build_image(
    client: docker.DockerClient, context: Path, dockerfile: Path, image: str, buildargs: dict
) -> None:
    """Build `image` from `context` with networking disabled and nothing pulled."""
    shutil.copy2(dockerfile, context / "Dockerfile")
    started = time.monotonic()
    try:
        client.images.build(
            path=str(context),
            tag=image,
            buildargs=buildargs,
            network_mode="none",  # everything comes from the build context
            pull=False,
            rm=True,
            forcerm=True,
        )
    except docker.errors.BuildError as exc:
        lines = [chunk.get("stream") or chunk.get("error") or "" for chunk in exc.build_log]
        tail = "".join(lines).strip().splitlines()[-10:]
        raise SandboxError(f"building {image} failed:\n" + "\n".join(tail)) from None
    except docker.errors.APIError as exc:
        raise SandboxError(f"building {image} failed: {exc.explanation or exc}") from None
    log.info("built %s in %.0f s", image, time.monotonic() - started)

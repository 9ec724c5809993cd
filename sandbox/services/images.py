"""The task runtime image `skiff-runtime:<tag>`, built locally without pulling anything.

Three layers of images: skiff-base:bookworm (base_image.py), skiff-runtime-deps:<tag> (Skiff's
dependencies), and skiff-runtime:<tag> (Skiff itself on top). Each tag hashes what goes into it
(wheels, Dockerfile, the image below), so an image is rebuilt only when one of its inputs
changed. Skiff's own wheel is packed from the installed distribution (skiff_wheel.py), so a
wheel, sdist or editable install all build the image, and the Dockerfiles ship in the package
(image_files/). A cheap fingerprint of the installed files lets `up` skip even `pip wheel` when
nothing changed since the last build.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from pathlib import Path

import docker
import docker.errors

from sandbox import home as sandbox_home
from sandbox.services.base_image import BASE_IMAGE, ensure_base_image
from sandbox.services.docker_engine import docker_client
from sandbox.services.docker_images import (
    IMAGE_FILES, build_image, image_exists, image_file, scratch_dir,
)
from sandbox.services.locks import file_lock
from sandbox.services.skiff_wheel import fingerprint_parts
from sandbox.services.wheelhouse import build_wheels, host_constraints, is_skiff_wheel, wheel_digest

log = logging.getLogger(__name__)

RUNTIME_REPOSITORY = "skiff-runtime"
DEPS_REPOSITORY = "skiff-runtime-deps"
# Old runtime images are removed only beyond the newest few and after a grace period, so a
# sandbox or a test session still using one is not pulled from under itself.
KEEP_NEWEST_RUNTIME_IMAGES = 5
PRUNE_AFTER_S = 3600


def ensure_runtime_image(client: docker.DockerClient | None = None, say=print) -> str:
    """The task runtime image `skiff-runtime:<tag>`, built only when its inputs changed."""
    client = client or docker_client()
    ensure_base_image(client, say)
    base_id = client.images.get(BASE_IMAGE).id
    fingerprint = _source_fingerprint(base_id)
    known = _read_index().get(fingerprint)
    if known and image_exists(client, known):
        return known
    with file_lock(sandbox_home.cache_dir() / "locks" / "runtime-image.lock"):
        known = _read_index().get(fingerprint)
        if known and image_exists(client, known):
            return known
        with tempfile.TemporaryDirectory(prefix="skiff-image-", dir=scratch_dir()) as scratch:
            wheels = build_wheels(Path(scratch) / "wheels", say)
            deps = [w for w in wheels if not is_skiff_wheel(w)]
            own = [w for w in wheels if is_skiff_wheel(w)]
            deps_image = _ensure_layer(
                client, DEPS_REPOSITORY, image_file("runtime-deps.Dockerfile"),
                deps, {"BASE_IMAGE": BASE_IMAGE}, base_id, Path(scratch) / "deps", say,
            )
            image = _ensure_layer(
                client, RUNTIME_REPOSITORY, image_file("runtime.Dockerfile"),
                own, {"DEPS_IMAGE": deps_image}, client.images.get(deps_image).id,
                Path(scratch) / "runtime", say,
            )
        _remember(fingerprint, image)
        # `latest` follows the newest build, for tools that only know the repository name.
        client.images.get(image).tag(RUNTIME_REPOSITORY, "latest")
        prune_old_runtime_images(client, keep={image})
    return image


def _ensure_layer(client, repository, dockerfile, wheels, buildargs, below_id, context, say) -> str:
    """Build `repository:<hash of wheels, Dockerfile, image below>` unless it exists."""
    digest = hashlib.sha256(dockerfile.read_bytes() + below_id.encode())
    for wheel in wheels:
        digest.update(wheel_digest(wheel).encode())
    image = f"{repository}:{digest.hexdigest()[:16]}"
    if image_exists(client, image):
        return image
    say(f"building {image}")
    (context / "wheels").mkdir(parents=True)
    for wheel in wheels:
        os.link(wheel, context / "wheels" / wheel.name)
    build_image(client, context, dockerfile, image, buildargs)
    return image


def _source_fingerprint(base_id: str) -> str:
    """Cheap hash of everything that could change the images: the installed Skiff's files and
    metadata, the dependency pins, the Dockerfiles, the base."""
    digest = hashlib.sha256()
    for part in fingerprint_parts():
        digest.update(hashlib.sha256(part).digest())
    for path in sorted(IMAGE_FILES.glob("*")):
        digest.update(path.name.encode() + path.read_bytes())
    digest.update(host_constraints().encode())
    digest.update(base_id.encode())
    return digest.hexdigest()


def _index_path() -> Path:
    return sandbox_home.cache_dir() / "runtime-images.json"


def _read_index() -> dict:
    try:
        return json.loads(_index_path().read_text())
    except (OSError, ValueError):
        return {}


def _remember(fingerprint: str, image: str) -> None:
    index = _read_index()
    index[fingerprint] = image
    path = _index_path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(index, indent=1))
    os.replace(tmp, path)


def prune_old_runtime_images(client: docker.DockerClient, keep: set[str]) -> None:
    """Remove old skiff-runtime images; images a container still uses are skipped."""
    images = sorted(
        client.images.list(name=RUNTIME_REPOSITORY),
        key=lambda i: i.attrs.get("Created", ""),
        reverse=True,
    )
    now = time.time()
    for image in images[KEEP_NEWEST_RUNTIME_IMAGES:]:
        if f"{RUNTIME_REPOSITORY}:latest" in image.tags:
            continue
        created = _parse_created(image.attrs.get("Created", ""))
        if keep & set(image.tags) or created is None or now - created < PRUNE_AFTER_S:
            continue
        try:
            for tag in image.tags:
                client.images.remove(tag)
            log.info("removed old runtime image %s", ", ".join(image.tags))
        except docker.errors.APIError as exc:  # a container still uses it
            log.debug("kept %s: %s", image.short_id, exc)


def _parse_created(text: str) -> float | None:
    """Docker's RFC 3339 creation time (nanoseconds, Z) as a Unix time."""
    try:
        trimmed = re.sub(r"\.(\d{6})\d*", r".\1", text).replace("Z", "+00:00")
        return datetime.datetime.fromisoformat(trimmed).timestamp()
    except ValueError:
        return None

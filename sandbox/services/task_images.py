"""`skiff image build`: a task image from the base image plus Python requirements.

The requirements are resolved and downloaded on the host (`pip wheel`, offline from the shared
wheelhouse when it can), and the image is built with networking disabled from those wheels, as
the runtime image is. An image is labelled with a digest of what went into it (requirements
text, base image, Dockerfile), so building the same requirements again only re-tags it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import docker

from sandbox.services.base_image import BASE_IMAGE, ensure_base_image
from sandbox.services.docker_engine import docker_client
from sandbox.services.docker_images import build_image, scratch_dir
from sandbox.services.wheelhouse import wheelhouse_dir
from sdk.errors import SkiffError

log = logging.getLogger(__name__)


class RequirementsError(SkiffError):
    """A requirements file that is missing, empty or cannot be resolved (exit code 2)."""

CONTENT_LABEL = "skiff.task-image.digest"

# The venv is on PATH, so Flyte entrypoints (pyflyte-fast-execute, pyflyte-execute) resolve.
# The engine runs tasks as uid 1000; pyflyte register's default --destination-dir is /root
# (Flyte images run as root there), so /root is handed to uid 1000 and is the working directory.
DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE} AS build
COPY wheels /wheels
RUN python3 -m venv /opt/venv \\
 && /opt/venv/bin/pip install --quiet --no-index --no-deps /wheels/*.whl \\
 && /opt/venv/bin/pip check

FROM ${BASE_IMAGE}
ARG DIGEST
LABEL skiff.task-image.digest=${DIGEST}
RUN (id -u skiff >/dev/null 2>&1 \\
      || useradd --uid 1000 --user-group --create-home --shell /bin/sh skiff) \\
 && chown 1000:1000 /root && chmod 0755 /root
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PYTHONUNBUFFERED=1 \\
    LANG=C.UTF-8
USER 1000:1000
WORKDIR /root
ENV HOME=/root
"""


def _read_requirements(path: Path) -> str:
    try:
        text = path.read_text()
    except OSError as exc:
        raise RequirementsError(f"cannot read requirements file {path}: {exc.strerror}; "
                           "pass an existing file to --requirements") from None
    if not any(line.strip() and not line.strip().startswith("#") for line in text.splitlines()):
        raise RequirementsError(f"requirements file {path} lists no package; add one per line "
                           "(for example flytekit==1.16.31)")
    return text


def content_digest(requirements: str, base_id: str, dockerfile: str = DOCKERFILE) -> str:
    digest = hashlib.sha256()
    for part in (requirements, base_id, dockerfile):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()[:16]


def find_built(client: docker.DockerClient, digest: str):
    images = client.images.list(filters={"label": f"{CONTENT_LABEL}={digest}"})
    return images[0] if images else None


def wheel_requirements(requirements: Path, out_dir: Path, say=print) -> list[Path]:
    """`pip wheel -r requirements` on the host, offline from the wheelhouse first."""
    house = wheelhouse_dir()
    house.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(out_dir),
               "--find-links", str(house), "-r", str(requirements)]
    result = subprocess.run(command + ["--no-index"], capture_output=True, text=True)
    if result.returncode != 0:
        say(f"fetching wheels for {requirements.name} from PyPI (once; kept in {house})")
        result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-8:])
        raise RequirementsError(f"`pip wheel -r {requirements}` failed:\n{tail}\n"
                           "fix the requirements (names, versions) and build again")
    wheels = sorted(out_dir.glob("*.whl"))
    for wheel in wheels:  # the next build of these requirements needs no network
        if not (house / wheel.name).exists():
            shutil.copy2(wheel, house / wheel.name)
    return wheels


# An image's own environment (an ImageSpec's `env`): a thin layer over the requirements' image,
# which stays shared by content with every other image of the same requirements.
ENV_DOCKERFILE = """\
ARG FROM_IMAGE
FROM ${FROM_IMAGE}
ARG DIGEST
LABEL skiff.task-image.digest=${DIGEST}
"""


def _env_dockerfile(env: dict[str, str]) -> str:
    lines = []
    for key, value in sorted(env.items()):
        if not key.isidentifier():
            raise RequirementsError(f"environment variable name {key!r} is not valid; use "
                                    "letters, digits and underscores")
        lines.append(f"ENV {key}={json.dumps(value)}\n")
    return ENV_DOCKERFILE + "".join(lines)


def build_task_image(requirements: str | Path, tag: str, client=None, say=print,
                     env: dict[str, str] | None = None) -> str:
    """Build (or re-tag) the image for `requirements` as `tag`, with `env` set in it when
    given; returns the tag."""
    if ":" not in tag.rsplit("/", 1)[-1]:
        tag += ":latest"
    if env:
        client = client or docker_client()
        text = _read_requirements(Path(requirements))
        packages = build_task_image(  # named by its requirements, so that it stays tagged
            requirements, "skiff-requirements:" + hashlib.sha256(text.encode()).hexdigest()[:16],
            client, say)
        packages_id = client.images.get(packages).id
        dockerfile_text = _env_dockerfile(env)
        digest = content_digest(packages_id, "", dockerfile_text)
        built = find_built(client, digest)
        if built is not None:
            built.tag(tag)
            return tag
        with tempfile.TemporaryDirectory(prefix="skiff-task-image-", dir=scratch_dir()) as tmp:
            context = Path(tmp) / "context"
            context.mkdir()
            dockerfile = Path(tmp) / "env.Dockerfile"
            dockerfile.write_text(dockerfile_text)
            build_image(client, context, dockerfile, tag, {"FROM_IMAGE": packages_id,
                                                           "DIGEST": digest})
        return tag
    requirements = Path(requirements)
    text = _read_requirements(requirements)
    client = client or docker_client()
    ensure_base_image(client, say)
    digest = content_digest(text, client.images.get(BASE_IMAGE).id)
    built = find_built(client, digest)
    if built is None:
        with tempfile.TemporaryDirectory(prefix="skiff-task-image-", dir=scratch_dir()) as tmp:
            context = Path(tmp) / "context"
            wheels = wheel_requirements(requirements, Path(tmp) / "wheels", say)
            (context / "wheels").mkdir(parents=True)
            for wheel in wheels:
                os.link(wheel, context / "wheels" / wheel.name)
            dockerfile = Path(tmp) / "task-image.Dockerfile"
            dockerfile.write_text(DOCKERFILE)
            say(f"building {tag} ({len(wheels)} wheels, no network)")
            build_image(client, context, dockerfile, tag,
                        {"BASE_IMAGE": BASE_IMAGE, "DIGEST": digest})
    else:
        built.tag(tag)
    return tag

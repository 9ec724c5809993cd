"""skiff-base:bookworm: a debootstrapped Debian with Python 3, imported into Docker.

No registry is reachable, so the base comes from the Debian mirror apt already uses.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import docker

from sandbox import home as sandbox_home
from sandbox.services.docker_images import image_exists, image_file, scratch_dir
from sandbox.services.locks import file_lock
from sdk.errors import SandboxError

log = logging.getLogger(__name__)

BASE_IMAGE = "skiff-base:bookworm"


def debian_mirror() -> str:
    """SKIFF_DEBIAN_MIRROR, else the bookworm mirror apt uses on this machine."""
    if os.environ.get("SKIFF_DEBIAN_MIRROR"):
        return os.environ["SKIFF_DEBIAN_MIRROR"]
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        try:
            text = path.read_text()
        except OSError:
            continue
        for uri, suites in apt_entries(text):
            if "bookworm" in suites and "security" not in uri:
                return uri.rstrip("/")
    raise SandboxError(
        "no Debian bookworm mirror found in /etc/apt/sources.list*; set SKIFF_DEBIAN_MIRROR to "
        "the mirror apt uses, then run `skiff sandbox up` again"
    )


def apt_entries(text: str):
    """(uri, suites) pairs from one-line (.list) and deb822 (.sources) apt sources."""
    for line in text.splitlines():
        match = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
        if match:
            yield match.group(1), [match.group(2)]
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        for line in stanza.splitlines():
            key, sep, value = line.partition(":")
            if sep and not key.lstrip().startswith("#"):
                fields[key.strip().lower()] = value.strip()
        if "uris" in fields and "suites" in fields:
            yield fields["uris"].split()[0], fields["suites"].split()


def ensure_base_image(client: docker.DockerClient, say=print) -> str:
    """The base image, made once with image_files/make-base-rootfs.sh (about a minute)."""
    if image_exists(client, BASE_IMAGE):
        return BASE_IMAGE
    with file_lock(sandbox_home.cache_dir() / "locks" / "base-image.lock"):
        if image_exists(client, BASE_IMAGE):
            return BASE_IMAGE
        if shutil.which("debootstrap") is None or os.geteuid() != 0:
            raise SandboxError(
                f"the base image {BASE_IMAGE} is missing and building it needs debootstrap run "
                "as root; run `bash scripts/setup.sh` as root (it installs debootstrap)"
            )
        mirror = debian_mirror()
        say(f"building the base image {BASE_IMAGE} with debootstrap from {mirror} (about a minute, once)")
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="skiff-rootfs-", dir=scratch_dir()) as scratch:
            rootfs = Path(scratch) / "rootfs"
            script = image_file("make-base-rootfs.sh")
            result = subprocess.run(
                ["bash", str(script), str(rootfs), mirror], capture_output=True, text=True
            )
            if result.returncode != 0:
                tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-8:])
                raise SandboxError(
                    f"debootstrap of bookworm from {mirror} failed:\n{tail}\n"
                    "check that the mirror answers (or set SKIFF_DEBIAN_MIRROR) and retry"
                )
            archive = Path(scratch) / "rootfs.tar"
            with tarfile.open(archive, "w") as tar:
                tar.add(rootfs, arcname=".")
            repository, tag = BASE_IMAGE.split(":")
            # From a file path the upload has a length; the engine rejects a chunked stream.
            client.api.import_image_from_file(
                str(archive), repository=repository, tag=tag, changes=['CMD ["/bin/bash"]']
            )
        if not image_exists(client, BASE_IMAGE):
            raise SandboxError(f"docker import of {BASE_IMAGE} did not produce the image")
        log.info("built %s in %.0f s", BASE_IMAGE, time.monotonic() - started)
    return BASE_IMAGE

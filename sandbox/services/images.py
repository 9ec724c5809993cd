"""The base and task runtime images, built locally without pulling anything.

skiff-base:bookworm is a debootstrapped Debian with Python 3, imported into Docker.
skiff-runtime:<tag> adds Skiff and its dependencies from a host-side wheelhouse; <tag> hashes
everything that goes in (the wheels, the Dockerfile, the base image), so the image is rebuilt
only when one of them changes. A cheaper fingerprint of the sources lets `up` skip even the
wheel build when nothing changed since the last build.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import docker
import docker.errors

from sandbox import home as sandbox_home
from sandbox.services.docker_engine import docker_client
from sandbox.services.locks import file_lock
from sdk.errors import SandboxError

log = logging.getLogger(__name__)

BASE_IMAGE = "skiff-base:bookworm"
RUNTIME_REPOSITORY = "skiff-runtime"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
PROJECT_NAME = "skiff"


def project_root() -> Path:
    """The source checkout Skiff runs from; the images are built from it."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or not (root / "docker").is_dir():
        raise SandboxError(
            f"cannot build the runtime image: {root} is not a Skiff source checkout "
            "(no pyproject.toml or docker/); install Skiff with `pip install -e .` from a checkout"
        )
    return root


def image_exists(client: docker.DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


# ---- base image -------------------------------------------------------------------------------


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
        for uri, suites in _apt_entries(text):
            if "bookworm" in suites and "security" not in uri:
                return uri.rstrip("/")
    return DEFAULT_MIRROR


def _apt_entries(text: str):
    """(uri, suites) pairs from one-line (.list) and deb822 (.sources) apt sources."""
    for line in text.splitlines():
        match = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
        if match:
            yield match.group(1), [match.group(2)]
    for stanza in re.split(r"\n\s*\n", text):
        fields = dict(
            (key.strip().lower(), value.strip())
            for key, _, value in (l.partition(":") for l in stanza.splitlines() if ":" in l)
            if not key.startswith("#")
        )
        if "uris" in fields and "suites" in fields:
            yield fields["uris"].split()[0], fields["suites"].split()


def ensure_base_image(client: docker.DockerClient, say=print) -> str:
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
        script = project_root() / "docker" / "make-base-rootfs.sh"
        with tempfile.TemporaryDirectory(prefix="skiff-rootfs-", dir=_scratch_dir()) as scratch:
            rootfs = Path(scratch) / "rootfs"
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
            # From a file path the upload has a length; the engine rejects the chunked stream.
            client.api.import_image_from_file(
                str(archive), repository=repository, tag=tag, changes=['CMD ["/bin/bash"]']
            )
        if not image_exists(client, BASE_IMAGE):
            raise SandboxError(f"docker import of {BASE_IMAGE} did not produce the image")
        log.info("built %s in %.0f s", BASE_IMAGE, time.monotonic() - started)
    return BASE_IMAGE


def _scratch_dir() -> Path:
    scratch = sandbox_home.cache_dir() / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch


# ---- wheelhouse -------------------------------------------------------------------------------


def wheelhouse_dir() -> Path:
    return sandbox_home.cache_dir() / "wheelhouse"


def host_constraints() -> str:
    """Pin the image's dependencies to the versions installed on the host, which tests use."""
    pins = set()
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() != PROJECT_NAME:
            pins.add(f"{name}=={dist.version}")
    return "\n".join(sorted(pins, key=str.lower)) + "\n"


def build_wheels(root: Path, out_dir: Path, say=print) -> list[Path]:
    """`pip wheel` Skiff and its dependencies into out_dir, offline from the wheelhouse if it can."""
    house = wheelhouse_dir()
    house.mkdir(parents=True, exist_ok=True)
    constraints = out_dir.parent / "constraints.txt"
    constraints.write_text(host_constraints())
    base = [
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation",
        "--wheel-dir", str(out_dir), "--find-links", str(house),
        "--constraint", str(constraints), str(root),
    ]
    result = subprocess.run(base + ["--no-index"], capture_output=True, text=True)
    if result.returncode != 0:
        say("fetching wheels for the runtime image from PyPI (once)")
        result = subprocess.run(base, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-8:])
        raise SandboxError(f"`pip wheel` of Skiff for the runtime image failed:\n{tail}")
    wheels = sorted(out_dir.glob("*.whl"))
    for wheel in wheels:  # keep dependency wheels so the next build needs no network
        if not _is_skiff_wheel(wheel) and not (house / wheel.name).exists():
            shutil.copy2(wheel, house / wheel.name)
    return wheels


def _wheel_digest(wheel: Path) -> str:
    """Skiff's own wheel by its members (zip timestamps vary between builds), others by bytes."""
    digest = hashlib.sha256(wheel.name.encode())
    if _is_skiff_wheel(wheel):
        with zipfile.ZipFile(wheel) as archive:
            for member in sorted(archive.namelist()):
                digest.update(member.encode())
                digest.update(archive.read(member))
    else:
        digest.update(wheel.read_bytes())
    return digest.hexdigest()


# ---- runtime image ----------------------------------------------------------------------------


def _source_fingerprint(root: Path, dockerfile: Path, base_id: str) -> str:
    """Cheap hash of everything that could change the wheels: sources, pins, Dockerfile, base."""
    digest = hashlib.sha256()
    files = [root / "pyproject.toml", dockerfile]
    for package in ("sdk", "sandbox"):
        files += sorted(
            p for p in (root / package).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
        )
    for path in files:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
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


def ensure_runtime_image(client: docker.DockerClient | None = None, say=print) -> str:
    """The task runtime image `skiff-runtime:<tag>`, built only when its inputs changed."""
    client = client or docker_client()
    ensure_base_image(client, say)
    root = project_root()
    dockerfile = root / "docker" / "runtime.Dockerfile"
    base_id = client.images.get(BASE_IMAGE).id
    fingerprint = _source_fingerprint(root, dockerfile, base_id)
    known = _read_index().get(fingerprint)
    if known and image_exists(client, known):
        return known
    with file_lock(sandbox_home.cache_dir() / "locks" / "runtime-image.lock"):
        known = _read_index().get(fingerprint)
        if known and image_exists(client, known):
            return known
        with tempfile.TemporaryDirectory(prefix="skiff-image-", dir=_scratch_dir()) as scratch:
            context = Path(scratch) / "context"
            wheels_dir = context / "wheels"
            wheels_dir.mkdir(parents=True)
            wheels = build_wheels(root, wheels_dir, say)
            digest = hashlib.sha256(dockerfile.read_bytes() + base_id.encode())
            for wheel in wheels:
                digest.update(_wheel_digest(wheel).encode())
            image = f"{RUNTIME_REPOSITORY}:{digest.hexdigest()[:16]}"
            _split_wheels(wheels_dir, wheels)
            if not image_exists(client, image):
                say(f"building the task runtime image {image}")
                _build(client, context, dockerfile, image)
        _remember(fingerprint, image)
    return image


def _is_skiff_wheel(wheel: Path) -> bool:
    return wheel.name.lower().startswith(PROJECT_NAME + "-")


def _split_wheels(wheels_dir: Path, wheels: list[Path]) -> None:
    """Skiff's wheel in wheels/skiff/, the rest in wheels/deps/ (see the Dockerfile's layers)."""
    for sub in ("skiff", "deps"):
        (wheels_dir / sub).mkdir(exist_ok=True)
    for wheel in wheels:
        wheel.rename(wheels_dir / ("skiff" if _is_skiff_wheel(wheel) else "deps") / wheel.name)


def _build(client: docker.DockerClient, context: Path, dockerfile: Path, image: str) -> None:
    shutil.copy2(dockerfile, context / "Dockerfile")
    started = time.monotonic()
    try:
        client.images.build(
            path=str(context),
            tag=image,
            buildargs={"BASE_IMAGE": BASE_IMAGE},
            network_mode="none",  # everything comes from the wheelhouse in the context
            pull=False,
            rm=True,
            forcerm=True,
            labels={"org.skiff.role": "runtime"},
        )
    except docker.errors.BuildError as exc:
        lines = [c.get("stream", c.get("error", "")) for c in exc.build_log]
        tail = "".join(l for l in lines if l).strip().splitlines()[-10:]
        raise SandboxError(f"building {image} failed:\n" + "\n".join(tail)) from None
    except docker.errors.APIError as exc:
        raise SandboxError(f"building {image} failed: {exc.explanation or exc}") from None
    log.info("built %s in %.0f s", image, time.monotonic() - started)

"""The host-side wheelhouse the images install from (the image builds have no network)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from sandbox import home as sandbox_home
from sdk.errors import SandboxError

PROJECT_NAME = "skiff"


def wheelhouse_dir() -> Path:
    return sandbox_home.cache_dir() / "wheelhouse"


def is_skiff_wheel(wheel: Path) -> bool:
    return wheel.name.lower().startswith(PROJECT_NAME + "-")


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
    out_dir.mkdir(parents=True, exist_ok=True)
    constraints = out_dir.parent / "constraints.txt"
    constraints.write_text(host_constraints())
    command = [
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-build-isolation",
        "--wheel-dir", str(out_dir), "--find-links", str(house),
        "--constraint", str(constraints), str(root),
    ]
    result = subprocess.run(command + ["--no-index"], capture_output=True, text=True)
    if result.returncode != 0:
        say("fetching wheels for the runtime image from PyPI (once)")
        result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-8:])
        raise SandboxError(f"`pip wheel` of Skiff for the runtime image failed:\n{tail}")
    wheels = sorted(out_dir.glob("*.whl"))
    for wheel in wheels:  # keep dependency wheels so that the next build needs no network
        if not is_skiff_wheel(wheel) and not (house / wheel.name).exists():
            shutil.copy2(wheel, house / wheel.name)
    return wheels


def wheel_digest(wheel: Path) -> str:
    """Skiff's own wheel by its members (zip timestamps vary between builds), others by bytes."""
    digest = hashlib.sha256(wheel.name.encode())
    if is_skiff_wheel(wheel):
        with zipfile.ZipFile(wheel) as archive:
            for member in sorted(archive.namelist()):
                digest.update(member.encode())
                digest.update(archive.read(member))
    else:
        digest.update(wheel.read_bytes())
    return digest.hexdigest()

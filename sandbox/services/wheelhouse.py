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


def build_wheels(out_dir: Path, say=print) -> list[Path]:
    """Skiff's wheel, packed from the installed distribution (sandbox.services.skiff_wheel), and
    `pip wheel` of its requirements into out_dir, offline from the wheelhouse when it can.

    Only released dependencies go through pip, so no build backend (setuptools, wheel) has to
    be in the user's environment."""
    from sandbox.services.skiff_wheel import build_skiff_wheel, runtime_requirements

    house = wheelhouse_dir()
    house.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    own = build_skiff_wheel(out_dir)
    constraints = out_dir.parent / "constraints.txt"
    constraints.write_text(host_constraints())
    requirements = out_dir.parent / "requirements.txt"
    requirements.write_text("\n".join(runtime_requirements()) + "\n")
    command = [
        sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
        "--wheel-dir", str(out_dir), "--find-links", str(house),
        "--constraint", str(constraints), "--requirement", str(requirements),
    ]
    result = subprocess.run(command + ["--no-index"], capture_output=True, text=True)
    if result.returncode != 0:
        say(f"fetching the wheels of Skiff's dependencies from PyPI (once; kept in {house})")
        result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-8:])
        raise SandboxError(f"`pip wheel` of Skiff's dependencies for the runtime image failed:\n{tail}")
    wheels = sorted(w for w in out_dir.glob("*.whl") if w != own)
    for wheel in wheels:  # keep dependency wheels so that the next build needs no network
        if not is_skiff_wheel(wheel) and not (house / wheel.name).exists():
            shutil.copy2(wheel, house / wheel.name)
    return [own, *wheels]


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

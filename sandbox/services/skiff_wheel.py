"""Skiff's own wheel for the runtime image, packed from the installed distribution.

A task needs only `sdk` (its entrypoint, types and IO; sdk never imports sandbox), so the
wheel holds `sdk` alone and the console scripts it can run (`skiff-execute`): the engine, the
admin and the CLI never reach a task container. The image must run the Skiff the user runs, however it was installed: from a wheel or sdist
(the packages sit in site-packages) or editable (they sit in a source checkout). Packing the
importable packages and the distribution's metadata needs neither setuptools nor `wheel` in
the user's environment (a fresh venv has neither), nor network, nor a source checkout.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

from sdk.errors import SandboxError

DISTRIBUTION = "skiff"
# The top-level packages of the distribution a task container needs: only `sdk`
# (pyproject's packages.find also installs `sandbox` on the user's machine).
PACKAGES = ("sdk",)
# Fixed member times make the same files give the same wheel bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _distribution() -> importlib.metadata.Distribution:
    """The installed distribution: its .dist-info (a wheel or editable install), not a
    skiff.egg-info a build left in a source checkout that happens to be on sys.path."""
    found = list(importlib.metadata.distributions(name=DISTRIBUTION))
    for dist in found:
        if dist.read_text("METADATA") is not None:
            return dist
    raise SandboxError(
        "cannot build the runtime image: Skiff is importable but not installed as a "
        "distribution; install it with `pip install .` (or `pip install -e .`)"
    )


def package_files() -> Iterator[tuple[str, Path]]:
    """(name in the wheel, file) for every file of Skiff's packages, where Python imports them."""
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise SandboxError(f"cannot build the runtime image: package {package} not found")
        directory = Path(list(spec.submodule_search_locations)[0])
        # followlinks: sandbox/services/image_files links to the project's docker/ directory
        found = [Path(root, name) for root, _, names in os.walk(directory, followlinks=True)
                 for name in names]
        for path in sorted(found):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                yield f"{package}/{path.relative_to(directory).as_posix()}", path


def runtime_requirements() -> list[str]:
    """The distribution's own requirements without the extras' (pip evaluates other markers)."""
    requires = _distribution().requires or []
    return [r for r in requires if "extra" not in r.partition(";")[2]]


def metadata_files() -> dict[str, bytes]:
    """METADATA and entry_points.txt (the console scripts) as installed."""
    dist = _distribution()
    files = {}
    for name in ("METADATA", "entry_points.txt"):
        text = dist.read_text(name)
        if text is None:
            raise SandboxError(f"cannot build the runtime image: the installed Skiff has no {name}")
        files[name] = (_packed_entry_points(text) if name == "entry_points.txt" else text).encode()
    return files


def _packed_entry_points(text: str) -> str:
    """entry_points.txt without the scripts whose module the wheel does not hold (`skiff`,
    the CLI, lives in sandbox)."""
    lines = []
    for line in text.splitlines():
        target = line.partition("=")[2].strip()
        if target and not line.lstrip().startswith("[") \
                and target.split(".", 1)[0].split(":", 1)[0] not in PACKAGES:
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def version() -> str:
    return _distribution().version


def fingerprint_parts() -> Iterator[bytes]:
    """What the wheel is made of, for a cheap change check without packing it."""
    yield version().encode()
    for name, content in sorted(metadata_files().items()):
        yield name.encode() + content
    for name, path in package_files():
        yield name.encode() + b"\0" + path.read_bytes()


def build_skiff_wheel(out_dir: Path) -> Path:
    """Write `skiff-<version>-py3-none-any.whl` into out_dir and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ver = version()
    info = f"{DISTRIBUTION}-{ver}.dist-info"
    wheel = out_dir / f"{DISTRIBUTION}-{ver}-py3-none-any.whl"
    members: list[tuple[str, bytes]] = [(name, path.read_bytes()) for name, path in package_files()]
    for name, content in sorted(metadata_files().items()):
        members.append((f"{info}/{name}", content))
    members.append((f"{info}/WHEEL", (
        "Wheel-Version: 1.0\nGenerator: skiff (sandbox.services.skiff_wheel)\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n").encode()))
    record = [f"{name},sha256={_urlsafe_digest(content)},{len(content)}" for name, content in members]
    record.append(f"{info}/RECORD,,")
    members.append((f"{info}/RECORD", ("\n".join(record) + "\n").encode()))
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            entry = zipfile.ZipInfo(name, _ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, content)
    return wheel


def _urlsafe_digest(content: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()

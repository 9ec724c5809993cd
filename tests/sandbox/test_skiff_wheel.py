"""Skiff's wheel for the runtime image, packed from the installed distribution, and the pip
command that fetches the dependencies' wheels for the image's Python (pure logic: no Docker)."""
from __future__ import annotations

import base64
import hashlib
import sys
import zipfile

from sandbox.services import wheelhouse
from sandbox.services.skiff_wheel import build_skiff_wheel, runtime_requirements


def test_the_wheel_holds_the_installed_packages_and_metadata_and_is_reproducible(tmp_path):
    first = build_skiff_wheel(tmp_path / "a")
    second = build_skiff_wheel(tmp_path / "b")
    assert first.name.startswith("skiff-") and first.name.endswith("-py3-none-any.whl")
    assert first.read_bytes() == second.read_bytes()  # same files, same bytes
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        assert {f"{info}/WHEEL", f"{info}/entry_points.txt", f"{info}/RECORD"} <= set(names)
        scripts = archive.read(f"{info}/entry_points.txt").decode()
        assert "skiff-execute = sdk.entrypoint:main" in scripts
        # A task needs only sdk: neither the sandbox package nor the CLI's script is packed.
        assert "sandbox.cli" not in scripts and not any(n.startswith("sandbox/") for n in names)
        assert "sdk/entrypoint.py" in names and not any("__pycache__" in n for n in names)
        for line in archive.read(f"{info}/RECORD").decode().splitlines():
            name, digest, size = line.split(",")
            if name.endswith("RECORD"):
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            assert digest == f"sha256={expected.decode()}" and int(size) == len(data)


def test_runtime_requirements_leave_the_extras_out():
    requirements = runtime_requirements()
    assert any(r.startswith("flyteidl") for r in requirements)
    assert not any("extra" in r for r in requirements)
    assert not any(r.startswith(("pytest", "flytekit", "pandas")) for r in requirements)


def test_another_python_downloads_the_image_pythons_binary_wheels(tmp_path, monkeypatch):
    assert wheelhouse._dependency_command(tmp_path)[3] == (
        "wheel" if sys.version_info[:2] == wheelhouse.IMAGE_PYTHON else "download")
    monkeypatch.setattr(wheelhouse, "IMAGE_PYTHON", (3, 99))
    command = wheelhouse._dependency_command(tmp_path)
    assert command[3] == "download" and "--only-binary=:all:" in command
    assert command[command.index("--python-version") + 1] == "3.99"
    assert "cp399" in command and any(c.startswith("manylinux2014_") for c in command)

"""`skiff image build`: task images from requirements, built without network in the build."""
from __future__ import annotations

import subprocess
import uuid

import docker
import pytest

from test_flytekit_interop import REQUIREMENTS, flytekit_image  # noqa: F401 - the session's image

pytestmark = pytest.mark.sandbox


def build(requirements, tag):
    return subprocess.run(["skiff", "image", "build", "--requirements", str(requirements),
                           "--tag", tag], capture_output=True, text=True, timeout=1800)


def test_missing_requirements_file_is_a_usage_error(tmp_path, sandbox_home):
    result = build(tmp_path / "nope.txt", "skiff-test-never:1")
    assert result.returncode == 2
    assert "cannot read requirements file" in result.stderr
    assert "nope.txt" in result.stderr


def test_requirements_without_packages_are_refused(tmp_path, sandbox_home):
    empty = tmp_path / "requirements.txt"
    empty.write_text("# nothing yet\n\n")
    result = build(empty, "skiff-test-never:1")
    assert result.returncode == 2
    assert "lists no package" in result.stderr


def test_same_requirements_again_only_retag_the_built_image(flytekit_image, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(REQUIREMENTS)  # what the session's flytekit image was built from
    tag = f"skiff-test-retag:{uuid.uuid4().hex[:8]}"
    result = build(requirements, tag)
    assert result.returncode == 0, result.stderr
    assert "building" not in result.stderr  # nothing was built: found by its content label
    client = docker.from_env()
    try:
        assert client.images.get(tag).id == client.images.get(flytekit_image).id
        # flytekit's entrypoints are on PATH for uid 1000, the user the engine runs tasks as.
        out = client.containers.run(tag, ["sh", "-c", "id -u; command -v pyflyte-fast-execute"],
                                    network_mode="none", remove=True)
        assert out.decode().split() == ["1000", "/opt/venv/bin/pyflyte-fast-execute"]
    finally:
        client.images.remove(tag)

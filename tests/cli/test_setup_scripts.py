"""The README's set-up scripts: Skiff goes into a dedicated environment (SKIFF_PYTHON, else the
project's .venv), never the python3 first on PATH, and its `skiff` is linked onto PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def checkout(tmp_path):
    """A checkout's scripts, in a fresh project directory without a .venv yet."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "scripts", project / "scripts")
    return project


def _bash(script: str, project: Path, **env) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in ("SKIFF_PYTHON", "CI")}
    full_env.update(env)
    return subprocess.run(["bash", "-c", f"source {project}/scripts/setup.sh\n{script}"],
                          cwd=project, env=full_env, capture_output=True, text=True, timeout=60)


def test_the_python_is_skiff_python_else_the_project_venv_never_python3_on_path(checkout, tmp_path):
    # A python3 first on PATH that pip could install into (as a pyenv one) is not taken.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").symlink_to(Path(os.__file__).parents[2] / "bin" / "python3")
    path = f"{fake}{os.pathsep}{os.environ['PATH']}"
    chosen = _bash("skiff_python", checkout, PATH=path)
    assert chosen.stdout.strip() == f"{checkout}/.venv/bin/python"
    own = _bash("skiff_python", checkout, PATH=path, SKIFF_PYTHON="/opt/mine/bin/python")
    assert own.stdout.strip() == "/opt/mine/bin/python"


def test_skiff_is_linked_onto_path_and_the_message_says_where(checkout, tmp_path):
    bin_dir = tmp_path / "links"
    result = _bash('link_skiff; echo "$SKIFF_WHERE"', checkout, SKIFF_BIN_DIR=str(bin_dir),
                   PATH="/usr/bin:/bin")
    assert result.returncode == 0, result.stderr
    link = bin_dir / "skiff"
    assert link.is_symlink() and os.readlink(link) == f"{checkout}/.venv/bin/skiff"
    where = result.stdout.strip()
    assert where.startswith(f"skiff is {checkout}/.venv/bin/skiff, linked as {link}")
    assert f"{bin_dir} is not on PATH: add it" in where

    # Safe to repeat; a real file of that name is never replaced.
    assert _bash("link_skiff", checkout, SKIFF_BIN_DIR=str(bin_dir)).returncode == 0
    link.unlink()
    link.write_text("#!/bin/sh\n")
    kept = _bash("link_skiff", checkout, SKIFF_BIN_DIR=str(bin_dir))
    assert "exists and is not a link; left alone" in kept.stderr
    assert link.read_text() == "#!/bin/sh\n"


def test_no_link_for_skiff_python_or_ci(checkout, tmp_path):
    bin_dir = tmp_path / "links"
    for env in ({"SKIFF_PYTHON": "/opt/mine/bin/python"}, {"CI": "true"}):
        result = _bash('link_skiff; echo "$SKIFF_WHERE"', checkout, SKIFF_BIN_DIR=str(bin_dir), **env)
        assert result.returncode == 0, result.stderr
        assert "not linked" in result.stderr
        assert result.stdout.strip().startswith("skiff is ")
    assert not bin_dir.exists()

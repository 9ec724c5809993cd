"""The fault and fuzz suite: real Docker, MinIO and SQLite, broken on purpose.

Every test here is bounded (a fixed number of runs and examples) and prints its figures, so
that `pytest -s tests/reliability` reports them. Tests that kill MinIO do it in a sandbox home
of their own (`fault_home`), never in the session's.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sandbox"))  # test_engine_support

SKIFF = str(Path(sys.executable).with_name("skiff"))


def skiff(*args: str, home, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, SKIFF_HOME=str(home))
    return subprocess.run([SKIFF, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, **kwargs)


def figures(title: str, **numbers) -> None:
    """Print a test's measured figures on one line (shown with `pytest -s`)."""
    shown = ", ".join(f"{k}={v}" for k, v in numbers.items())
    print(f"\n[reliability] {title}: {shown}")


@pytest.fixture(scope="module")
def fault_home(tmp_path_factory):
    """A sandbox home of its own, brought up for the module and down after it."""
    from sandbox import services

    home = tmp_path_factory.mktemp("fault-home")
    state = services.up(home)
    try:
        yield state
    finally:
        services.down(home)

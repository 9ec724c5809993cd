"""The fault and fuzz suite: real Docker, MinIO and SQLite, broken on purpose.

Every test here is bounded (a fixed number of runs and examples) and prints its figures, so
that `pytest -s tests/reliability` reports them. Tests that kill MinIO do it in a sandbox home
of their own (`fault_home`), never in the session's. Helpers: reliability_support.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sandbox"))  # test_engine_support
sys.path.insert(0, str(Path(__file__).resolve().parent))  # reliability_support


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

"""Shared test fixtures: one real sandbox (Docker engine, MinIO, SQLite) per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SANDBOX_TESTS = Path(__file__).parent / "sandbox"


def pytest_collection_modifyitems(config, items):
    """Every test under tests/sandbox/ needs the real services: mark it `sandbox`."""
    for item in items:
        if SANDBOX_TESTS in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.sandbox)


@pytest.fixture(scope="session")
def sandbox_home(tmp_path_factory):
    """A sandbox brought up in a temporary SKIFF_HOME; yields its SandboxState.

    SKIFF_HOME is set in os.environ for the session so that CLI subprocesses use this sandbox.
    MinIO is stopped at the end; the shared cache (MinIO binary, images) is kept.
    """
    from sandbox import services

    home = tmp_path_factory.mktemp("skiff-home")
    previous = os.environ.get("SKIFF_HOME")
    os.environ["SKIFF_HOME"] = str(home)
    try:
        state = services.up(home)
        yield state
    finally:
        services.down(home)
        if previous is None:
            os.environ.pop("SKIFF_HOME", None)
        else:
            os.environ["SKIFF_HOME"] = previous

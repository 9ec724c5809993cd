"""Shared test fixtures: one real sandbox (Docker engine, MinIO, SQLite) per test session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

SANDBOX_TESTS = Path(__file__).parent / "sandbox"

# Tests run `skiff` in subprocesses: the one installed beside the Python running the tests, not
# whichever comes first on PATH (another checkout's, or the user's own Python's).
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])


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
        # Hand-built test tasks run this sandbox's image, not whichever skiff-runtime is newest
        # on the machine: its skiff-execute must sign with the session token the sandbox's
        # scoped storage credentials carry.
        previous_image = os.environ.get("SKIFF_TEST_IMAGE")
        os.environ.setdefault("SKIFF_TEST_IMAGE", state.runtime_image)
        yield state
        if previous_image is None:
            os.environ.pop("SKIFF_TEST_IMAGE", None)
    finally:
        services.down(home)
        if previous is None:
            os.environ.pop("SKIFF_HOME", None)
        else:
            os.environ["SKIFF_HOME"] = previous


@pytest.fixture(scope="session")
def flyteadmin(tmp_path_factory):
    """Flyte's own control plane started by start_flyte_plane; yields its endpoints.json as a
    dict (grpc, http, s3_endpoint, access_key, secret_key, bucket, flytekit_config, flytectl).
    The oracle for every claim that Skiff behaves like Flyte."""
    import json

    from flyte_plane import start_flyte_plane, stop_flyte_plane

    directory = start_flyte_plane(tmp_path_factory)
    try:
        yield json.loads((directory / "endpoints.json").read_text())
    finally:
        stop_flyte_plane(directory)

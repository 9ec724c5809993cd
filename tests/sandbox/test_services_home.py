"""state.json: what `up` records and what the engine reads back (no services needed)."""

from __future__ import annotations

import json
import stat

import pytest

from sandbox.home import SandboxState, default_database_url
from sdk.errors import SandboxError


def test_state_round_trips_with_mode_0600_and_hides_the_secret(tmp_path):
    state = SandboxState(home=str(tmp_path), minio_endpoint="http://127.0.0.1:9999",
                         access_key="ak", secret_key="s3cret", minio_pid=42,
                         database_url=default_database_url(tmp_path), runtime_image="skiff-runtime:x")
    path = state.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SandboxState.load(tmp_path) == state
    assert "s3cret" not in json.dumps(state.public_dict()) and "s3cret" not in repr(state)
    assert state.storage_env() == {"FLYTE_AWS_ENDPOINT": "http://127.0.0.1:9999",
                                   "FLYTE_AWS_ACCESS_KEY_ID": "ak",
                                   "FLYTE_AWS_SECRET_ACCESS_KEY": "s3cret"}
    assert state.store_path == str(tmp_path / "skiff.db")


def test_database_url_override(tmp_path, monkeypatch):
    SandboxState(home=str(tmp_path), database_url=default_database_url(tmp_path)).save()
    monkeypatch.setenv("SKIFF_DATABASE_URL", "sqlite:////elsewhere/x.db")
    assert default_database_url(tmp_path) == "sqlite:////elsewhere/x.db"
    assert SandboxState.load(tmp_path).database_url == "sqlite:////elsewhere/x.db"


def test_missing_state_says_to_run_up(tmp_path):
    with pytest.raises(SandboxError, match="run `skiff sandbox up` first"):
        SandboxState.load(tmp_path / "nowhere")

"""`skiff sandbox up | status | down` against the real Docker engine and a real MinIO."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import docker
import pytest
from minio import Minio
from minio.error import S3Error

from sandbox.home import SandboxState

SKIFF = str(Path(sys.executable).with_name("skiff"))


def skiff(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ, SKIFF_HOME=str(home), **env)
    return subprocess.run(
        [SKIFF, *args], capture_output=True, text=True, env=environment, timeout=900
    )


def minio_for(state: SandboxState, secret: str | None = None) -> Minio:
    return Minio(
        state.minio_endpoint.removeprefix("http://"),
        access_key=state.access_key,
        secret_key=state.secret_key if secret is None else secret,
        secure=False,
    )


@pytest.fixture
def own_home(tmp_path):
    """A second sandbox home, always brought down after the test."""
    home = tmp_path / "home"
    yield home
    skiff("sandbox", "down", home=home)


def test_up_status_down_keeps_data_and_hides_the_secret(own_home):
    up = skiff("sandbox", "up", home=own_home)
    assert up.returncode == 0, up.stderr
    state = SandboxState.load(own_home)
    assert state.minio_endpoint.startswith("http://127.0.0.1:")
    assert state.minio_endpoint in up.stdout
    assert state.runtime_image in up.stdout
    assert str(own_home / "skiff.db") in up.stdout
    assert stat.S_IMODE((own_home / "state.json").stat().st_mode) == 0o600
    assert (own_home / "skiff.db").is_file()

    # MinIO answers with the generated credentials and refuses a wrong secret.
    storage = minio_for(state)
    assert storage.bucket_exists("skiff")
    storage.put_object("skiff", "kept.txt", data=io.BytesIO(b"kept"), length=4)
    with pytest.raises(S3Error) as refused:
        minio_for(state, secret="not-the-secret").bucket_exists("skiff")
    assert refused.value.code in ("SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied")

    status = skiff("sandbox", "status", "--json", home=own_home)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["home"] == str(own_home)
    assert report["storage_endpoint"] == state.minio_endpoint
    assert report["database_url"] == f"sqlite:///{own_home / 'skiff.db'}"
    assert report["image"] == state.runtime_image
    assert report["minio_running"] is True and report["ready"] is True

    down = skiff("sandbox", "down", home=own_home)
    assert down.returncode == 0, down.stderr
    after = skiff("sandbox", "status", "--json", home=own_home)
    assert after.returncode == 1
    assert json.loads(after.stdout)["minio_running"] is False
    with pytest.raises(Exception):
        minio_for(state).bucket_exists("skiff")

    # Up again: same credentials, the object written before `down` is still there.
    again = skiff("sandbox", "up", home=own_home)
    assert again.returncode == 0, again.stderr
    restarted = SandboxState.load(own_home)
    assert (restarted.access_key, restarted.secret_key) == (state.access_key, state.secret_key)
    assert minio_for(restarted).get_object("skiff", "kept.txt").read() == b"kept"

    shown = up.stdout + up.stderr + status.stdout + down.stdout + again.stdout + again.stderr
    logs = "".join(p.read_text(errors="replace") for p in (own_home / "logs").glob("*"))
    assert state.secret_key not in shown
    assert state.secret_key not in logs
    from sandbox.console.access import read_console

    console_token = read_console(own_home)["token"]  # the console's address is shown, not it
    assert console_token not in shown and console_token not in logs


def test_second_up_changes_nothing(sandbox_home):
    home = Path(sandbox_home.home)
    again = skiff("sandbox", "up", home=home)
    assert again.returncode == 0, again.stderr
    state = SandboxState.load(home)
    assert state.minio_pid == sandbox_home.minio_pid
    assert state.minio_endpoint == sandbox_home.minio_endpoint
    assert state.secret_key == sandbox_home.secret_key
    assert "building" not in again.stderr


def _minio_environment(state) -> dict:
    with open(f"/proc/{state.minio_pid}/environ", "rb") as handle:
        pairs = [entry.decode().partition("=") for entry in handle.read().split(b"\0") if entry]
    return {name: value for name, _, value in pairs}


def test_two_homes_run_side_by_side(sandbox_home, own_home):
    # the second home's MinIO gets the memory limit its `up` was given
    assert skiff("sandbox", "up", home=own_home, MINIO_MEMLIMIT="320MiB").returncode == 0
    other = SandboxState.load(own_home)
    # MinIO's Go heap is bounded (it would take the machine's free memory as its limit and
    # grow with every byte moved), its request cap set on its own; a value given wins
    assert _minio_environment(sandbox_home)["MINIO_MEMLIMIT"] == os.environ.get("MINIO_MEMLIMIT", "256MiB")
    assert _minio_environment(sandbox_home)["MINIO_API_REQUESTS_MAX"] == os.environ.get(
        "MINIO_API_REQUESTS_MAX", "1024")
    assert _minio_environment(other)["MINIO_MEMLIMIT"] == "320MiB"
    assert other.minio_endpoint != sandbox_home.minio_endpoint
    assert other.minio_pid != sandbox_home.minio_pid
    assert other.secret_key != sandbox_home.secret_key
    assert minio_for(other).bucket_exists("skiff")
    assert minio_for(sandbox_home).bucket_exists("skiff")
    # Each MinIO knows only its own credentials.
    crossed = SandboxState(home=other.home, minio_endpoint=other.minio_endpoint,
                           access_key=sandbox_home.access_key, secret_key=sandbox_home.secret_key)
    with pytest.raises(S3Error):
        minio_for(crossed).bucket_exists("skiff")
    # Bringing one down leaves the other serving.
    assert skiff("sandbox", "down", home=own_home).returncode == 0
    assert minio_for(sandbox_home).bucket_exists("skiff")


def test_runtime_image_runs_skiff_execute_as_uid_1000_and_reaches_minio(sandbox_home):
    client = docker.from_env()
    health = f"{sandbox_home.minio_endpoint}/minio/health/live"
    script = (
        "id -u && skiff-execute --help && "
        f"python3 -c \"import urllib.request; print(urllib.request.urlopen('{health}').status)\""
    )
    output = client.containers.run(
        sandbox_home.runtime_image, ["sh", "-c", script], network_mode="host", remove=True
    ).decode()
    lines = output.splitlines()
    assert lines[0] == "1000"
    assert "--output-prefix" in output
    assert lines[-1] == "200"


def test_missing_docker_socket_says_how_to_start_an_engine(tmp_path):
    result = skiff("sandbox", "up", home=tmp_path / "home", DOCKER_HOST="unix:///tmp/no-such-docker.sock")
    assert result.returncode == 1
    message = result.stderr.strip()
    assert message.startswith("Error: no Docker engine answers at unix:///tmp/no-such-docker.sock")
    assert "dockerd --bridge=none --iptables=false --ip6tables=false" in message
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "home" / "state.json").exists()


def test_status_reports_a_missing_engine_without_failing_to_answer(sandbox_home):
    result = skiff("sandbox", "status", "--json", home=Path(sandbox_home.home),
                   DOCKER_HOST="unix:///tmp/no-such-docker.sock")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["docker"] is None and report["ready"] is False
    assert "dockerd --bridge=none" in report["docker_error"]
    assert report["minio_running"] is True  # MinIO itself does not depend on the engine


def test_a_bad_database_url_is_named_with_its_password_hidden(own_home):
    result = skiff("sandbox", "up", home=own_home, SKIFF_DATABASE_URL="nosuchdb://me:hunter2@db/x")
    assert result.returncode == 1
    # The steps up to the failure show as progress; the error is the last line.
    assert result.stderr.splitlines()[-1].startswith(
        "Error: cannot open the store at nosuchdb://me:***@db/x")
    assert "SKIFF_DATABASE_URL" in result.stderr and "hunter2" not in result.stderr
    # Without the override the same home comes up on its own SQLite file.
    assert skiff("sandbox", "up", home=own_home).returncode == 0
    assert SandboxState.load(own_home).database_url == f"sqlite:///{own_home / 'skiff.db'}"


def test_two_homes_brought_up_at_once_share_one_image(tmp_path):
    homes = [tmp_path / "a", tmp_path / "b"]
    env = [dict(os.environ, SKIFF_HOME=str(h)) for h in homes]
    try:
        runs = [subprocess.Popen([SKIFF, "sandbox", "up"], env=e, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for e in env]
        results = [(run.wait(timeout=900), run.stderr.read()) for run in runs]
        assert [code for code, _ in results] == [0, 0], results
        states = [SandboxState.load(h) for h in homes]
        assert states[0].runtime_image == states[1].runtime_image
        assert states[0].minio_endpoint != states[1].minio_endpoint
        assert all(minio_for(s).bucket_exists("skiff") for s in states)
    finally:
        for home in homes:
            skiff("sandbox", "down", home=home)

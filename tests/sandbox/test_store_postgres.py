"""The store on PostgreSQL (SKIFF_DATABASE_URL): a real Postgres server on 127.0.0.1 started
for this module, a sandbox home pointing at it, runs, the cache and a failure recorded there."""
from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest

from test_engine_support import docker_events

pytestmark = pytest.mark.sandbox
PASSWORD = "never-printed-7f3a"

WORKFLOW = textwrap.dedent('''
    from sdk import task, workflow


    @task(cache=True, cache_version="1")
    def square(x: int) -> int:
        return x * x


    @task
    def fail(x: int) -> int:
        raise RuntimeError(f"refusing {x}")


    @workflow
    def squares(x: int) -> int:
        return square(x=square(x=x))


    @workflow
    def failing(x: int) -> int:
        return fail(x=square(x=x))
''')


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    assert found, f"PostgreSQL's {name} is not installed; scripts/setup.sh installs postgresql"
    return found[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(*command: str) -> None:
    # PostgreSQL refuses to run as root: its own system user runs it.
    prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{command[0]} failed: {done.stdout}{done.stderr}"


@pytest.fixture(scope="module")
def postgres_url():
    # Not under pytest's tmp_path: the postgres user cannot enter root's private folders.
    root = Path(tempfile.mkdtemp(prefix="skiff-pg-"))
    data = root / "data"
    if os.getuid() == 0:
        os.chown(root, *_postgres_ids())
    port = _free_port()
    _as_postgres(_pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "skiff")
    _as_postgres(_pg_bin("pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w", "-o",
                 f"-h 127.0.0.1 -p {port} -k {root}", "start")
    try:
        _as_postgres(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "skiff",
                     "skiff")
        # Trust authentication accepts any password: this one must never be shown.
        yield f"postgresql+pg8000://skiff:{PASSWORD}@127.0.0.1:{port}/skiff"
    finally:
        _as_postgres(_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _postgres_ids() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid


def test_runs_cache_and_failures_are_stored_in_postgres(postgres_url, tmp_path):
    (tmp_path / "pgwf.py").write_text(WORKFLOW)
    home = tmp_path / "home"
    env = {**os.environ, "SKIFF_HOME": str(home), "SKIFF_DATABASE_URL": postgres_url}

    def skiff(*args):
        return subprocess.run(["skiff", *args], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)

    up = skiff("sandbox", "up")
    assert up.returncode == 0, up.stderr
    try:
        status = skiff("sandbox", "status", "--json").stdout
        assert json.loads(status)["database_url"] == postgres_url.replace(PASSWORD, "***")
        assert PASSWORD not in up.stdout + up.stderr + status
        first = skiff("run", "--sandbox", "--json", "pgwf.py", "squares", "--x", "3")
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout) == {"o0": 81}
        with docker_events() as events:
            again = skiff("run", "--sandbox", "--json", "pgwf.py", "squares", "--x", "3")
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout) == {"o0": 81}
        again_id = next(line.split()[1] for line in again.stderr.splitlines()
                        if line.startswith("execution "))
        assert events.of(again_id) == []  # answered by the cache kept in Postgres

        failed = skiff("run", "--sandbox", "pgwf.py", "failing", "--x", "2")
        assert failed.returncode == 1
        assert "RuntimeError: refusing 4" in failed.stderr

        # Everything is in Postgres, nothing in the home's SQLite file.
        assert not (home / "skiff.db").exists()
        from sqlalchemy import create_engine, text

        engine = create_engine(postgres_url)
        with engine.connect() as connection:
            states = dict(connection.execute(text("SELECT id, state FROM executions")).all())
            cached = connection.execute(text("SELECT count(*) FROM cache_entries")).scalar()
        engine.dispose()
        assert sorted(states.values()) == ["failed", "succeeded", "succeeded"]
        assert cached == 3  # square(3), square(9) and, before the failure, square(2)
        show = json.loads(skiff("executions", "show", again_id, "--json").stdout)
        assert [n["state"] for n in show["nodes"]] == ["cached", "cached"]
    finally:
        skiff("sandbox", "down")

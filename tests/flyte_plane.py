"""Flyte's own control plane for the tests (../shared/flyte, see its README): start and stop it.
A module of its own, not conftest, so that test files can import it whichever conftest.py
pytest registered under that name."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# ../shared/flyte beside the project (CI lays shared/ out so), or $SKIFF_FLYTE_DIR
FLYTE_DIR = Path(os.environ.get("SKIFF_FLYTE_DIR",
                                Path(__file__).resolve().parents[1].parent / "shared" / "flyte"))


def start_flyte_plane(tmp_path_factory, name: str = "flyteadmin") -> Path:
    """Start Flyte's own control plane (flyteadmin with its PostgreSQL and MinIO) on 127.0.0.1
    with ../shared/flyte/up.sh in a new directory; that directory (its endpoints.json says
    where everything listens). Stop it with stop_flyte_plane. A missing plane fails the test,
    it never skips it."""
    import subprocess
    import sys

    up = FLYTE_DIR / "up.sh"
    if not up.exists():
        pytest.fail(f"Flyte's control plane is not at {FLYTE_DIR} (set SKIFF_FLYTE_DIR)")
    env = dict(os.environ, PYTHON=sys.executable)
    # up.sh picks free ports by binding and releasing them; another process can take one
    # before its server binds it ("port is already in use"), so a failed start is tried
    # once more on fresh ports.
    for _ in range(2):
        directory = tmp_path_factory.mktemp(name)
        _write_settings(directory)
        try:
            result = subprocess.run(["bash", str(up), str(directory)], env=env,
                                    capture_output=True, text=True, timeout=240)
        except subprocess.TimeoutExpired as exc:
            failure = f"up.sh did not finish within {exc.timeout:g} s"
        else:
            if result.returncode == 0:
                return directory
            failure = f"up.sh failed (exit {result.returncode}):\n{result.stderr[-3000:]}"
        stop_flyte_plane(directory)
    logs = "".join(f"\n--- {log.name}:\n{log.read_text()[-1500:]}"
                   for log in sorted((directory / "run").glob("*.log")))
    pytest.fail(f"{failure} (twice){logs}")


def _write_settings(directory: Path) -> None:
    """The ports and credentials up.sh would choose, chosen here so that no two are the same:
    up.sh asks for one free port at a time and releases each at once, so it can be handed one
    port twice (PostgreSQL and MinIO then collide). It keeps settings it finds."""
    import secrets
    import socket

    sockets = [socket.socket() for _ in range(6)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        ports = [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    names = ("PG_PORT", "S3_PORT", "S3_CONSOLE", "GRPC_PORT", "HTTP_PORT", "PROF_PORT")
    lines = [f"{name}={port}" for name, port in zip(names, ports)]
    lines += [f"PG_PASSWORD={secrets.token_hex(12)}", f"S3_KEY=flyte{secrets.token_hex(4)}",
              f"S3_SECRET={secrets.token_hex(16)}"]
    run = directory / "run"
    run.mkdir(parents=True, exist_ok=True)
    settings = run / "settings"
    settings.write_text("\n".join(lines) + "\n")
    settings.chmod(0o600)


def stop_flyte_plane(directory: Path) -> None:
    import subprocess

    subprocess.run(["bash", str(FLYTE_DIR / "down.sh"), str(directory)], capture_output=True,
                   timeout=120)


def flytectl_binary(tmp_path_factory) -> str:
    """Flyte's own flytectl unpacked from FLYTE_DIR (without starting the plane)."""
    import lzma
    import shutil

    packed = FLYTE_DIR / "flytectl.xz"
    if not packed.exists():
        pytest.fail(f"Flyte's flytectl is not at {packed} (set SKIFF_FLYTE_DIR)")
    target = tmp_path_factory.mktemp("flytectl") / "flytectl"
    with lzma.open(packed) as source, open(target, "wb") as sink:
        shutil.copyfileobj(source, sink)
    target.chmod(0o755)
    return str(target)

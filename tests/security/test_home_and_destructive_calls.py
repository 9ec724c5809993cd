"""Other local users cannot read the sandbox's state, and a destructive call needs a target."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from sandbox.admin.gen import sandbox_pb2, sandbox_pb2_grpc
from sandbox.admin.client_config import local_channel

pytestmark = pytest.mark.sandbox


def _skiff(home, *args):
    return subprocess.run([str(Path(sys.executable).with_name("skiff")), *args], capture_output=True,
                          text=True, env=dict(os.environ, SKIFF_HOME=str(home)), timeout=120)


def test_the_home_is_0700_and_nothing_in_it_is_readable_by_others(sandbox_home, tmp_path):
    home = Path(sandbox_home.home)
    # the CLI writes into the home too (a package run compiles into compiled/)
    (tmp_path / "homewf.py").write_text(
        "from sdk import task, workflow\n@task\ndef one() -> int:\n    return 1\n"
        "@workflow\ndef wf() -> int:\n    return one()\n")
    ran = _skiff(home, "run", "--sandbox", str(tmp_path / "homewf.py"), "wf")
    assert ran.returncode == 0, ran.stderr
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    exposed = []
    for directory, subdirs, files in os.walk(home):
        # code bundles are deliberately 0444: containers (uid 1000) read them through a mount
        subdirs[:] = [d for d in subdirs if Path(directory, d) != home / "bundles"]
        for name in files:
            path = Path(directory, name)
            if not path.is_symlink() and path.lstat().st_mode & 0o077:
                exposed.append(f"{path.relative_to(home)} {oct(stat.S_IMODE(path.lstat().st_mode))}")
    assert exposed == []
    assert (home / "skiff.db").exists() and (home / "logs" / "admin.log").exists()


def test_clear_cache_needs_a_task_or_all(sandbox_home):
    with local_channel(sandbox_home) as channel:
        api = sandbox_pb2_grpc.SandboxServiceStub(channel)
        for request in (sandbox_pb2.ClearCacheRequest(),
                        sandbox_pb2.ClearCacheRequest(task="x.y", all=True)):
            with pytest.raises(grpc.RpcError) as caught:
                api.ClearCache(request, metadata=_auth(sandbox_home))
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "task" in caught.value.details() and "all" in caught.value.details()
        assert api.ClearCache(sandbox_pb2.ClearCacheRequest(task="no.such.task"),
                              metadata=_auth(sandbox_home)).removed == 0


def test_cli_cache_clear_needs_a_task_or_all(sandbox_home):
    refused = _skiff(sandbox_home.home, "cache", "clear")
    assert refused.returncode == 2 and "--all" in refused.stderr
    cleared = _skiff(sandbox_home.home, "cache", "clear", "--all")
    assert cleared.returncode == 0 and "removed" in cleared.stdout


def _auth(state):
    return ()


def test_an_older_home_is_made_private(tmp_path):
    from sandbox.home import make_private

    home = tmp_path / "old-home"
    (home / "logs").mkdir(parents=True)
    os.chmod(home, 0o755)
    (home / "skiff.db").write_text("")
    (home / "logs" / "admin.log").write_text("")
    for path in (home / "skiff.db", home / "logs" / "admin.log"):
        os.chmod(path, 0o644)
    make_private(home)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "logs").stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in (home / "skiff.db", home / "logs" / "admin.log")} == {0o600}

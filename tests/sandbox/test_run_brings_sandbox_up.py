"""`skiff run --sandbox` with the sandbox down brings it up itself and says so on stderr, step
by step; `--quiet` keeps stderr free of it."""
from __future__ import annotations

import os
import subprocess
import textwrap

import pytest

pytestmark = pytest.mark.sandbox

WORKFLOW = textwrap.dedent('''
    from sdk import task, workflow


    @task
    def double(x: int) -> int:
        return 2 * x


    @workflow
    def doubled(x: int) -> int:
        return double(x=x)
''')


def test_run_sandbox_shows_the_bring_up_unless_quiet(tmp_path, sandbox_home):
    # sandbox_home: the shared images exist already; this home starts with nothing up.
    (tmp_path / "upwf.py").write_text(WORKFLOW)
    env = {**os.environ, "SKIFF_HOME": str(tmp_path / "home")}

    def skiff(*args):
        result = subprocess.run(["skiff", *args], cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        return result

    try:
        loud = skiff("run", "--sandbox", "upwf.py", "doubled", "--x", "4")
        assert loud.stdout.strip() == "o0: 8"
        assert "The sandbox is not up; bringing it up" in loud.stderr
        for step in ("... starting MinIO", "... checking the runtime image",
                     "... starting the admin API"):
            assert step in loud.stderr
        quiet = skiff("run", "--sandbox", "--quiet", "upwf.py", "doubled", "--x", "3")
        assert quiet.stdout.strip() == "o0: 6"
        assert "..." not in quiet.stderr and "running, attempt" not in quiet.stderr
    finally:
        subprocess.run(["skiff", "sandbox", "down"], env=env, capture_output=True, timeout=120)

"""An execution's overwrite_cache and envs, as a client sets them in Flyte's ExecutionSpec
(`skiff run --remote --overwrite-cache --envvars K=V`, flytekit's `execute(overwrite_cache=...,
envs=...)`), and as `skiff run --sandbox` takes them: every task container sees the variables,
and cached tasks run again, their results replacing the cache entries."""
from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest

pytestmark = pytest.mark.sandbox

WORKFLOW = textwrap.dedent('''
    import os
    import time

    from sdk import task, workflow


    @task(cache=True, cache_version="1")
    def stamp(x: int) -> str:
        return f"{os.environ.get('SKIFF_TEST_GREETING', 'unset')}:{x}:{time.time_ns()}"


    @workflow
    def stamped(x: int = 1) -> str:
        return stamp(x=x)
''')


@pytest.fixture
def workflow_file(tmp_path, request):
    path = tmp_path / "settingswf.py"
    # A package registered by `run --remote` has another spec than `run --sandbox`'s under the
    # same digest version (the registered entities differ): one file per mode.
    path.write_text(WORKFLOW + f"# {request.node.name}\n")
    return path


def _run(home, workflow_file, mode: str, x: int, *flags: str) -> str:
    result = subprocess.run(["skiff", "run", mode, "--json", *flags, str(workflow_file),
                             "stamped", "--x", str(x)],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "SKIFF_HOME": home.home})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["o0"]


@pytest.mark.parametrize("mode", ["--remote", "--sandbox"])
def test_overwrite_cache_and_envvars_reach_the_tasks(sandbox_home, workflow_file, mode):
    x = 11 if mode == "--remote" else 12
    first = _run(sandbox_home, workflow_file, mode, x)
    assert first.startswith(f"unset:{x}:")
    assert _run(sandbox_home, workflow_file, mode, x) == first  # a cache hit

    overwritten = _run(sandbox_home, workflow_file, mode, x, "--overwrite-cache",
                       "--envvars", "SKIFF_TEST_GREETING=hello")
    assert overwritten.startswith(f"hello:{x}:") and overwritten != first  # ran again, saw it
    # The new result replaced the cache entry: a plain run now hits it.
    assert _run(sandbox_home, workflow_file, mode, x) == overwritten

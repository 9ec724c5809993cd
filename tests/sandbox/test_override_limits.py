"""Resource limits reach the running container: a task's own `limits` and a node's
`.with_overrides(limits=...)` become the container's memory and CPU limits, as the task sees
them in its cgroup."""
from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest

pytestmark = pytest.mark.sandbox

WORKFLOW = textwrap.dedent('''
    from pathlib import Path
    from typing import NamedTuple

    from sdk import Resources, task, workflow


    def _first(*paths):
        for path in paths:
            if Path(path).exists():
                return Path(path).read_text().strip()
        return "unknown"


    @task(limits=Resources(cpu="1", mem="200Mi"))
    def seen() -> str:
        """The limits as the container's cgroup (v2, else v1) states them."""
        memory = _first("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
        cpu = _first("/sys/fs/cgroup/cpu.max")
        if cpu == "unknown":
            quota = _first("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
            cpu = f"{quota} {_first('/sys/fs/cgroup/cpu/cpu.cfs_period_us')}"
        return f"{memory} {cpu}"


    Both = NamedTuple("Both", [("declared", str), ("overridden", str)])


    @workflow
    def limits() -> Both:
        return Both(seen(), seen().with_overrides(limits=Resources(cpu="500m", mem="300Mi")))
''')


def test_task_limits_and_node_overrides_bind_the_container(sandbox_home, tmp_path):
    (tmp_path / "limitswf.py").write_text(WORKFLOW)
    run = subprocess.run(["skiff", "run", "--sandbox", "--json", "limitswf.py", "limits"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "SKIFF_HOME": sandbox_home.home})
    assert run.returncode == 0, run.stderr
    outputs = json.loads(run.stdout)
    # memory in bytes, then the CPU quota and period: 1 CPU = a full period, 500m = half.
    assert outputs["declared"] == f"{200 * 2**20} 100000 100000"
    assert outputs["overridden"] == f"{300 * 2**20} 50000 100000"

"""Helpers of the fault and fuzz suite (a module of its own name: every test directory has a
conftest, so `from conftest import ...` would find another directory's)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SKIFF = str(Path(sys.executable).with_name("skiff"))


def skiff(*args: str, home, timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, SKIFF_HOME=str(home))
    return subprocess.run([SKIFF, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, **kwargs)


def figures(title: str, **numbers) -> None:
    """Print a test's measured figures on one line (shown with `pytest -s`)."""
    shown = ", ".join(f"{k}={v}" for k, v in numbers.items())
    print(f"\n[reliability] {title}: {shown}")

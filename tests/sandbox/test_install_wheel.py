"""Skiff installed from its wheel into a fresh virtual environment (stock pip and setuptools,
no source checkout, no `wheel`) brings the sandbox up, building the runtime image from what is
installed, and runs the README's example with every task in its own container.

Bounded: the dependencies install from the shared wheelhouse the image builds keep, and the
MinIO binary and the base and dependency images come from the shared cache."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from sandbox.services.wheelhouse import wheelhouse_dir

pytestmark = pytest.mark.sandbox

ROOT = Path(__file__).resolve().parents[2]


def _run(command, **kwargs):
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                            timeout=kwargs.pop("timeout", 600), **kwargs)
    assert result.returncode == 0, f"{command}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def _build_wheel(out: Path) -> Path:
    """`pip wheel` of the checkout, as a user would build it (isolated build: pip fetches the
    build backend pyproject asks for, unless this environment already has it)."""
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out]
    try:
        import setuptools
        import wheel  # noqa: F401

        if int(setuptools.__version__.split(".")[0]) >= 68:
            command.append("--no-build-isolation")
    except ImportError:
        pass
    _run([*command, ROOT], cwd=out.parent)
    (wheel_path,) = out.glob("skiff-*.whl")
    return wheel_path


def test_wheel_in_a_fresh_venv_brings_the_sandbox_up_and_runs_the_readme_example(
        tmp_path, sandbox_home):
    # sandbox_home: the session's sandbox built the shared images and filled the wheelhouse.
    wheel_path = _build_wheel(tmp_path / "dist")
    env_dir = tmp_path / "fresh-venv"
    venv.create(env_dir, with_pip=True)
    python, skiff = env_dir / "bin" / "python", env_dir / "bin" / "skiff"
    install = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--find-links", wheelhouse_dir(), wheel_path]
    if subprocess.run([str(c) for c in install + ["--no-index"]], capture_output=True,
                      timeout=600).returncode != 0:
        _run(install)  # a dependency the wheelhouse lacks comes from the index

    user = tmp_path / "user"
    (user / "examples").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "pipeline.py", user / "examples" / "pipeline.py")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(SKIFF_HOME=str(tmp_path / "home"), PATH=f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}")

    # What runs is the installed copy, Dockerfiles included, with no checkout to lean on.
    where = _run([python, "-c", "import sandbox.services.docker_images as d; print(d.IMAGE_FILES)"],
                 cwd=user, env=env).stdout.strip()
    assert where.startswith(str(env_dir)) and Path(where, "runtime.Dockerfile").is_file()

    try:
        up = _run([skiff, "sandbox", "up"], cwd=user, env=env, timeout=900)
        assert "checking the runtime image" in up.stderr  # progress on stderr
        assert "Sandbox up" in up.stdout
        run = _run([skiff, "run", "--sandbox", "examples/pipeline.py", "pipeline", "--n", "4"],
                   cwd=user, env=env)
        assert run.stdout.strip() == "o0: ada:16"
    finally:
        subprocess.run([str(skiff), "sandbox", "down"], cwd=user, env=env, capture_output=True,
                       timeout=120)

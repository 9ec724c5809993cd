"""Other local runners' chains of containers, timed as a user runs them (`python chain.py`), to
compare with Skiff's chain against the same bare-container floor: flytekit's ContainerTask run
locally (flytekit is in Skiff's test extra) and Kubeflow Pipelines' local DockerRunner (kfp in a
Python of its own: its protobuf pins clash with flytekit's). Both run the runtime image that is
already on the machine: neither pulls anything.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Optional

from common import BenchmarkError

# The image's user (uid 1000) writes its outputs into folders these scripts create: umask 0
# leaves them writable for it.
FLYTEKIT_CHAIN = '''
import os, sys
os.umask(0)
from flytekit import ContainerTask, kwtypes, workflow

IMAGE, LENGTH = sys.argv[1], int(sys.argv[2])
inc = ContainerTask(
    name="inc", image=IMAGE, input_data_dir="/var/inputs", output_data_dir="/var/outputs",
    inputs=kwtypes(x=int), outputs=kwtypes(y=int),
    command=["python3", "-c", "import sys; open('/var/outputs/y', 'w').write(str(int(sys.argv[1]) + 1))",
             "{{.inputs.x}}"],
)


@workflow
def chain(x: int = 0) -> int:
    y = x
    for _ in range(LENGTH):
        y = inc(x=y)
    return y


print(chain(x=0))
'''

KFP_CHAIN = '''
import os, sys
os.umask(0)
from kfp import dsl, local

IMAGE, LENGTH, ROOT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
local.init(runner=local.DockerRunner(), pipeline_root=ROOT)


@dsl.container_component
def inc(x: int, y: dsl.OutputPath(int)):
    return dsl.ContainerSpec(
        image=IMAGE, command=["python3", "-c",
            "import os, sys; os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True); "
            "open(sys.argv[2], 'w').write(str(int(sys.argv[1]) + 1))"],
        args=[x, y])


@dsl.pipeline
def chain(x: int = 0) -> int:
    step = inc(x=x)
    for _ in range(LENGTH - 1):
        step = inc(x=step.output)
    return step.output


print(chain(x=0).output)
'''


def _timed_script(python: str, script: str, args: list[str], folder: Path, expected: str) -> float:
    path = folder / "chain.py"
    path.write_text(script)
    started = time.perf_counter()
    done = subprocess.run([python, str(path), *args], cwd=folder, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    printed = done.stdout.strip().splitlines()[-1:] if done.stdout.strip() else []
    if done.returncode != 0 or printed != [expected]:
        raise BenchmarkError(f"{python} chain.py exited {done.returncode}, printed {printed}:\n{done.stderr[-3000:]}")
    return elapsed


def flytekit_chain(python: str, image: str, length: int, folder: Path) -> float:
    """Seconds for `python chain.py`: flytekit's local run of `length` ContainerTasks in a chain."""
    return _timed_script(python, FLYTEKIT_CHAIN, [image, str(length)], folder, str(length))


def kfp_chain(python: str, image: str, length: int, folder: Path) -> float:
    """Seconds for `python chain.py`: kfp's local DockerRunner running a pipeline of `length`
    container components in a chain."""
    root = folder / "pipeline-root"
    root.mkdir(exist_ok=True)
    os.chmod(root, 0o777)
    return _timed_script(python, KFP_CHAIN, [image, str(length), str(root)], folder, str(length))


def kfp_python(given: Optional[str]) -> Optional[str]:
    """A Python that imports kfp: `given`, else $SKIFF_BENCH_KFP_PYTHON; None when there is none."""
    for candidate in (given, os.environ.get("SKIFF_BENCH_KFP_PYTHON")):
        if candidate and subprocess.run([candidate, "-c", "import kfp.local"], capture_output=True).returncode == 0:
            return candidate
    return None

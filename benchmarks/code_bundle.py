"""Benchmark: `skiff run --sandbox` of a two-task workflow in a folder that also holds ~400 MB
of unrelated files (random bytes, like build outputs and binaries), with `--copy auto` (the
default) and `--copy all`, against the same file alone in an empty folder, measured in the same
run on the same machine.

    python benchmarks/code_bundle.py [--megabytes 400] [--repeat 3]

Every run is a whole `skiff run --sandbox --no-compile-cache wf.py pipe --x N` process (a new
input each time, so no task is cached and the package is always built). Prints the median of
each and the ratios to the empty folder (target for auto: about 1x). The unrelated files are
written to a temporary folder and removed at the end. Needs a sandbox (`skiff sandbox up`).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKFLOW = '''
from sdk import task, workflow


@task
def square(x: int) -> int:
    return x * x


@task
def inc(x: int) -> int:
    return x + 1


@workflow
def pipe(x: int = 1) -> int:
    return inc(x=square(x=x))
'''


def timed_run(folder: Path, copy: str, x: int) -> float:
    skiff = str(Path(sys.executable).with_name("skiff"))
    started = time.perf_counter()
    done = subprocess.run([skiff, "run", "--sandbox", "--no-compile-cache", "--copy", copy, "wf.py", "pipe",
                           "--x", str(x)], cwd=folder, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"skiff run failed in {folder} (--copy {copy}):\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="skiff-bundle-bench-"))
    try:
        empty, full = scratch / "empty", scratch / "full"
        for folder in (empty, full):
            folder.mkdir()
            (folder / "wf.py").write_text(WORKFLOW)
        (full / "build").mkdir()
        chunk = 50 if options.megabytes >= 50 else options.megabytes
        for n in range(max(options.megabytes // chunk, 1)):
            (full / "build" / f"blob{n}.bin").write_bytes(os.urandom(chunk * 1024 * 1024))
        cases = {"empty folder": (empty, "auto"), "auto, +unrelated": (full, "auto"),
                 "all, +unrelated": (full, "all")}
        times: dict[str, list[float]] = {name: [] for name in cases}
        x = 0
        for _ in range(options.repeat):  # interleaved, so load drifts hit every case alike
            for name, (folder, copy) in cases.items():
                x += 1
                times[name].append(timed_run(folder, copy, x))
        base = statistics.median(times["empty folder"])
        print(f"{options.megabytes} MB of unrelated files, {options.repeat} runs each (median; noisy "
              "on a shared machine)")
        for name, values in times.items():
            median = statistics.median(values)
            print(f"  {name:18s} {median:7.2f} s  {median / base:5.2f}x  "
                  f"({', '.join(f'{v:.2f}' for v in values)})")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: a map task over N items at concurrency 8 in the sandbox, with and without warm
task workers (`--reuse-containers`), against N bare containers run 8 at a time through the
Docker API, all measured in the same run, interleaved, medians over repeats.

    python benchmarks/map_task.py [--items 200] [--concurrency 8] [--repeat 3]

Prints each side's throughput as a ratio to the bare containers' (targets: >= 0.8x with a
container per item, >= 3x with warm workers). Each sandbox run is a whole `skiff run --sandbox`
process with a new cache version, so nothing is cached. Needs a sandbox (`skiff sandbox up`).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKFLOW = '''
import typing

from sdk import map_task, task, workflow


@task(cache=True, cache_version="{token}")
def square(x: int) -> int:
    return x * x


@task(cache=True, cache_version="{token}")
def total(values: typing.List[int]) -> int:
    return sum(values)


@workflow
def mapped(xs: typing.List[int]) -> int:
    return total(values=map_task(square, concurrency={concurrency})(x=xs))
'''


def bare_containers(image: str, count: int, concurrency: int) -> float:
    """`count` containers through the Docker API, `concurrency` at a time."""
    import docker

    api = docker.from_env(max_pool_size=concurrency * 2).api
    host_config = api.create_host_config(network_mode="host")

    def one(_):
        container = api.create_container(image, command=["python3", "-c", "pass"],
                                         host_config=host_config)
        api.start(container)
        api.wait(container)
        api.remove_container(container)

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - started


def timed(cmd: list[str], env: dict, cwd: str, expected: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=cwd)
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or result.stdout.strip() != expected:
        sys.exit(f"{' '.join(cmd)} failed ({result.returncode}): {result.stdout}\n{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-cold", action="store_true",
                        help="measure the warm workers only (not a container per item)")
    args = parser.parse_args()

    from sandbox.home import SandboxState

    installed = Path(sys.executable).parent / "skiff"
    skiff = str(installed) if installed.exists() else "skiff"
    state = SandboxState.load()
    env = {**os.environ, "SKIFF_HOME": state.home}
    bare_containers(state.runtime_image, 4, 4)  # warm the image's layers and the engine
    items = json.dumps(list(range(args.items)))
    expected = json.dumps({"o0": sum(i * i for i in range(args.items))})
    bare_times, cold_times, warm_times = [], [], []
    with tempfile.TemporaryDirectory(prefix="skiff-bench-map-") as scratch:
        source = Path(scratch, "benchmap.py")
        base = [skiff, "run", "--sandbox", "--parallelism", str(args.concurrency)]
        tail = [source.name, "mapped", "--xs", items, "--json"]
        for _ in range(args.repeat):
            bare_times.append(bare_containers(state.runtime_image, args.items, args.concurrency))
            for times, flag in ((cold_times, "--no-reuse-containers"),
                                (warm_times, "--reuse-containers")):
                if flag == "--no-reuse-containers" and args.skip_cold:
                    continue
                source.write_text(WORKFLOW.format(token=secrets.token_hex(4),
                                                  concurrency=args.concurrency))
                times.append(timed(base + [flag] + tail, env, scratch, expected))
    bare = statistics.median(bare_times)
    print(f"{args.items} bare containers, {args.concurrency} at a time: {bare:.2f}s "
          f"({args.items / bare:.1f} items/s)")
    for name, times, target in (("a container per item", cold_times, 0.8),
                                ("warm workers (--reuse-containers)", warm_times, 3.0)):
        if times:
            median = statistics.median(times)
            print(f"map task over {args.items} items, {name}: {median:.2f}s "
                  f"({args.items / median:.1f} items/s); throughput {bare / median:.2f}x the "
                  f"bare containers' (target >= {target:g}x)")
    print("(whole `skiff run` processes: compiling, registering and the reduce task included; "
          "medians of %d; the machine is shared, so expect noise)" % args.repeat)


if __name__ == "__main__":
    main()

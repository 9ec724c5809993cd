"""Benchmark: a 20-task chain in the sandbox against bare containers, and a fully cached rerun
against `skiff --version`. Both baselines are measured in the same run, on the same machine.

    python benchmarks/chain.py [--length 20] [--repeat 3]

Both the chain and its rerun are whole `skiff run --sandbox benchchain.py chain --x 0 --json`
processes, as a user types them: the first compiles, packages, registers and runs every task in
its own container (a new cache version each repeat, so nothing is cached); the rerun of the
unchanged file is fully cached (compiled package and every task). Prints two ratios (targets:
chain <= 1.25x of 20 bare `python3 -c pass` containers through the Docker API; cached rerun
<= 1.5x of `skiff --version`). Needs a sandbox (`skiff sandbox up`). `benchmarks/run.py` measures
these and every other speed goal in one run, in a sandbox of its own.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CHAIN_WORKFLOW as WORKFLOW, bare_containers, compile_bytecode, skiff_executable, timed  # noqa: E402

# What skiff-execute imports to run a task of the chain (its modules load lazily, so importing
# sdk.entrypoint alone would say little): the storage client, protobuf, the type engine and
# the decorators the user's module imports.
ENTRYPOINT_IMPORTS = ("import sdk.entrypoint, sdk.io, sdk.s3_client, sdk.types.engine; "
                      "from sdk import task, workflow")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse-containers", action="store_true",
                        help="also run the chain with warm task workers (--reuse-containers) "
                        "and print its ratio to the bare-container floor (target <= 0.5x)")
    args = parser.parse_args()

    from sandbox.home import SandboxState

    compile_bytecode()
    skiff = skiff_executable()

    state = SandboxState.load()
    image = state.runtime_image
    env = {**os.environ, "SKIFF_HOME": state.home}
    bare_containers(image, 2)  # warm the image's layers and the engine

    chain_times, bare_times, cached_times, version_times, import_times = [], [], [], [], []
    warm_times = []
    # The source tree holds the workflow file only: it is the code bundle (and the
    # compiled-package cache's key), as a user's project directory would be.
    with tempfile.TemporaryDirectory(prefix="skiff-bench-") as scratch:
        source = Path(scratch, "benchchain.py")
        run = [skiff, "run", "--sandbox", source.name, "chain", "--x", "0", "--json"]
        expected = json.dumps({"o0": args.length})
        for _ in range(args.repeat):
            token = secrets.token_hex(4)  # a new cache version: the first run is cold
            source.write_text(WORKFLOW.format(token=token, length=args.length))
            bare_times.append(bare_containers(image, args.length))
            import_times.append(bare_containers(image, args.length, ENTRYPOINT_IMPORTS))
            chain_times.append(timed(run, env, scratch, expected))
            cached_times.append(timed(run, env, scratch, expected))
            if args.reuse_containers:  # cold again: a new cache version
                source.write_text(WORKFLOW.format(token=secrets.token_hex(4), length=args.length))
                warm_run = run[:2] + ["--sandbox", "--reuse-containers"] + run[3:]
                warm_times.append(timed(warm_run, env, scratch, expected))
            version_times.append(timed([skiff, "--version"], env, scratch))

    chain, bare = statistics.median(chain_times), statistics.median(bare_times)
    cached, version = statistics.median(cached_times), statistics.median(version_times)
    print(f"{args.length}-task chain in the sandbox: {chain:.2f}s; {args.length} bare "
          f"containers: {bare:.2f}s; ratio {chain / bare:.2f}x (target <= 1.25x)")
    if warm_times:
        warm = statistics.median(warm_times)
        print(f"the same chain with warm workers (--reuse-containers): {warm:.2f}s; ratio to "
              f"the bare containers {warm / bare:.2f}x (target <= 0.5x)")
    imports = statistics.median(import_times)
    per_node = lambda seconds: seconds / args.length * 1000  # noqa: E731
    print(f"  where the time goes: per node, the chain takes {per_node(chain - bare):.0f} ms more "
          f"than a bare container; a bare container that only imports what the entrypoint loads "
          f"takes {per_node(imports - bare):.0f} ms more (run back to back, without the engine's "
          f"overlap of one node's container with the next)")
    print(f"fully cached rerun: {cached:.3f}s; `skiff --version`: {version:.3f}s; ratio "
          f"{cached / version:.2f}x (target <= 1.5x); the rerun's own work (compiled-package "
          f"cache, inputs, store, engine; imports included) adds {(cached - version) * 1000:.0f} ms")

if __name__ == "__main__":
    main()

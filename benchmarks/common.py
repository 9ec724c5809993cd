"""What the benchmarks share: the skiff executable, timed commands, bare containers through the
Docker API (the floor every container-per-task goal is measured against), generated workflows,
a sandbox in a temporary home, and the resident memory of a process tree.

Every benchmark measures its baseline in the same run, on the same machine: on a shared, noisy
machine only the ratios mean something.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent

# Containers a benchmark starts itself carry this label, so that whatever survives an
# interrupted run can be found and removed (never anything else on the shared engine).
BENCH_LABEL = "skiff.benchmark"
RUN_TOKEN = f"{os.getpid()}-{int(time.time())}"

CHAIN_WORKFLOW = '''
from sdk import task, workflow


@task(cache=True, cache_version="{token}")
def inc(x: int) -> int:
    return x + 1


@workflow
def chain(x: int = 0) -> int:
    y = x
    for _ in range({length}):
        y = inc(x=y)
    return y
'''


class BenchmarkError(RuntimeError):
    """A command under measurement failed: the run stops with its output."""


def skiff_executable() -> str:
    """The console script itself, not a version manager's shell shim in front of it (which
    would add the same constant to both sides of a ratio against `skiff --version`)."""
    installed = Path(sys.executable).parent / "skiff"
    return str(installed) if installed.exists() else "skiff"


def compile_bytecode() -> None:
    """An installed Skiff has bytecode for its modules; this checkout may not (for example
    under PYTHONDONTWRITEBYTECODE), which would bill compiling to every CLI start."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "sdk"),
                    str(ROOT / "sandbox")], check=True)


def timed(cmd: list[str], env: dict, cwd: str | Path, expected: str | None = None) -> float:
    """Seconds a whole command takes; it must succeed (and print `expected` when given)."""
    started = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=cwd)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchmarkError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    if expected is not None and result.stdout.strip() != expected:
        raise BenchmarkError(f"{' '.join(cmd)} printed {result.stdout.strip()[:300]!r}, not {expected!r}")
    return elapsed


_local = threading.local()


def docker_api():
    """A low-level Docker client per thread (one HTTP session is not shared between threads)."""
    if not hasattr(_local, "api"):
        import docker

        _local.api = docker.from_env().api
    return _local.api


def _run_bare(image: str, code: str) -> None:
    api = docker_api()
    container = api.create_container(image, command=["python3", "-c", code], labels={BENCH_LABEL: RUN_TOKEN},
                                     host_config=api.create_host_config(network_mode="host"))
    try:
        api.start(container)
        status = api.wait(container)["StatusCode"]
        if status != 0:
            raise BenchmarkError(f"a bare container of {image} exited {status}")
    finally:
        api.remove_container(container, force=True)


def bare_containers(image: str, count: int, code: str = "pass", concurrency: int = 1) -> float:
    """`count` containers through the Docker API (create, start, wait, remove), at most
    `concurrency` at a time; seconds for all of them."""
    started = time.perf_counter()
    if concurrency <= 1:
        for _ in range(count):
            _run_bare(image, code)
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            for done in [pool.submit(_run_bare, image, code) for _ in range(count)]:
                done.result()
    return time.perf_counter() - started


def bare_containers_overlapped(image: str, count: int, ahead: int) -> float:
    """`count` containers one after another, as Skiff's engine runs a chain: while one runs,
    the next `ahead` are already created and started (their Python up), each waiting on a FIFO
    until the one before it exited; removals happen in the background."""
    scratch = Path(tempfile.mkdtemp(prefix="skiff-bench-gates-"))
    os.chmod(scratch, 0o755)  # the image's user (not root) opens the FIFOs
    for i in range(count):
        os.mkfifo(scratch / f"go{i}", 0o666)
        os.chmod(scratch / f"go{i}", 0o666)
    slots = threading.Semaphore(ahead + 1)  # the running container and the ones ahead of it

    def prepare(i: int):
        slots.acquire()
        api = docker_api()
        container = api.create_container(
            image, command=["python3", "-c", f"open('/gates/go{i}').read()"], labels={BENCH_LABEL: RUN_TOKEN},
            host_config=api.create_host_config(network_mode="host", binds={str(scratch): {"bind": "/gates", "mode": "ro"}}))
        api.start(container)
        return container

    def remove(container) -> None:
        docker_api().remove_container(container, force=True)

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(1) as preparer, ThreadPoolExecutor(2) as remover:
            prepared = [preparer.submit(prepare, i) for i in range(count)]
            for i in range(count):
                container = prepared[i].result()
                _open_gate(scratch / f"go{i}")
                status = docker_api().wait(container)["StatusCode"]
                slots.release()
                remover.submit(remove, container)
                if status != 0:
                    raise BenchmarkError(f"a container started ahead exited {status}")
        return time.perf_counter() - started
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _open_gate(fifo: Path, timeout_s: float = 60.0) -> None:
    """Let the container reading `fifo` go: open it for writing (once it has a reader) and close."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            return
        except OSError:  # ENXIO: its container has not opened it yet
            if time.monotonic() > deadline:
                raise BenchmarkError(f"a container started ahead never opened {fifo.name}")
            time.sleep(0.001)


def remove_bench_containers() -> None:
    """Remove the containers this process's benchmarks started that are still there."""
    api = docker_api()
    for container in api.containers(all=True, filters={"label": f"{BENCH_LABEL}={RUN_TOKEN}"}):
        with contextlib.suppress(Exception):
            api.remove_container(container["Id"], force=True)


def remove_containers_of_home(home: Path) -> None:
    """Remove task containers a sandbox in `home` left (an interrupted run): those that mount
    something from inside that home (its code bundles)."""
    api = docker_api()
    for container in api.containers(all=True, filters={"label": "skiff.execution"}):
        if any(str(m.get("Source", "")).startswith(str(home)) for m in container.get("Mounts") or []):
            with contextlib.suppress(Exception):
                api.remove_container(container["Id"], force=True)


@contextlib.contextmanager
def temporary_sandbox(prefix: str = "skiff-bench-") -> Iterator[tuple[Path, dict]]:
    """A sandbox brought up in a new temporary SKIFF_HOME; yields (home, environment for skiff
    commands). On the way out: `sandbox down`, its leftover containers removed, the home deleted."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    env = {**os.environ, "SKIFF_HOME": str(home)}
    env.pop("SKIFF_DATABASE_URL", None)
    try:
        timed([skiff_executable(), "sandbox", "up", "--quiet"], env, home)
        yield home, env
    finally:
        subprocess.run([skiff_executable(), "sandbox", "down"], env=env, capture_output=True)
        remove_containers_of_home(home)
        shutil.rmtree(home, ignore_errors=True)


def big_workflow_source(nodes: int, chains: int = 20, sdk: str = "sdk") -> str:
    """A workflow of about `nodes` task nodes: `chains` parallel chains of `inc`, summed pairwise.
    `sdk="flytekit"` writes its flytekit twin (the same code but for the import)."""
    per_chain = max(1, nodes // chains)
    lines = [f"from {sdk} import task, workflow", "", "@task", "def inc(x: int) -> int:",
             "    return x + 1", "", "@task", "def total(a: int, b: int) -> int:",
             "    return a + b", "", "@workflow", "def big(x: int = 0) -> int:"]
    heads = []
    for c in range(chains):
        lines.append(f"    c{c}_0 = inc(x=x)")
        for i in range(1, per_chain):
            lines.append(f"    c{c}_{i} = inc(x=c{c}_{i - 1})")
        heads.append(f"c{c}_{per_chain - 1}")
    acc = heads[0]
    for i, head in enumerate(heads[1:]):
        lines.append(f"    s{i} = total(a={acc}, b={head})")
        acc = f"s{i}"
    lines.append(f"    return {acc}")
    return "\n".join(lines) + "\n"


# ---- resident memory, read from /proc (Linux) ----

def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    return children


def _rss_kb(pid: int) -> int:
    try:
        for line in Path("/proc", str(pid), "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(roots: list[int]) -> float:
    """Resident memory summed over processes `roots` and all their descendants, in MB."""
    children = _children_by_parent()
    seen, todo = set(), [pid for pid in roots if pid]
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            todo.extend(children.get(pid, []))
    return sum(_rss_kb(pid) for pid in seen) / 1024

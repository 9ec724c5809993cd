"""Every speed goal of the sandbox, each a ratio against a baseline measured in the same run.

    python benchmarks/run.py [--repeat 3] [--only P1,P3] [--quick] [--json PATH] [--home DIR]

Subject and baseline take turns (interleaved, so a drift of the machine's load hits both), each
goal reports the median over the repeats of the ratio of one turn's subject to the same turn's
baseline. Prints one table (goal, subject, baseline, median ratio, target, met?) and writes it as
JSON (default: $SKIFF_CACHE_DIR/benchmarks/, never the repository).

The sandbox runs in a temporary SKIFF_HOME brought up for the run and taken down after it (or in
--home DIR, an existing sandbox, left as it is); P4 brings up a second one of its own. Every
command is a whole process as a user types it. On a shared machine the numbers are noisy: read
the ratios.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import inspect
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from anchors import flytekit_chain, kfp_chain, kfp_python, kfp_version  # noqa: E402
from sandbox.engine.scheduler import LOOKAHEAD  # noqa: E402  (the levels Skiff prepares ahead)
from common import (  # noqa: E402
    CHAIN_WORKFLOW, BenchmarkError, bare_containers, bare_containers_overlapped, big_workflow_source,
    compile_bytecode, docker_api, remove_bench_containers, skiff_executable, temporary_sandbox, timed,
    tree_rss_mb,
)

GOALS = ("P1", "P1b", "P2", "P3", "P4", "P5", "P6", "P7", "anchors")
WARM_FLAG = "--reuse-containers"


@dataclass
class Sizes:
    chain: int = 20
    map_items: int = 200
    map_concurrency: int = 8
    file_mb: int = 1024
    nodes: int = 1000

    @classmethod
    def quick(cls) -> "Sizes":
        return cls(chain=5, map_items=24, file_mb=64, nodes=200)


@dataclass
class Row:
    goal: str
    subject: str
    baseline: str
    target: str
    # "ratio": subject time / baseline time (lower is better); "throughput": baseline time /
    # subject time (higher is better); "seconds"/"MB": an absolute value
    kind: str = "ratio"
    limit: Optional[float] = None  # the target's number; None: printed for comparison only
    status: str = "measured"  # or "not available: ...", "not measured: ...", "failed: ..."
    value: Optional[float] = None  # the median ratio (or absolute value)
    subject_s: list = field(default_factory=list)
    baseline_s: list = field(default_factory=list)
    note: str = ""

    def add(self, subject: float, baseline: float) -> None:
        self.subject_s.append(round(subject, 4))
        self.baseline_s.append(round(baseline, 4))

    def add_value(self, value: float) -> None:
        """An absolute measurement (MB), with no baseline."""
        self.subject_s.append(round(value, 2))

    def finish(self) -> None:
        if self.status != "measured" or not self.subject_s:
            return
        if self.kind == "ratio":
            self.value = statistics.median(s / b for s, b in zip(self.subject_s, self.baseline_s))
        elif self.kind == "throughput":
            self.value = statistics.median(b / s for s, b in zip(self.subject_s, self.baseline_s))
        else:
            self.value = statistics.median(self.subject_s)

    @property
    def met(self) -> Optional[bool]:
        if self.value is None or self.limit is None:
            return None
        return self.value >= self.limit if self.kind == "throughput" else self.value <= self.limit

    def shown(self) -> str:
        if self.value is None:
            return self.status
        unit = {"seconds": " s", "MB": " MB"}.get(self.kind, "x")
        return f"{self.value:.2f}{unit}"

    def as_json(self) -> dict:
        return {**asdict(self), "met": self.met,
                "subject_median": statistics.median(self.subject_s) if self.subject_s else None,
                "baseline_median": statistics.median(self.baseline_s) if self.baseline_s else None}


class Bench:
    """One run: the sandbox, its runtime image, a scratch folder, and the rows measured."""

    def __init__(self, home: Path, env: dict, sizes: Sizes, repeat: int, say: Callable[[str], None]):
        from sandbox.home import SandboxState

        self.home, self.env, self.sizes, self.repeat, self.say = home, env, sizes, repeat, say
        self.state = SandboxState.load(home)
        self.image = self.state.runtime_image
        self.skiff = skiff_executable()
        self.scratch = Path(tempfile.mkdtemp(prefix="skiff-bench-run-"))
        help_text = subprocess.run([self.skiff, "run", "--help"], env=env, capture_output=True, text=True).stdout
        self.warm = WARM_FLAG in help_text

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def folder(self, name: str) -> Path:
        path = self.scratch / name
        path.mkdir(exist_ok=True)
        return path

    def version_time(self) -> float:
        return timed([self.skiff, "--version"], self.env, self.scratch)

    # ---- P1, P1b, P2, P3: the chain ----
    def chain(self, goals: set[str]) -> list[Row]:
        n = self.sizes.chain
        floor = f"{n} bare containers through the Docker API, one after another"
        rows = {
            "P1": Row("P1", f"`skiff run --sandbox` {n}-task chain, cold", floor, "<= 1.0x", limit=1.0),
            "P1b": Row("P1b", f"the same {n}-task chain, cold",
                       f"the same {n} containers, at most {LOOKAHEAD} started ahead (Skiff's overlap)",
                       "<= 1.1x", limit=1.1),
            "P2": Row("P2", f"the chain with warm workers ({WARM_FLAG})", floor, "<= 0.5x", limit=0.5),
            "P3": Row("P3", "fully cached rerun of the chain", "`skiff --version`", "<= 1.3x", limit=1.3),
        }
        rows = {goal: row for goal, row in rows.items() if goal in goals}
        if "P2" in rows and not self.warm:
            rows["P2"].status = f"not available: {WARM_FLAG}"
        folder = self.folder("chain")
        source = folder / "benchchain.py"
        expected = json.dumps({"o0": n})
        run = [self.skiff, "run", "--sandbox", "--quiet", source.name, "chain", "--x", "0", "--json"]

        def cold() -> float:
            source.write_text(CHAIN_WORKFLOW.format(token=secrets.token_hex(4), length=n))
            return timed(run, self.env, folder, expected)

        for turn in range(self.repeat):
            self.say(f"chain, turn {turn + 1}/{self.repeat}")
            floor_s = bare_containers(self.image, n) if {"P1", "P2"} & rows.keys() else None
            cold_s = cold()
            if "P1" in rows:
                rows["P1"].add(cold_s, floor_s)
            if "P3" in rows:
                rows["P3"].add(timed(run, self.env, folder, expected), self.version_time())
            if "P1b" in rows:
                rows["P1b"].add(cold_s, bare_containers_overlapped(self.image, n, LOOKAHEAD))
            if "P2" in rows and self.warm:
                source.write_text(CHAIN_WORKFLOW.format(token=secrets.token_hex(4), length=n))
                warm_run = run[:3] + [WARM_FLAG] + run[3:]
                rows["P2"].add(timed(warm_run, self.env, folder, expected), floor_s)
        return list(rows.values())

    # ---- P4: sandbox up, and the sandbox's memory ----
    def sandbox_up(self) -> list[Row]:
        up = Row("P4", "`skiff sandbox up` after `sandbox down`, images built", "`skiff --version`",
                 "<= 2 s", kind="seconds", limit=2.0)
        memory = Row("P4", "the sandbox's resident memory after up (MinIO, admin, console)", "absolute",
                     "<= 300 MB", kind="MB", limit=300.0)
        with temporary_sandbox("skiff-bench-up-") as (home, env):
            for turn in range(self.repeat):
                self.say(f"sandbox up, turn {turn + 1}/{self.repeat}")
                timed([self.skiff, "sandbox", "down"], env, home)
                up_s = timed([self.skiff, "sandbox", "up", "--quiet"], env, home)
                up.add(up_s, self.version_time())
                time.sleep(1)  # let the services settle before reading their memory
                memory.add_value(sandbox_rss_mb(home))
        ratios = [s / b for s, b in zip(up.subject_s, up.baseline_s)]
        up.note = f"median {statistics.median(ratios):.1f}x `skiff --version`"
        up.baseline = f"`skiff --version` (up takes {statistics.median(ratios):.1f}x as long)"
        return [up, memory]

    def memory_after_runs(self) -> Row:
        row = Row("P4", "the run's sandbox's resident memory after all the workloads above", "absolute",
                  "<= 300 MB", kind="MB", limit=300.0)
        row.add_value(sandbox_rss_mb(self.home))
        return row

    # ---- P5: a map task ----
    def map_task(self) -> list[Row]:
        items, width = self.sizes.map_items, self.sizes.map_concurrency
        bare = f"{items} bare containers, {width} at a time"
        cold = Row("P5", f"map task over {items} items, concurrency {width}", bare, ">= 0.8x throughput",
                   kind="throughput", limit=0.8)
        warm = Row("P5", f"the same map task with warm workers ({WARM_FLAG})", bare, ">= 3x throughput",
                   kind="throughput", limit=3.0)
        if not self.warm:
            warm.status = f"not available: {WARM_FLAG}"
        folder = self.folder("map")
        (folder / "benchmap.py").write_text(MAP_WORKFLOW.format(concurrency=width))
        run = [self.skiff, "run", "--sandbox", "--quiet", "benchmap.py", "fan", "--json"]
        values = lambda turn: list(range(turn * 1000, turn * 1000 + items))  # noqa: E731
        expect = lambda xs: json.dumps({"o0": [x + 1 for x in xs]})  # noqa: E731
        timed(run + ["--xs", json.dumps(values(99)[:2])], self.env, folder, expect(values(99)[:2]))  # compiles
        for turn in range(self.repeat):
            self.say(f"map task, turn {turn + 1}/{self.repeat}")
            bare_s = bare_containers(self.image, items, concurrency=width)
            xs = values(turn)
            cold.add(timed(run + ["--xs", json.dumps(xs)], self.env, folder, expect(xs)), bare_s)
            if self.warm:
                warm_run = run[:3] + [WARM_FLAG] + run[3:]
                warm.add(timed(warm_run + ["--xs", json.dumps(xs)], self.env, folder, expect(xs)), bare_s)
        return [cold, warm]

    # ---- P6: a big File between two tasks ----
    def big_file(self, mc: Optional[str]) -> list[Row]:
        mb = self.sizes.file_mb
        size = f"{mb} MiB" if mb < 1024 else f"{mb // 1024} GiB"
        speed = Row("P6", f"a {size} File from task to task through MinIO (whole run)",
                    "the file written, `mc cp` up and down, read back", ">= 0.7x throughput",
                    kind="throughput", limit=0.7)
        task_rss = Row("P6", "peak resident memory of a task container moving it", "absolute",
                       "<= 100 MB", kind="MB", limit=100.0)
        engine_rss = Row("P6", "peak resident memory of the engine (the `skiff run` process)", "absolute",
                         "<= 100 MB", kind="MB", limit=100.0)
        if mc is None:
            for row in (speed, task_rss, engine_rss):
                row.status = "not measured: no MinIO client `mc` (on PATH, in $SKIFF_CACHE_DIR/bin or --mc)"
            return [speed, task_rss, engine_rss]
        folder = self.folder("blob")
        (folder / "benchblob.py").write_text(BLOB_WORKFLOW)
        run = [self.skiff, "run", "--sandbox", "--quiet", "benchblob.py", "move", "--mb", str(mb), "--json"]
        expected = json.dumps({"o0": mb << 20})
        timed(run[:-3] + ["--mb", "1", "--json"], self.env, folder, json.dumps({"o0": 1 << 20}))  # compiles
        for turn in range(self.repeat):
            self.say(f"{size} file, turn {turn + 1}/{self.repeat}")
            baseline_s = self.mc_round_trip(mc, mb, turn)
            with RssSampler(self.home) as sampler:
                started = time.perf_counter()
                process = subprocess.Popen(run, env=self.env, cwd=folder, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True)
                sampler.engine_pid = process.pid
                out, err = process.communicate()
                elapsed = time.perf_counter() - started
            if process.returncode != 0 or out.strip() != expected:
                raise BenchmarkError(f"{' '.join(run)} failed ({process.returncode}): {out[-300:]}{err[-2000:]}")
            speed.add(elapsed, baseline_s)
            task_rss.add_value(sampler.container_peak_mb)
            engine_rss.add_value(sampler.engine_peak_mb)
        return [speed, task_rss, engine_rss]

    def mc_round_trip(self, mc: str, mb: int, turn: int) -> float:
        """Seconds to write the file (as the task does), upload it with `mc cp`, download it
        again and read it (as the second task does)."""
        folder = self.folder("mc")
        endpoint = self.state.minio_endpoint.split("://", 1)[1]
        env = {**os.environ, "MC_CONFIG_DIR": str(folder / "config"),
               f"MC_HOST_{MC_ALIAS}": f"http://{self.state.access_key}:{self.state.secret_key}@{endpoint}"}
        remote = f"{MC_ALIAS}/{self.state.bucket}/benchmark/blob-{turn}.bin"
        local, back = folder / "blob.bin", folder / "back.bin"
        try:
            started = time.perf_counter()
            write_blob(str(local), mb)
            timed([mc, "cp", "--quiet", str(local), remote], env, folder)
            timed([mc, "cp", "--quiet", remote, str(back)], env, folder)
            read_blob(str(back))
            return time.perf_counter() - started
        finally:
            subprocess.run([mc, "rm", "--quiet", remote], env=env, capture_output=True)
            for path in (local, back):
                path.unlink(missing_ok=True)

    # ---- P7: compiling a big workflow ----
    def compile_big(self) -> list[Row]:
        n = self.sizes.nodes
        row = Row("P7", f"`skiff package` of a {n}-node workflow", "`pyflyte package` of its flytekit twin",
                  "<= 0.5x", limit=0.5)
        ours, theirs = self.folder("compile-skiff"), self.folder("compile-flytekit")
        (ours / "benchbig.py").write_text(big_workflow_source(n))
        (theirs / "benchbig.py").write_text(big_workflow_source(n, sdk="flytekit"))
        pyflyte = str(Path(sys.executable).with_name("pyflyte"))
        skiff_cmd = [self.skiff, "package", "benchbig.py", "--image", self.image, "--copy", "none",
                     "-o", str(ours.parent / "skiff.tgz")]
        flytekit_cmd = [pyflyte, "--pkgs", "benchbig", "package", "--image", self.image, "--force",
                        "-o", str(theirs.parent / "flytekit.tgz")]
        env = {**self.env, "PYTHONDONTWRITEBYTECODE": "1"}  # neither side gets bytecode of the workflow
        for turn in range(self.repeat):
            self.say(f"compile, turn {turn + 1}/{self.repeat}")
            baseline_s = timed(flytekit_cmd, env, theirs)
            row.add(timed(skiff_cmd, env, ours), baseline_s)
        return [row]

    # ---- anchors: other local runners' chains against the same floor ----
    def anchors(self, kfp: Optional[str]) -> list[Row]:
        n = self.sizes.chain
        floor = f"{n} bare containers through the Docker API, one after another"
        flytekit_row = Row("anchor", f"flytekit's local ContainerTask chain of {n} (`python chain.py`)",
                           floor, "for comparison")
        kfp_name = f"Kubeflow Pipelines' ({kfp_version(kfp)})" if kfp else "Kubeflow Pipelines'"
        kfp_row = Row("anchor", f"{kfp_name} local DockerRunner chain of {n} (`python chain.py`)", floor,
                      "for comparison")
        if kfp is None:
            kfp_row.status = ("not measured: no Python with kfp (pip install kfp docker into a venv of its own: "
                              "$SKIFF_CACHE_DIR/kfp, or pass --kfp-python)")
        for turn in range(self.repeat):
            self.say(f"anchors, turn {turn + 1}/{self.repeat}")
            floor_s = bare_containers(self.image, n)
            flytekit_row.add(flytekit_chain(sys.executable, self.image, n, self.folder("anchor-flytekit")), floor_s)
            if kfp is not None and kfp_row.status == "measured":
                try:
                    kfp_row.add(kfp_chain(kfp, self.image, n, self.folder("anchor-kfp")), floor_s)
                except BenchmarkError as exc:
                    kfp_row.status = f"not measured: {first_line(str(exc))}"
        return [flytekit_row, kfp_row]


MC_ALIAS = "skiffbench"

MAP_WORKFLOW = '''
from sdk import map_task, task, workflow


@task
def inc(x: int) -> int:
    return x + 1


@workflow
def fan(xs: list[int]) -> list[int]:
    return map_task(inc, concurrency={concurrency})(x=xs)
'''

# The tasks write and read the file with this code, and so does the MinIO client's side.
def write_blob(path, mb):
    chunk = bytes(range(256)) * 4096  # 1 MiB
    with open(path, "wb") as out:
        for _ in range(mb):
            out.write(chunk)


def read_blob(path):
    size = 0
    with open(path, "rb") as source:
        while True:
            block = source.read(1 << 20)
            if not block:
                return size
            size += len(block)


BLOB_WORKFLOW = '''
import os
import tempfile

from sdk import File, task, workflow


''' + inspect.getsource(write_blob) + "\n\n" + inspect.getsource(read_blob) + '''

@task
def make(mb: int) -> File:
    path = os.path.join(tempfile.mkdtemp(), "blob.bin")
    write_blob(path, mb)
    return File(path)


@task
def measure(blob: File) -> int:
    return read_blob(blob.path)


@workflow
def move(mb: int = 1) -> int:
    return measure(blob=make(mb=mb))
'''


class RssSampler:
    """Samples, five times a second, the resident memory of the engine process (with its
    children) and of each task container of the sandbox in `home` (its processes), keeping
    the peaks."""

    def __init__(self, home: Path):
        self.home = str(home)
        self.engine_pid: Optional[int] = None
        self.engine_peak_mb = self.container_peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        api = docker_api()
        while not self._stop.wait(0.2):
            if self.engine_pid:
                self.engine_peak_mb = max(self.engine_peak_mb, tree_rss_mb([self.engine_pid]))
            for container in api.containers(filters={"label": "skiff.execution"}):
                if not any(str(m.get("Source", "")).startswith(self.home) for m in container.get("Mounts") or []):
                    continue  # another sandbox's
                with contextlib.suppress(Exception):
                    pid = api.inspect_container(container["Id"])["State"]["Pid"]
                    self.container_peak_mb = max(self.container_peak_mb, tree_rss_mb([pid]))


def sandbox_rss_mb(home: Path) -> float:
    """The sandbox's processes (MinIO, the admin server, the web console, with what they
    started), summed."""
    from sandbox.console.access import read_console
    from sandbox.home import SandboxState

    state = SandboxState.load(home)
    return tree_rss_mb([state.minio_pid, state.admin_pid, read_console(home).get("pid")])


def find_mc(given: Optional[str]) -> Optional[str]:
    from sandbox.home import cache_dir

    for candidate in (given, shutil.which("mc"), str(cache_dir() / "bin" / "mc")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def first_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "failed"


def print_table(rows: list[Row]) -> None:
    header = ("goal", "subject", "baseline", "median ratio", "target", "met?")
    table = [header] + [(r.goal, r.subject, r.baseline, r.shown(),
                         r.target, {True: "yes", False: "NO", None: "-"}[r.met]) for r in rows]
    widths = [min(max(len(line[i]) for line in table), 72) for i in range(len(header))]
    for line in table:
        print(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if line is header:
            print("-+-".join("-" * w for w in widths))


def parse_args(argv: Optional[list[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, help="turns of each subject and its baseline (default 3; 1 with --quick)")
    parser.add_argument("--only", help=f"comma-separated goals among {', '.join(GOALS)}")
    parser.add_argument("--quick", action="store_true",
                        help="a short run: one turn, a 5-task chain, 24 map items, a 64 MiB file, 200 nodes")
    parser.add_argument("--json", dest="json_path", help="where to write the results "
                        "(default: $SKIFF_CACHE_DIR/benchmarks/run-<time>.json)")
    parser.add_argument("--home", help="use the sandbox already up in this SKIFF_HOME (it is left up)")
    parser.add_argument("--mc", help="the MinIO client for P6's baseline (default: `mc` on PATH or in $SKIFF_CACHE_DIR/bin)")
    parser.add_argument("--kfp-python", help="a Python with kfp installed, for the Kubeflow anchor "
                        "(default: $SKIFF_CACHE_DIR/kfp/bin/python when it imports kfp)")
    args = parser.parse_args(argv)
    goals = [g.strip() for g in (args.only or ",".join(GOALS)).split(",") if g.strip()]
    unknown = [g for g in goals if g not in GOALS]
    if unknown:
        parser.error(f"unknown goal {unknown[0]!r}: choose among {', '.join(GOALS)}")
    args.goals = set(goals)
    args.repeat = args.repeat or (1 if args.quick else 3)
    return args


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # the table after the progress lines, also in a log
    from sandbox.home import cache_dir

    sizes = Sizes.quick() if args.quick else Sizes()
    say = lambda text: print(f"... {text}", file=sys.stderr, flush=True)  # noqa: E731
    compile_bytecode()
    started = dt.datetime.now(dt.timezone.utc)
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        if args.home:
            home = Path(args.home)
            env = {**os.environ, "SKIFF_HOME": str(home)}
        else:
            say("bringing a sandbox up in a temporary SKIFF_HOME")
            home, env = stack.enter_context(temporary_sandbox())
        bench = Bench(home, env, sizes, args.repeat, say)
        stack.callback(bench.close)
        stack.callback(remove_bench_containers)
        if args.goals & {"P1", "P1b", "P2", "P5", "anchors"}:  # goals with bare containers for a baseline
            bare_containers(bench.image, 2)  # the image's layers and the engine warmed for everyone
        steps = [
            ({"P1", "P1b", "P2", "P3"}, lambda: bench.chain(args.goals)),
            ({"P4"}, bench.sandbox_up),
            ({"P5"}, bench.map_task),
            ({"P6"}, lambda: bench.big_file(find_mc(args.mc))),
            ({"P7"}, bench.compile_big),
            ({"anchors"}, lambda: bench.anchors(kfp_python(args.kfp_python, cache_dir()))),
        ]
        for goals, measure in steps:
            if goals & args.goals:
                try:
                    rows.extend(measure())
                except BenchmarkError as exc:
                    say(f"{'/'.join(sorted(goals & args.goals))} failed: {exc}")
                    rows.append(Row("/".join(sorted(goals & args.goals)), "-", "-", "-",
                                    status=f"failed: {first_line(str(exc))}"))
        if "P4" in args.goals and args.goals & {"P1", "P1b", "P2", "P3", "P5", "P6"}:  # it did some work
            rows.append(bench.memory_after_runs())
    for row in rows:
        row.finish()
    print_table(rows)
    result = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((dt.datetime.now(dt.timezone.utc) - started).total_seconds(), 1),
        "repeat": args.repeat, "quick": args.quick, "sizes": asdict(sizes),
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "rows": [row.as_json() for row in rows],
    }
    path = Path(args.json_path) if args.json_path else (
        cache_dir() / "benchmarks" / f"run-{started.strftime('%Y%m%d-%H%M%S')}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {path}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(a shared machine is noisy: read the ratios)")
    return 1 if any(row.status.startswith("failed") for row in rows) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # no sandbox in --home, or one that could not be brought up
        from sdk.errors import SandboxError

        if not isinstance(exc, (BenchmarkError, SandboxError)):
            raise
        sys.exit(f"Error: {exc}")

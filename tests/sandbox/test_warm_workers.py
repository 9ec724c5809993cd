"""Warm task workers (`skiff run --sandbox --reuse-containers`, sandbox/runtime/warm_pool.py):
the same outputs as containers of their own for every construct, nothing of one task reaching
the next on the same worker, a worker killed mid-task retried as a system error, and a
terminate stopping a task that runs in a worker. Real Docker, MinIO and SQLite."""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time

import docker
import pytest

from sdk import run_locally
from sdk.loader import load_entity
from sandbox.cli.outputs import to_jsonable
from sandbox.cli.run_cmd import named_outputs

pytestmark = pytest.mark.sandbox

CONSTRUCTS = textwrap.dedent('''
    import os
    import tempfile
    import typing

    from sdk import Directory, File, conditional, map_task, task, workflow


    @task
    def inc(x: int) -> int:
        return x + 1


    @task
    def square(x: int) -> int:
        return x * x


    @task
    def total(values: typing.List[int]) -> int:
        return sum(values)


    @task
    def spread(n: int) -> typing.List[int]:
        return list(range(n))


    @task
    def write_note(text: str) -> File:
        path = os.path.join(tempfile.mkdtemp(), "note.txt")
        with open(path, "w") as handle:
            handle.write(text)
        return File(path)


    @task
    def read_note(note: File) -> str:
        with open(note) as handle:
            return handle.read()


    @task
    def make_tree(n: int) -> Directory:
        root = os.path.join(tempfile.mkdtemp(), "tree")
        os.makedirs(os.path.join(root, "sub"))
        for i in range(n):
            with open(os.path.join(root, "sub", f"f{i}.txt"), "w") as handle:
                handle.write(str(i))
        return Directory(root)


    @task
    def count_tree(tree: Directory) -> int:
        return sum(len(names) for _, _, names in os.walk(tree.path))


    @task
    def neg(x: int) -> int:
        return -x


    @workflow
    def inner(a: int) -> int:
        return inc(x=inc(x=a))


    @workflow
    def everything(x: int = 1) -> typing.Tuple[int, int, int, str, int, int]:
        chained = inc(x=inc(x=inc(x=x)))
        mapped = total(values=map_task(square, concurrency=3)(x=spread(n=chained)))
        nested = inner(a=chained)
        picked = conditional("sign").if_(x > 0).then(inc(x=nested)).else_().then(neg(x=nested))
        return chained, mapped, nested, read_note(note=write_note(text="a note")), \\
            count_tree(tree=make_tree(n=chained)), picked
''')

LEAKY = textwrap.dedent('''
    import os
    import subprocess
    import typing

    from sdk import task, workflow


    @task
    def litter(x: int) -> int:
        with open("/tmp/left-behind", "w") as handle:
            handle.write("from the first task")
        with open("in-workdir", "w") as handle:
            handle.write("from the first task")
        os.environ["LEFT_BEHIND"] = "yes"
        subprocess.Popen(["sleep", "600"], start_new_session=True)
        return x + 1


    @task
    def look(x: int) -> typing.Tuple[bool, bool, str, int]:
        others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid())]
        return (os.path.exists("/tmp/left-behind"), os.path.exists("in-workdir"),
                os.environ.get("LEFT_BEHIND", "unset"), len(others))


    @workflow
    def leaky(x: int = 0) -> typing.Tuple[bool, bool, str, int]:
        return look(x=litter(x=x))
''')

SLEEPY = textwrap.dedent('''
    import os
    import time

    from sdk import task, workflow


    @task
    def slow_first(x: int) -> int:
        if os.environ.get("FLYTE_ATTEMPT_NUMBER") == "0":
            print("first attempt sleeps", flush=True)
            time.sleep(120)
        return x + 1


    @task
    def slow_always(x: int) -> int:
        print("second task sleeps", flush=True)
        time.sleep(120)
        return x


    @workflow
    def sleepy(x: int = 0) -> int:
        return slow_always(x=slow_first(x=x))
''')


def _skiff(home, *args, cwd=None, env=None, timeout=300):
    return subprocess.run(["skiff", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout,
                          env={**os.environ, "SKIFF_HOME": home.home, **(env or {})})


def _execution_id(stderr: str) -> str:
    return next(line.split()[1] for line in stderr.splitlines() if line.startswith("execution "))


def _nodes(home, execution_id: str) -> dict:
    """The store's node records (they name the container each attempt ran in)."""
    from sandbox.store import open_store

    return {row.node_id: row for row in open_store(home.database_url).nodes(execution_id)}


def _run(home, path, entity, *args, env=None):
    run = _skiff(home, "run", "--sandbox", "--reuse-containers", "--json", str(path), entity,
                 *args, env=env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout), _execution_id(run.stderr)


def _home_workers(home) -> list:
    api = docker.from_env().api
    return api.containers(all=True, filters={"label": f"skiff.warm-worker={home.home}"})


def _workers_gone(home, timeout: float = 30) -> bool:
    """The sandbox's warm workers all ended (Docker removes them as they exit)."""
    deadline = time.monotonic() + timeout
    while _home_workers(home) and time.monotonic() < deadline:
        time.sleep(0.2)
    return _home_workers(home) == []


def _wait_for_warm_node(home, execution_id: str, node: str, marker: str,
                        timeout: float = 90) -> str:
    """The worker container of the node's running attempt, once its task runs there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = _nodes(home, execution_id).get(node)
        if row is not None and row.state == "running" and \
                (row.container_id or "").startswith("warm:") and \
                marker in (row.logs or ""):  # stored live, as it prints
            return row.container_id[len("warm:"):]
        time.sleep(0.2)
    raise AssertionError(f"node {node} of {execution_id} never ran in a warm worker")


def test_every_construct_gives_the_same_outputs_with_reuse(sandbox_home, tmp_path):
    path = tmp_path / "warmwf.py"
    path.write_text(CONSTRUCTS)
    obj = load_entity(str(path), "everything")
    local = json.loads(json.dumps(to_jsonable(named_outputs(obj.interface,
                                                            run_locally(obj, {"x": 1})))))
    # x=1: chained 4, squares of 0..3 sum to 14, inner 6, its inc 7
    assert local == {"o0": 4, "o1": 14, "o2": 6, "o3": "a note", "o4": 4, "o5": 7}
    # (without reuse, test_constructs_sandbox.py compares each construct the same way)
    # two workers: fewer start-ups on a busy machine, and reuse is certain
    warm, execution_id = _run(sandbox_home, path, "everything", "--x", "1",
                              env={"SKIFF_WARM_WORKERS": "2"})
    assert warm == local
    nodes = _nodes(sandbox_home, execution_id)
    containers = {name: row.container_id or "" for name, row in nodes.items()
                  if row.state == "succeeded" and row.container_id}
    # every task ran in a warm worker, and workers were reused (far fewer than tasks)
    assert containers and all(c.startswith("warm:") for c in containers.values()), containers
    assert len(set(containers.values())) < len(containers) / 2
    assert _workers_gone(sandbox_home)  # stopped at the end of the run


def test_a_task_leaves_nothing_for_the_next_on_the_same_worker(sandbox_home, tmp_path):
    path = tmp_path / "leakywf.py"
    path.write_text(LEAKY)
    outputs, execution_id = _run(sandbox_home, path, "leaky", env={"SKIFF_WARM_WORKERS": "1"})
    # no /tmp file, no working-directory file, no variable, no stray process
    assert outputs == {"o0": False, "o1": False, "o2": "unset", "o3": 0}
    nodes = _nodes(sandbox_home, execution_id)
    assert nodes["n0"].container_id == nodes["n1"].container_id  # the very same worker
    assert nodes["n0"].container_id.startswith("warm:")


def test_a_killed_worker_is_retried_and_terminate_stops_a_task_in_a_worker(sandbox_home,
                                                                          tmp_path):
    path = tmp_path / "sleepywf.py"
    path.write_text(SLEEPY)
    start = _skiff(sandbox_home, "run", "--sandbox", "--reuse-containers", "--detach",
                   str(path), "sleepy")
    assert start.returncode == 0, start.stderr
    execution_id = start.stdout.strip().splitlines()[-1]

    # the first task's worker is killed mid-task
    worker = _wait_for_warm_node(sandbox_home, execution_id, "n0", "first attempt sleeps")
    api = docker.from_env().api
    details = api.inspect_container(worker)
    host = details["HostConfig"]
    # confined as a task container is: unprivileged, read-only root, no capabilities,
    # process and memory limits, host network (loopback), and no Docker socket
    assert details["Config"]["User"] == "1000"
    assert (host["ReadonlyRootfs"], host["CapDrop"], host["Privileged"]) == (True, ["ALL"], False)
    assert host["PidsLimit"] and host["Memory"] and host["NetworkMode"] == "host"
    assert not any("docker.sock" in (m.get("Source") or "") for m in details["Mounts"])
    # the attempt's storage credentials reached its process, never the worker's own
    assert not any(v.startswith(("AWS_", "FLYTE_AWS_")) for v in details["Config"]["Env"])
    api.kill(worker)

    # ... it ran again (a system error, not the task's) and the second task started
    _wait_for_warm_node(sandbox_home, execution_id, "n1", "second task sleeps")
    first = _nodes(sandbox_home, execution_id)["n0"]
    assert (first.state, first.attempt, first.outputs is not None) == ("succeeded", 1, True)
    assert (first.system_failures, first.user_failures) == (1, 0)

    # a terminate stops the task running in its worker
    stop = _skiff(sandbox_home, "executions", "terminate", execution_id)
    assert stop.returncode == 0, stop.stderr
    assert _nodes(sandbox_home, execution_id)["n1"].state == "aborted"
    show = _skiff(sandbox_home, "executions", "show", execution_id, "--json")
    assert json.loads(show.stdout)["state"] == "aborted"
    assert _workers_gone(sandbox_home)  # the detached engine ended, and its workers with it


LIMITS = textwrap.dedent('''
    import datetime
    import time

    from sdk import Resources, WorkflowFailurePolicy, task, workflow


    @task(timeout=datetime.timedelta(seconds=2))
    def stuck(x: int) -> int:
        time.sleep(120)
        return x


    @task(limits=Resources(mem="200Mi"))
    def greedy(x: int) -> int:
        hoard = [bytearray(16 * 1024 * 1024) for _ in range(40)]
        return x + len(hoard)


    @workflow(failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE)
    def limited(x: int = 0) -> None:
        stuck(x=x)
        greedy(x=x)
''')


def test_a_timeout_and_an_out_of_memory_kill_are_reported_per_task(sandbox_home, tmp_path):
    path = tmp_path / "limitswf.py"
    path.write_text(LIMITS)
    run = _skiff(sandbox_home, "run", "--sandbox", "--reuse-containers", str(path), "limited")
    assert run.returncode == 1
    nodes = _nodes(sandbox_home, _execution_id(run.stderr))
    assert all(row.container_id.startswith("warm:") for row in nodes.values())
    assert "timed out after 2s" in nodes["n0"].error
    assert "out of memory (limit 200Mi)" in nodes["n1"].error


def test_workers_start_ahead_stop_when_idle_and_with_sandbox_down(sandbox_home, tmp_path):
    from sandbox.runtime.container import ContainerRequest
    from sandbox.runtime.docker_runner import DockerRunner
    from sandbox.runtime.warm_pool import WarmPool, stop_home_workers

    home = str(tmp_path)  # a label of its own: the session sandbox's workers are not counted
    api = docker.from_env().api

    def workers(running_only=True):
        return api.containers(all=not running_only,
                              filters={"label": f"skiff.warm-worker={home}"})

    def wait_until(condition, timeout=60):
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.1)
        return condition()

    def request(attempt):
        return ContainerRequest(image=sandbox_home.runtime_image, args=["skiff-execute"],
                                env={}, labels={"skiff.execution": "e", "skiff.node": "n0",
                                                "skiff.attempt": str(attempt)},
                                memory_bytes=256 << 20, pids_limit=64, read_only_root=True)

    pool = WarmPool(DockerRunner(), home, max_workers=2, idle_s=1.0)
    try:
        pool.prepare(request(0))  # an attempt will come: a worker starts before it does
        assert wait_until(lambda: len(workers()) == 1)
        assert wait_until(lambda: not workers(running_only=False))  # idle past its TTL
        pool.prepare(request(1))
        assert wait_until(lambda: len(workers()) == 1)
        assert stop_home_workers(api, home) == 1  # what `skiff sandbox down` does
        assert wait_until(lambda: not workers(running_only=False))
    finally:
        pool.close()


OPTED_IN = textwrap.dedent('''
    from sdk import task, workflow


    @task(reuse_container=True)
    def warm_inc(x: int) -> int:
        return x + 1


    @task
    def cold_double(x: int) -> int:
        return 2 * x


    @workflow
    def mixed(x: int = 1) -> int:
        return warm_inc(x=cold_double(x=warm_inc(x=x)))
''')


def test_a_task_that_asks_for_a_warm_worker_gets_one_without_the_flag(sandbox_home, tmp_path):
    """@task(reuse_container=True) runs in a warm worker when the run says nothing (its
    neighbours keep containers of their own), and --no-reuse-containers overrides it."""
    path = tmp_path / "optedwf.py"
    path.write_text(OPTED_IN)
    run = _skiff(sandbox_home, "run", "--sandbox", "--json", str(path), "mixed", "--x", "1")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"o0": 5}
    nodes = _nodes(sandbox_home, _execution_id(run.stderr))
    kinds = {name: (row.container_id or "").startswith("warm:") for name, row in nodes.items()}
    assert kinds == {"n0": True, "n1": False, "n2": True}
    assert nodes["n0"].container_id == nodes["n2"].container_id  # one worker, reused
    assert _workers_gone(sandbox_home)
    run = _skiff(sandbox_home, "run", "--sandbox", "--no-reuse-containers", "--json", str(path),
                 "mixed", "--x", "2")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"o0": 7}
    nodes = _nodes(sandbox_home, _execution_id(run.stderr))
    assert not any((row.container_id or "").startswith("warm:") for row in nodes.values())


RESUMABLE = textwrap.dedent('''
    import time

    from sdk import task, workflow


    @task
    def first(x: int) -> int:
        return x + 1


    @task
    def second(x: int) -> int:
        print("second runs", flush=True)
        time.sleep(4)
        return x * 10


    @workflow
    def resumable(x: int = 1) -> int:
        return first(x=second(x=first(x=x)))
''')


def test_an_engine_killed_while_a_task_runs_in_a_worker_resumes(sandbox_home, tmp_path):
    """SIGKILL of the engine mid-task: its workers end with it, and a resume (reuse on) runs
    what had not finished, keeping what had."""
    import signal

    from sandbox.store import open_store

    path = tmp_path / "resumablewf.py"
    path.write_text(RESUMABLE)
    start = _skiff(sandbox_home, "run", "--sandbox", "--reuse-containers", "--detach",
                   str(path), "resumable")
    assert start.returncode == 0, start.stderr
    execution_id = start.stdout.strip().splitlines()[-1]
    _wait_for_warm_node(sandbox_home, execution_id, "n1", "second runs")
    done_before = _nodes(sandbox_home, execution_id)["n0"]
    assert done_before.state == "succeeded"
    engine_pid = open_store(sandbox_home.database_url).execution(execution_id).engine_pid
    os.kill(engine_pid, signal.SIGKILL)
    assert _workers_gone(sandbox_home)  # a worker ends with the engine that ran it

    resume = _skiff(sandbox_home, "executions", "resume", execution_id, "--json", "--quiet",
                    env={"SKIFF_REUSE_CONTAINERS": "1"})
    assert resume.returncode == 0, resume.stderr
    assert json.loads(resume.stdout) == {"o0": 21}
    nodes = _nodes(sandbox_home, execution_id)
    assert all(row.state == "succeeded" for row in nodes.values())
    # n0 was kept as it was; n1 ran again, in a warm worker of the resuming engine
    assert (nodes["n0"].attempt, nodes["n0"].container_id) == (0, done_before.container_id)
    assert nodes["n1"].container_id.startswith("warm:") and "second runs" in nodes["n1"].logs
    assert _workers_gone(sandbox_home)

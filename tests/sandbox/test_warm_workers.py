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


    @workflow
    def sleepy(x: int = 0) -> int:
        return slow_first(x=x)
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


def _run(home, path, entity, *args, reuse=True, env=None):
    flag = "--reuse-containers" if reuse else "--no-reuse-containers"
    run = _skiff(home, "run", "--sandbox", flag, "--json", str(path), entity, *args, env=env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout), _execution_id(run.stderr)


def _home_workers(home) -> list:
    api = docker.from_env().api
    return api.containers(all=True, filters={"label": f"skiff.warm-worker={home.home}"})


def _running_execution(home, entity: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = _skiff(home, "executions", "list", "--json")
        if listing.returncode == 0:
            for row in json.loads(listing.stdout):
                if row["entity"] == entity and row["state"] == "running":
                    return row["id"]
        time.sleep(0.2)
    raise AssertionError(f"no execution of {entity} started")


def _wait_for_warm_node(home, execution_id: str, node: str, timeout: float = 90) -> str:
    """The worker container of the node's running attempt, once its task runs there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = _nodes(home, execution_id).get(node)
        if row is not None and row.state == "running" and \
                (row.container_id or "").startswith("warm:"):
            logs = _skiff(home, "logs", execution_id, node)
            if "first attempt sleeps" in logs.stdout:
                return row.container_id[len("warm:"):]
        time.sleep(0.3)
    raise AssertionError(f"node {node} of {execution_id} never ran in a warm worker")


def test_every_construct_gives_the_same_outputs_with_reuse(sandbox_home, tmp_path):
    path = tmp_path / "warmwf.py"
    path.write_text(CONSTRUCTS)
    obj = load_entity(str(path), "everything")
    local = json.loads(json.dumps(to_jsonable(named_outputs(obj.interface,
                                                            run_locally(obj, {"x": 1})))))
    # x=1: chained 4, squares of 0..3 sum to 14, inner 6, its inc 7
    assert local == {"o0": 4, "o1": 14, "o2": 6, "o3": "a note", "o4": 4, "o5": 7}
    without, _ = _run(sandbox_home, path, "everything", "--x", "1", reuse=False)
    warm, execution_id = _run(sandbox_home, path, "everything", "--x", "1")
    assert warm == without == local
    nodes = _nodes(sandbox_home, execution_id)
    containers = {name: row.container_id or "" for name, row in nodes.items()
                  if row.state == "succeeded" and row.container_id}
    # every task ran in a warm worker, and workers were reused (far fewer than tasks)
    assert containers and all(c.startswith("warm:") for c in containers.values()), containers
    assert len(set(containers.values())) < len(containers) / 2
    assert _home_workers(sandbox_home) == []  # stopped at the end of the run


def test_a_task_leaves_nothing_for_the_next_on_the_same_worker(sandbox_home, tmp_path):
    path = tmp_path / "leakywf.py"
    path.write_text(LEAKY)
    outputs, execution_id = _run(sandbox_home, path, "leaky", env={"SKIFF_WARM_WORKERS": "1"})
    # no /tmp file, no working-directory file, no variable, no stray process
    assert outputs == {"o0": False, "o1": False, "o2": "unset", "o3": 0}
    nodes = _nodes(sandbox_home, execution_id)
    assert nodes["n0"].container_id == nodes["n1"].container_id  # the very same worker
    assert nodes["n0"].container_id.startswith("warm:")


def test_a_worker_killed_mid_task_is_retried_as_a_system_error(sandbox_home, tmp_path):
    path = tmp_path / "sleepywf.py"
    path.write_text(SLEEPY)
    run = subprocess.Popen(
        ["skiff", "run", "--sandbox", "--reuse-containers", "--json", str(path), "sleepy"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "SKIFF_HOME": sandbox_home.home})
    try:
        execution_id = _running_execution(sandbox_home, "sleepywf.sleepy")
        worker = _wait_for_warm_node(sandbox_home, execution_id, "n0")
        docker.from_env().api.kill(worker)
        stdout, stderr = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, stderr
    assert json.loads(stdout) == {"o0": 1}
    node = _nodes(sandbox_home, execution_id)["n0"]
    # the second attempt ran (on a new worker); the first counts as a system failure only
    assert (node.state, node.attempt) == ("succeeded", 1)
    assert (node.system_failures, node.user_failures) == (1, 0)


def test_terminate_stops_a_task_running_in_a_worker(sandbox_home, tmp_path):
    path = tmp_path / "sleepywf2.py"
    path.write_text(SLEEPY.replace("def sleepy", "def sleepy_again"))
    start = _skiff(sandbox_home, "run", "--sandbox", "--reuse-containers", "--detach",
                   str(path), "sleepy_again")
    assert start.returncode == 0, start.stderr
    execution_id = start.stdout.strip().splitlines()[-1]
    _wait_for_warm_node(sandbox_home, execution_id, "n0")
    stop = _skiff(sandbox_home, "executions", "terminate", execution_id)
    assert stop.returncode == 0, stop.stderr
    assert _nodes(sandbox_home, execution_id)["n0"].state == "aborted"
    show = _skiff(sandbox_home, "executions", "show", execution_id, "--json")
    assert json.loads(show.stdout)["state"] == "aborted"
    # the detached engine ended and took its workers with it
    deadline = time.monotonic() + 30
    while _home_workers(sandbox_home) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _home_workers(sandbox_home) == []

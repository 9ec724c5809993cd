"""Issue 5's map task "Done means": 50 items in the sandbox never run more containers at once
than the map's concurrency, a rerun with the same inputs starts none, and a rerun after changing
one item starts exactly one. Counted from Docker's own event stream, not from Skiff's records."""
from __future__ import annotations

import json
import os
import subprocess
import textwrap

import pytest

from test_engine_support import ContainerEvents

pytestmark = pytest.mark.sandbox

CONCURRENCY = 4

WORKFLOW = textwrap.dedent(f'''
    import time
    import typing

    from sdk import map_task, task, workflow


    @task(cache=True, cache_version="1")
    def slow_square(x: int) -> int:
        time.sleep(0.5)  # long enough that items overlap, so the limit is what stops them
        return x * x


    @workflow
    def wide(xs: typing.List[int]) -> typing.List[int]:
        return map_task(slow_square, concurrency={CONCURRENCY})(x=xs)
''')


@pytest.fixture(scope="module")
def workflow_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("mapwide") / "mapwide.py"
    path.write_text(WORKFLOW)
    return path


def _run(home, path, xs: list[int]) -> tuple[list[int], str]:
    run = subprocess.run(["skiff", "run", "--sandbox", "--json", str(path), "wide",
                          "--xs", json.dumps(xs)], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "SKIFF_HOME": home.home})
    assert run.returncode == 0, run.stderr
    execution_id = next(line.split()[1] for line in run.stderr.splitlines()
                        if line.startswith("execution "))
    return json.loads(run.stdout)["o0"], execution_id


def test_fifty_items_honour_concurrency_and_cache_each_item(sandbox_home, workflow_file):
    xs = list(range(1000, 1050))
    with ContainerEvents(("create", "start", "die")) as first:
        squares, execution_id = _run(sandbox_home, workflow_file, xs)
    assert squares == [x * x for x in xs]
    starts = first.of(execution_id, "start")
    assert len(starts) == 50
    assert sorted(e["Actor"]["Attributes"]["skiff.node"] for e in starts) == sorted(
        f"n0-{i}" for i in range(50))
    assert len(first.of(execution_id, "die")) == 50
    peak = first.peak_running(execution_id)
    assert peak <= CONCURRENCY
    assert peak > 1  # items did run in parallel
    # each element's container made once, and ahead of its turn (created, not started), so
    # that a freed slot need not wait for Docker: element k can only start once k - 3 others
    # ended (4 at a time), but most are created before that many died
    assert len(first.of(execution_id, "create")) == 50
    created = first.first(execution_id, "create")
    died = sorted(first.first(execution_id, "die").values())
    ahead = [k for k in range(CONCURRENCY, 50)
             if sum(t < created[f"n0-{k}"] for t in died) < k - (CONCURRENCY - 1)]
    assert len(ahead) > 25, ahead

    with ContainerEvents(("create", "start")) as second:
        again, rerun_id = _run(sandbox_home, workflow_file, xs)
    assert again == squares
    assert second.of(rerun_id, "start") == []  # every item came from the cache
    assert second.of(rerun_id, "create") == []  # and none was made ahead for nothing

    changed = xs[:17] + [7] + xs[18:]
    with ContainerEvents() as third:
        third_squares, third_id = _run(sandbox_home, workflow_file, changed)
    assert third_squares == [x * x for x in changed]
    assert [e["Actor"]["Attributes"]["skiff.node"] for e in third.of(third_id, "start")] == [
        "n0-17"]

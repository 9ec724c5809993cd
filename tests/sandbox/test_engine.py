"""End-to-end tests of the sandbox engine: real Docker engine, real MinIO, real SQLite file.

Tasks here are hand-built specs whose container runs a short Python script in the runtime
image (reading inputs.pb and writing outputs.pb / error.pb as Flyte's contract says), so the
engine's behaviour is tested independently of the SDK's compiler.
"""
from __future__ import annotations

import threading

import pytest
from flyteidl.core import literals_pb2

from sandbox.engine import create_execution, run_execution
from sandbox.engine.launch import InputError
from sandbox.registry import read_package, register_package
from sdk.errors import ExecutionFailed, PackageError
from test_engine_support import (
    docker_events, engine_context, ints, plain, script_task, workflow_package,
)

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def env(sandbox_home):
    """The session's sandbox (tests/conftest.py): real Docker, MinIO and SQLite."""
    return sandbox_home


def orm_sessions(ctx):
    """Read back through the SQLAlchemy models: the engine's plain SQL must match them."""
    from sandbox.store.db import sessions

    return sessions(ctx.store.url)


def _run(env, pkg_path, name, inputs=None, **ctx_args):
    ctx = engine_context(env, **ctx_args)
    reg = register_package(ctx.store, ctx.objects, read_package(pkg_path), "proj", "dev")
    execution_id = create_execution(ctx.store, "proj", "dev", name, reg.version, ints(inputs or {}))
    return execution_id, run_execution(ctx, execution_id), ctx


def test_multi_task_workflow_outputs(env, tmp_path):
    double = script_task("t.double", "out['o'] = inp['x'] * 2", {"x": int}, {"o": int})
    add = script_task("t.add", "out['o'] = inp['a'] + inp['b']", {"a": int, "b": int}, {"o": int})
    pkg = workflow_package(tmp_path, "t.wf", [double, add], inputs={"x": int}, outputs={"r": int},
                           nodes=[("n0", "t.double", {"x": "start-node.x"}),
                                  ("n1", "t.double", {"x": "n0.o"}),
                                  ("n2", "t.add", {"a": "n0.o", "b": "n1.o"})],
                           output_bindings={"r": "n2.o"})
    _, outputs, _ = _run(env, pkg, "t.wf", {"x": 5})
    assert plain(outputs) == {"r": 30}


def _chain_package(tmp_path, name, length=3, cache=True):
    step = script_task(f"{name}.inc", "out['o'] = inp['x'] + 1", {"x": int}, {"o": int},
                       cache=cache)
    nodes = [("n0", f"{name}.inc", {"x": "start-node.x"})]
    nodes += [(f"n{i}", f"{name}.inc", {"x": f"n{i - 1}.o"}) for i in range(1, length)]
    return workflow_package(tmp_path, f"{name}.wf", [step], inputs={"x": int},
                            outputs={"r": int}, nodes=nodes,
                            output_bindings={"r": f"n{length - 1}.o"})


def test_second_run_is_served_from_cache_without_containers(env, tmp_path):
    pkg = _chain_package(tmp_path, "cached", length=3)
    with docker_events() as first:
        execution_id, outputs, _ = _run(env, pkg, "cached.wf", {"x": 100})
    assert plain(outputs) == {"r": 103}
    assert len(first.of(execution_id)) == 3

    with docker_events() as second:
        execution_id, outputs, ctx = _run(env, pkg, "cached.wf", {"x": 100})
    assert plain(outputs) == {"r": 103}
    assert second.of(execution_id) == []
    from sandbox.store.models import NodeExecution
    with orm_sessions(ctx)() as session:
        states = {r.node_id: r.state for r in session.query(NodeExecution).filter_by(
            execution_id=execution_id)}
    assert states == {"n0": "cached", "n1": "cached", "n2": "cached"}

    # Every node runs the same task, so the key is the task and its input alone: x=101 and
    # x=102 were inputs of the first run; only the last node's input, 103, is new.
    with docker_events() as third:
        execution_id, outputs, _ = _run(env, pkg, "cached.wf", {"x": 101})
    assert plain(outputs) == {"r": 104}
    assert len(third.of(execution_id)) == 1


def test_user_error_is_retried_and_attempt_number_reaches_the_container(env, tmp_path):
    flaky = script_task("t.flaky", "assert attempt >= 1, 'first attempt fails'\n"
                        "out['o'] = attempt", {}, {"o": int}, retries=2)
    pkg = workflow_package(tmp_path, "t.flakywf", [flaky], inputs={}, outputs={"a": int},
                           nodes=[("n0", "t.flaky", {})], output_bindings={"a": "n0.o"})
    execution_id, outputs, ctx = _run(env, pkg, "t.flakywf")
    assert plain(outputs) == {"a": 1}
    from sandbox.store.models import NodeExecution
    with orm_sessions(ctx)() as session:
        row = session.query(NodeExecution).filter_by(execution_id=execution_id).one()
    assert (row.state, row.attempt, row.user_failures) == ("succeeded", 1, 1)
    assert "first attempt fails" in row.logs or "--- attempt 1 ---" in row.logs


def test_non_recoverable_error_is_not_retried(env, tmp_path):
    fatal = script_task("t.fatal", "raise TypeError('NON_RECOVERABLE: wrong type')", {},
                        {"o": int}, retries=3)
    pkg = workflow_package(tmp_path, "t.fatalwf", [fatal], inputs={}, outputs={"a": int},
                           nodes=[("n0", "t.fatal", {})], output_bindings={"a": "n0.o"})
    with pytest.raises(ExecutionFailed, match=r"attempt 0: user error: .*TypeError"):
        _run(env, pkg, "t.fatalwf")


def test_failing_task_reports_node_attempt_and_traceback(env, tmp_path):
    bad = script_task("t.bad", "def inner():\n    raise ValueError('bad value 42')\ninner()",
                      {}, {"o": int}, retries=1)
    pkg = workflow_package(tmp_path, "t.badwf", [bad], inputs={}, outputs={"a": int},
                           nodes=[("n0", "t.bad", {})], output_bindings={"a": "n0.o"})
    with pytest.raises(ExecutionFailed) as info:
        _run(env, pkg, "t.badwf")
    message = str(info.value)
    assert "node 'n0'" in message and "t.bad" in message and "attempt 1" in message
    assert "ValueError: bad value 42" in message and "Traceback" in message
    assert "in inner" in message
    assert info.value.exit_code == 1


def _attempt_statuses(env, workflow: str) -> list[tuple[int, str, str]]:
    """(attempt, state, exit status) of the latest execution of `workflow`, as stored for
    the console's node page."""
    from sandbox.store import open_store

    store = open_store(env.database_url)
    execution = next(e for e in store.executions(100) if e.workflow == workflow)
    return [(a.attempt, a.state, a.exit_status) for a in store.attempts(execution.id)]


def test_timeout_kills_the_container(env, tmp_path):
    slow = script_task("t.slow", "import time\ntime.sleep(60)\nout['o'] = 1", {}, {"o": int},
                       timeout=2)
    pkg = workflow_package(tmp_path, "t.slowwf", [slow], inputs={}, outputs={"a": int},
                           nodes=[("n0", "t.slow", {})], output_bindings={"a": "n0.o"})
    import time
    started = time.monotonic()
    with pytest.raises(ExecutionFailed, match=r"timed out after 2s"):
        _run(env, pkg, "t.slowwf")
    assert time.monotonic() - started < 30
    assert _attempt_statuses(env, "t.slowwf") == [(0, "failed", "timed out after 2s (killed)")]


def test_out_of_memory_is_reported_with_the_limit(env, tmp_path):
    hog = script_task("t.hog", "blocks = []\nwhile True:\n    blocks.append(bytearray(8 << 20))",
                      {}, {"o": int}, memory="64Mi")
    pkg = workflow_package(tmp_path, "t.hogwf", [hog], inputs={}, outputs={"a": int},
                           nodes=[("n0", "t.hog", {})], output_bindings={"a": "n0.o"})
    with pytest.raises(ExecutionFailed, match=r"out of memory \(limit 64Mi\)"):
        _run(env, pkg, "t.hogwf")
    [(attempt, state, status)] = _attempt_statuses(env, "t.hogwf")
    assert (attempt, state) == (0, "failed") and status.startswith("out of memory (OOM killed")


def test_two_executions_at_once(env, tmp_path):
    pkg = _chain_package(tmp_path, "twice", length=2, cache=False)
    results, errors = {}, []

    def go(x):
        try:
            results[x] = plain(_run(env, pkg, "twice.wf", {"x": x})[1])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(x,)) for x in (10, 20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == {10: {"r": 12}, 20: {"r": 22}}


def test_launch_plan_defaults_and_fixed_inputs(env, tmp_path):
    add = script_task("t.add2", "out['o'] = inp['a'] + inp['b']", {"a": int, "b": int},
                      {"o": int})
    pkg = workflow_package(tmp_path, "t.lpwf", [add], inputs={"a": int, "b": int},
                           outputs={"r": int}, nodes=[("n0", "t.add2", {"a": "start-node.a",
                                                                        "b": "start-node.b"})],
                           output_bindings={"r": "n0.o"}, defaults={"a": 7})
    assert plain(_run(env, pkg, "t.lpwf", {"b": 1})[1]) == {"r": 8}
    assert plain(_run(env, pkg, "t.lpwf", {"a": 1, "b": 1})[1]) == {"r": 2}


def _counts(ctx):
    from sandbox.store.models import Execution, RegisteredEntity
    with orm_sessions(ctx)() as session:
        return session.query(RegisteredEntity).count(), session.query(Execution).count()


def test_bad_package_stores_nothing(env, tmp_path):
    ctx = engine_context(env)
    before = _counts(ctx)
    ok = script_task("t.ok", "out['o'] = 1", {}, {"o": int})
    pkg = workflow_package(tmp_path, "t.badpkg", [ok], inputs={}, outputs={"a": int},
                           nodes=[("n0", "t.ok", {})], output_bindings={"a": "n0.o"},
                           extra_entries=[("9_t.broken_1.pb", b"\xff\xffnot a proto")])
    with pytest.raises(PackageError, match=r"entry '9_t.broken_1.pb'") as info:
        register_package(ctx.store, ctx.objects, read_package(pkg), "proj", "dev")
    assert info.value.exit_code == 2
    missing = workflow_package(tmp_path, "t.missingtask", [], inputs={}, outputs={"a": int},
                               nodes=[("n0", "t.nowhere", {})], output_bindings={"a": "n0.o"})
    with pytest.raises(PackageError, match=r"node 'n0' uses task 't.nowhere'"):
        register_package(ctx.store, ctx.objects, read_package(missing), "proj", "dev")
    notgz = tmp_path / "plain.tgz"
    notgz.write_bytes(b"hello")
    with pytest.raises(PackageError, match="not a gzip tar"):
        read_package(notgz)
    assert _counts(ctx) == before


def test_bad_inputs_store_no_execution(env, tmp_path):
    ctx = engine_context(env)
    pkg = _chain_package(tmp_path, "inputs", length=1)
    reg = register_package(ctx.store, ctx.objects, read_package(pkg), "proj", "dev")
    before = _counts(ctx)
    with pytest.raises(InputError, match=r"needs input .x. \(int\)") as info:
        create_execution(ctx.store, "proj", "dev", "inputs.wf", reg.version, ints({}))
    assert info.value.exit_code == 2
    with pytest.raises(InputError, match=r"has no input 'y'"):
        create_execution(ctx.store, "proj", "dev", "inputs.wf", reg.version,
                         ints({"x": 1, "y": 2}))
    wrong = literals_pb2.LiteralMap()
    wrong.literals["x"].scalar.primitive.string_value = "one"
    with pytest.raises(InputError, match=r"input 'x'.*does not match"):
        create_execution(ctx.store, "proj", "dev", "inputs.wf", reg.version, wrong)
    assert _counts(ctx) == before


def test_cache_serialize_runs_one_container_for_concurrent_identical_nodes(env, tmp_path):
    slow = script_task("t.serial", "import time\ntime.sleep(1)\nout['o'] = inp['x'] * 3",
                       {"x": int}, {"o": int}, cache=True, cache_version="s1")
    slow.template.metadata.cache_serializable = True
    pkg = workflow_package(tmp_path, "t.serialwf", [slow], inputs={"x": int},
                           outputs={"a": int, "b": int},
                           nodes=[("n0", "t.serial", {"x": "start-node.x"}),
                                  ("n1", "t.serial", {"x": "start-node.x"})],
                           output_bindings={"a": "n0.o", "b": "n1.o"})
    with docker_events() as events:
        execution_id, outputs, ctx = _run(env, pkg, "t.serialwf", {"x": 14})
    assert plain(outputs) == {"a": 42, "b": 42}
    assert len(events.of(execution_id)) == 1
    assert sorted(n.state for n in ctx.store.nodes(execution_id)) == ["cached", "succeeded"]

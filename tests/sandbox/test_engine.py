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
    docker_events, engine_context, ints, plain, script_task, standin_sandbox, workflow_package,
)

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def env(request, tmp_path_factory):
    """The session's sandbox (tests/conftest.py), or a stand-in MinIO while that is missing."""
    try:
        yield request.getfixturevalue("sandbox_home")
        return
    except pytest.FixtureLookupError:
        pass
    state, proc = standin_sandbox(tmp_path_factory.mktemp("skiff-home"))
    yield state
    proc.terminate()
    proc.wait()


def _run(env, pkg_path, name, inputs=None, **ctx_args):
    ctx = engine_context(env, **ctx_args)
    reg = register_package(ctx.sessions, ctx.objects, read_package(pkg_path), "proj", "dev")
    execution_id = create_execution(ctx.sessions, "proj", "dev", name, reg.version, ints(inputs or {}))
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

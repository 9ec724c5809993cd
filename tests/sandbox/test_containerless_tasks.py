"""Tasks without a container (Flyte's echo plugin, flytekit's `Echo`) and tasks whose image is
not in the engine: neither starts a container, and neither spends retries."""
from __future__ import annotations

import pytest

from sandbox.engine import create_execution, run_execution
from sandbox.registry import read_package, register_package
from sdk.errors import ExecutionFailed
from test_engine_support import (
    docker_events, engine_context, ints, package, plain, script_task, task_node, template,
)

pytestmark = pytest.mark.sandbox


def _echo(name, inputs, outputs):
    spec = script_task(name, "", inputs, outputs)
    spec.template.type = "echo"
    spec.template.ClearField("container")  # flytekit's Echo: no container at all
    return spec


def _run(env, pkg, name, inputs):
    ctx = engine_context(env)
    reg = register_package(ctx.store, ctx.objects, read_package(pkg), "plugins", "dev")
    execution_id = create_execution(ctx.store, "plugins", "dev", name, reg.version, ints(inputs))
    try:
        outputs = plain(run_execution(ctx, execution_id))
    except ExecutionFailed as failed:
        outputs = failed
    return outputs, ctx.store.nodes(execution_id), execution_id


def test_an_echo_task_passes_its_input_on_without_a_container(sandbox_home, tmp_path):
    double = script_task("plugins.double", "out['o'] = inp['x'] * 2", {"x": int}, {"o": int})
    wf = template("plugins.echoed", {"x": int}, {"r": int},
                  [task_node("n0", "plugins.noop", {"a": "start-node.x"}),
                   task_node("n1", "plugins.double", {"x": "n0.o0"})], {"r": "n1.o"})
    pkg = package(tmp_path, [double, _echo("plugins.noop", {"a": int}, {"o0": int})], [wf])
    with docker_events() as started:
        outputs, nodes, execution_id = _run(sandbox_home, pkg, "plugins.echoed", {"x": 21})
    assert outputs == {"r": 42}
    assert [(n.node_id, n.state, n.attempt) for n in nodes] == [
        ("n0", "succeeded", 0), ("n1", "succeeded", 0)]
    nodes_started = [e["Actor"]["Attributes"]["skiff.node"] for e in started.of(execution_id)]
    assert nodes_started == ["n1"]  # the echo task started no container


def test_a_task_type_without_a_plugin_fails_at_once_and_says_so(sandbox_home, tmp_path):
    query = _echo("plugins.query", {"a": int}, {"o0": int})
    query.template.type = "bigquery_query_job_task"
    wf = template("plugins.queried", {"x": int}, {"r": int},
                  [task_node("n0", "plugins.query", {"a": "start-node.x"})], {"r": "n0.o0"})
    failed, nodes, _ = _run(sandbox_home, package(tmp_path, [query], [wf]), "plugins.queried",
                         {"x": 1})
    assert isinstance(failed, ExecutionFailed)
    assert "'bigquery_query_job_task' has no container" in str(failed)
    assert [(n.state, n.attempt) for n in nodes] == [("failed", 0)]


def test_a_missing_image_fails_at_once_and_says_how_to_build_it(sandbox_home, tmp_path):
    task = script_task("plugins.elsewhere", "out['o'] = 1", {"x": int}, {"o": int},
                       image="ghcr.io/flyteorg/flytekit:py3.11-abc123")
    task.template.metadata.retries.retries = 2
    wf = template("plugins.imaged", {"x": int}, {"r": int},
                  [task_node("n0", "plugins.elsewhere", {"x": "start-node.x"})], {"r": "n0.o"})
    failed, nodes, _ = _run(sandbox_home, package(tmp_path, [task], [wf]), "plugins.imaged",
                         {"x": 1})
    assert isinstance(failed, ExecutionFailed)
    message = str(failed)
    assert "'ghcr.io/flyteorg/flytekit:py3.11-abc123' is not in the local Docker engine" in message
    assert "skiff image build" in message and "--tag ghcr.io/flyteorg/flytekit:py3.11-abc123" in message
    row = nodes[0]
    assert (row.state, row.attempt, row.system_failures) == ("failed", 0, 1)  # not retried


def test_echo_needs_matching_types():
    from sandbox.engine import containerless

    spec = _echo("plugins.bad", {"a": int}, {"o0": str})
    outcome = containerless.run(spec.template, ints({"a": 1}))
    assert outcome.outputs is None and not outcome.recoverable
    assert "'o0'" in outcome.error and "'a'" in outcome.error

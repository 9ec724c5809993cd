"""Node kinds beyond tasks: subworkflows and launch plans (inlined), branches, map tasks
(array nodes) and sleep gates, with hand-built specs as flytekit lays them out."""
from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest
from flyteidl.core import condition_pb2, workflow_pb2

from sandbox.engine import create_execution, run_execution
from sandbox.registry import read_package, register_package
from sdk.errors import ExecutionFailed
from test_engine_support import (
    binding, engine_context, ints, launch_plan, package, plain, script_task, task_node, template,
    workflow_node,
)

pytestmark = pytest.mark.sandbox

def _tasks():
    return [script_task("nodes.add", "out['o'] = inp['a'] + inp['b']", {"a": int, "b": int},
                        {"o": int}),
            script_task("nodes.double", "out['o'] = inp['x'] * 2", {"x": int}, {"o": int})]


def _run(env, pkg, name, inputs):
    ctx = engine_context(env)
    reg = register_package(ctx.store, ctx.objects, read_package(pkg), "nodes", "dev")
    execution_id = create_execution(ctx.store, "nodes", "dev", name, reg.version, ints(inputs))
    return plain(run_execution(ctx, execution_id)), ctx.store.nodes(execution_id)


def test_subworkflow_and_launch_plan_nodes_are_inlined(sandbox_home, tmp_path):
    inner = template("nodes.inner", {"x": int, "y": int}, {"s": int},
                     [task_node("n0", "nodes.double", {"x": "start-node.x"}),
                      task_node("n1", "nodes.add", {"a": "n0.o", "b": "start-node.y"})],
                     {"s": "n1.o"})
    outer = template("nodes.outer", {"x": int}, {"r": int, "t": int},
                     [task_node("n0", "nodes.double", {"x": "start-node.x"}),
                      workflow_node("n1", "nodes.inner", {"x": "n0.o", "y": 1}),
                      workflow_node("n2", "nodes.inner_lp", {"x": "n1.s"}, launch_plan=True),
                      task_node("n3", "nodes.add", {"a": "n1.s", "b": "n2.s"})],
                     {"r": "n3.o", "t": "n2.s"})
    pkg = package(tmp_path, _tasks(), [inner, outer],
                  [launch_plan("nodes.inner_lp", "nodes.inner", {"x": int, "y": int},
                               defaults={"y": 100}),
                   launch_plan("nodes.outer", "nodes.outer", {"x": int})],
                  sub_workflows={"nodes.outer": [inner]})
    outputs, nodes = _run(sandbox_home, pkg, "nodes.outer", {"x": 3})
    # n0: 6; n1 (inner 6, 1): 12 + 1 = 13; n2 (inner_lp 13, default y=100): 26 + 100 = 126
    assert outputs == {"r": 13 + 126, "t": 126}
    assert [n.node_id for n in nodes] == ["n0", "n1-n0", "n1-n1", "n2-n0", "n2-n1", "n3"]
    assert {n.state for n in nodes} == {"succeeded"}


def _branch_workflow():
    # if x > 10: double(x) elif x == 5: add(x, 1000) else: fail with a message
    branch = workflow_pb2.Node(id="n1")
    branch.inputs.add(var="n0.o").binding.promise.node_id = "n0"
    branch.inputs[0].binding.promise.var = "o"
    block = branch.branch_node.if_else
    gt = block.case.condition.comparison
    gt.operator = condition_pb2.ComparisonExpression.GT
    gt.left_value.var = "n0.o"
    gt.right_value.primitive.integer = 10
    block.case.then_node.CopyFrom(task_node("n1-n0", "nodes.double", {"x": "n0.o"}))
    other = block.other.add()
    eq = other.condition.comparison
    eq.operator = condition_pb2.ComparisonExpression.EQ
    eq.left_value.var = "n0.o"
    eq.right_value.primitive.integer = 5
    other.then_node.CopyFrom(task_node("n1-n1", "nodes.add", {"a": "n0.o", "b": 1000}))
    block.error.failed_node_id = "n1"
    block.error.message = "x must be 5 or above 10"
    return template("nodes.branchy", {"x": int}, {"r": int},
                    [task_node("n0", "nodes.add", {"a": "start-node.x", "b": 0}), branch],
                    {"r": "n1.o"})


def test_branch_runs_the_first_true_case_or_fails_with_its_message(sandbox_home, tmp_path):
    pkg = package(tmp_path, _tasks(), [_branch_workflow()])
    assert _run(sandbox_home, pkg, "nodes.branchy", {"x": 11})[0] == {"r": 22}
    outputs, nodes = _run(sandbox_home, pkg, "nodes.branchy", {"x": 5})
    assert outputs == {"r": 1005}
    assert [(n.node_id, n.task) for n in nodes] == [("n0", "nodes.add"), ("n1", "nodes.add")]
    with pytest.raises(ExecutionFailed, match="node 'n1'.*x must be 5 or above 10"):
        _run(sandbox_home, pkg, "nodes.branchy", {"x": 7})


def test_map_task_over_a_list_with_a_bound_input(sandbox_home, tmp_path):
    array = workflow_pb2.Node(id="n0")
    array.inputs.add(var="a").binding.CopyFrom(binding([1, 2, "start-node.x"]))
    array.inputs.add(var="b").binding.CopyFrom(binding("start-node.x"))
    array.array_node.node.CopyFrom(task_node("n0-sub", "nodes.add_each", {}))
    array.array_node.bound_inputs.append("b")
    wf = template("nodes.mapped", {"x": int}, {"r": int}, [array], {})
    wf.interface.outputs.variables["r"].type.collection_type.simple = 1  # list[int]
    wf.outputs.add(var="r").binding.promise.node_id = "n0"
    wf.outputs[0].binding.promise.var = "o"
    # As flytekit writes a map task: the mapped input and the output are lists in the task's
    # interface (Flyte's compiler checks the array node's bindings against it); the task runs
    # once per element.
    each = script_task("nodes.add_each", "out['o'] = inp['a'] + inp['b']", {"a": int, "b": int},
                       {"o": int})
    for variables, name in ((each.template.interface.inputs, "a"),
                            (each.template.interface.outputs, "o")):
        variables.variables[name].type.collection_type.simple = 1
    pkg = package(tmp_path, _tasks() + [each], [wf])
    outputs, nodes = _run(sandbox_home, pkg, "nodes.mapped", {"x": 10})
    assert outputs == {"r": [11, 12, 20]}
    assert sorted(n.node_id for n in nodes) == ["n0", "n0-0", "n0-1", "n0-2"]


def test_sleep_gate_then_task(sandbox_home, tmp_path):
    gate = workflow_pb2.Node(id="n0")
    gate.gate_node.sleep.duration.FromMilliseconds(300)
    wf = template("nodes.gated", {"x": int}, {"r": int},
                  [gate, task_node("n1", "nodes.double", {"x": "start-node.x"}, upstream=["n0"])],
                  {"r": "n1.o"})
    pkg = package(tmp_path, _tasks(), [wf])
    outputs, nodes = _run(sandbox_home, pkg, "nodes.gated", {"x": 4})
    assert outputs == {"r": 8}
    assert nodes[0].duration == pytest.approx(0.3)
    assert nodes[1].started_at >= nodes[0].ended_at


def test_failure_policy_and_failure_node(sandbox_home, tmp_path):
    tasks = _tasks() + [
        script_task("nodes.boom", "raise RuntimeError('boom')", {"x": int}, {"o": int}),
        script_task("nodes.report", "out['o'] = 'handled ' + inp['err']", {"err": str},
                    {"o": str}),
    ]
    # `err` is Optional[str], as flytekit's failure handlers declare it: the failure node
    # leaves it unbound and the engine gives it the error (Flyte's compiler refuses a
    # required input left unbound).
    err = tasks[-1].template.interface.inputs.variables["err"].type
    err.ClearField("simple")
    err.union_type.variants.add(simple=3)  # STRING
    err.union_type.variants.add(simple=0)  # NONE
    nodes = [task_node("n0", "nodes.boom", {"x": "start-node.x"}),
             task_node("n1", "nodes.double", {"x": "n0.o"}),
             task_node("n2", "nodes.double", {"x": "start-node.x"})]
    # FAIL_IMMEDIATELY (0) starts nothing after n0 fails; FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
    # (1) still runs n2, which does not depend on n0. n1 depends on n0: never runs.
    for policy, expect_n2 in ((0, "queued"), (1, "succeeded")):
        wf = template(f"nodes.fails{policy}", {"x": int}, {"r": int}, nodes, {"r": "n1.o"})
        wf.metadata.on_failure = policy
        wf.failure_node.CopyFrom(task_node("fn0", "nodes.report", {}))
        pkg = package(tmp_path, tasks, [wf])
        ctx = engine_context(sandbox_home, parallelism=1)  # n0 first, then (maybe) n2
        reg = register_package(ctx.store, ctx.objects, read_package(pkg), "nodes", "dev")
        execution_id = create_execution(ctx.store, "nodes", "dev", wf.id.name, reg.version,
                                        ints({"x": 2}))
        with pytest.raises(ExecutionFailed, match=r"(?s)node .n0.*RuntimeError: boom"):
            run_execution(ctx, execution_id)
        states = {n.node_id: n for n in ctx.store.nodes(execution_id)}
        assert states["n0"].state == "failed" and states["n1"].state == "queued"
        assert states["n2"].state == expect_n2
        assert states["fn0"].state == "succeeded"
        from flyteidl.core import literals_pb2
        report = plain(literals_pb2.LiteralMap.FromString(states["fn0"].outputs))["o"]
        assert report.startswith("handled n0: ") and "boom" in report


def test_dynamic_task_runs_the_workflow_it_writes_to_futures_pb(sandbox_home, tmp_path):
    from flyteidl.core import dynamic_job_pb2

    add, double = _tasks()
    spec = dynamic_job_pb2.DynamicJobSpec(min_successes=2)
    spec.nodes.extend([task_node("dn0", "nodes.double", {"x": "start-node.x"}),
                       task_node("dn1", "nodes.add", {"a": "dn0.o", "b": 1})])
    spec.outputs.add(var="o").binding.CopyFrom(binding("dn1.o"))
    spec.tasks.extend([add.template, double.template])
    body = ("from sdk import io as _io\n"
            f"_io.write_bytes(prefix + '/futures.pb', bytes.fromhex('{spec.SerializeToString().hex()}'))\n"
            "raise SystemExit(0)")
    dyn = script_task("nodes.dyn", body, {"x": int}, {"o": int})
    wf = template("nodes.dynwf", {"x": int}, {"r": int},
                  [task_node("n0", "nodes.dyn", {"x": "start-node.x"})], {"r": "n0.o"})
    outputs, nodes = _run(sandbox_home, package(tmp_path, [add, double, dyn], [wf]),
                          "nodes.dynwf", {"x": 20})
    assert outputs == {"r": 41}
    assert [(n.node_id, n.state) for n in nodes] == [
        ("n0", "succeeded"), ("n0-dn0", "succeeded"), ("n0-dn1", "succeeded")]


def test_rejected_approval_fails_the_execution_with_the_reason(sandbox_home, tmp_path):
    gate = workflow_pb2.Node(id="n1")
    gate.inputs.add(var="o").binding.CopyFrom(binding("n0.o"))
    gate.gate_node.approve.signal_id = "ship-it"
    wf = template("nodes.approval", {"x": int}, {"r": int},
                  [task_node("n0", "nodes.double", {"x": "start-node.x"}), gate],
                  {"r": "n1.o"})
    ctx = engine_context(sandbox_home)
    reg = register_package(ctx.store, ctx.objects, read_package(package(tmp_path, _tasks(), [wf])),
                           "nodes", "dev")
    execution_id = create_execution(ctx.store, "nodes", "dev", "nodes.approval", reg.version,
                                    ints({"x": 1}))
    failures = []

    def engine():
        try:
            run_execution(ctx, execution_id)
        except ExecutionFailed as exc:
            failures.append(str(exc))

    thread = threading.Thread(target=engine)
    thread.start()
    while ctx.store.node(execution_id, "n1").state != "waiting":
        time.sleep(0.05)
    assert "skiff executions approve" in ctx.store.node(execution_id, "n1").error
    reject = subprocess.run(["skiff", "executions", "reject", execution_id, "n1", "--reason",
                             "not today"], capture_output=True, text=True,
                            env={**os.environ, "SKIFF_HOME": sandbox_home.home})
    assert reject.returncode == 0, reject.stderr
    thread.join(timeout=30)
    assert len(failures) == 1 and "gate 'ship-it' was rejected: not today" in failures[0]

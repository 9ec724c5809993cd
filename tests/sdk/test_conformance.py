"""Skiff and flytekit 1.16.31 compile the same workflows (twins under conformance/) to the same IDL.

flytekit is the oracle: its `pyflyte package --fast` output is compared with Skiff's package
entity by entity. Container args differ by design (skiff-execute vs pyflyte-execute) and so does
the runtime metadata; everything a Flyte admin or the engine reads must agree.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import tasks_pb2, types_pb2

from sdk.compile.package import write_package

HERE = Path(__file__).parent / "conformance"
TWINS = ["chain", "fan", "multi", "alltypes", "meta", "nested", "branches", "mapping", "dynamic_wf", "policy", "gates"]
IMAGE = "conformance:1"
SPEC_CLASSES = {"1": task_pb2.TaskSpec, "2": workflow_pb2.WorkflowSpec, "3": launch_plan_pb2.LaunchPlan}


def read_package(path: Path) -> dict[tuple[str, str], object]:
    """(kind, entity name) -> parsed spec, for every .pb in a package, in the package's order
    (its entries' numbers; pyflyte's archive lists them unsorted)."""
    specs = {}
    with tarfile.open(path) as tar:
        members = [m for m in tar.getmembers() if m.name.endswith(".pb")]
        for member in sorted(members, key=lambda m: int(m.name.split("_", 1)[0])):
            if not member.name.endswith(".pb"):
                continue
            stem = member.name[: -len(".pb")]
            name, kind = stem.split("_", 1)[1].rsplit("_", 1)
            spec = SPEC_CLASSES[kind]()
            spec.ParseFromString(tar.extractfile(member).read())
            specs[(kind, name)] = spec
    return specs


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> tuple[dict, dict]:
    out = tmp_path_factory.mktemp("conformance")
    flytekit_pkg = out / "flytekit.tgz"
    command = [sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte"]
    pkgs = [arg for twin in TWINS for arg in ("--pkgs", twin)]
    subprocess.run(
        [*command, *pkgs, "package", "--image", IMAGE, "--fast", "-o", str(flytekit_pkg), "--force"],
        cwd=HERE / "flytekit",
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    skiff_pkg = out / "skiff.tgz"
    write_package([str(HERE / "skiff" / f"{twin}.py") for twin in TWINS], IMAGE, str(skiff_pkg))
    return read_package(flytekit_pkg), read_package(skiff_pkg)


def _of_kind(specs: dict, kind: str) -> dict:
    return {name: spec for (k, name), spec in specs.items() if k == kind}


def _variables(variable_map) -> dict:
    return {name: (var.type, var.description) for name, var in variable_map.variables.items()}


def _env(entries, sdk_own: str) -> list:
    return [(e.key, e.value) for e in entries if e.key != sdk_own]


def _resources(entries) -> dict:
    return {tasks_pb2.Resources.ResourceName.Name(e.name): e.value for e in entries}


def test_both_packages_hold_the_same_entities(packages):
    flytekit, skiff = packages
    assert sorted(skiff) == sorted(flytekit)
    assert ("3", "chain.pipeline") in skiff  # every workflow has its default launch plan


def test_entities_come_in_pyflytes_order(packages):
    """What a workflow calls (tasks, subworkflows, launch plans of its nodes) is written before
    it, each workflow's default launch plan right after it: the order flytectl registers in."""
    flytekit, skiff = packages
    assert list(skiff) == list(flytekit)


def test_tasks_agree_on_interface_metadata_and_container(packages):
    flytekit, skiff = packages
    for name, theirs in _of_kind(flytekit, "1").items():
        ours = _of_kind(skiff, "1")[name]
        a, b = theirs.template, ours.template
        assert b.type == a.type == "python-task", name
        assert _variables(b.interface.inputs) == _variables(a.interface.inputs), name
        assert _variables(b.interface.outputs) == _variables(a.interface.outputs), name
        for field in ("discoverable", "discovery_version", "cache_serializable", "interruptible"):
            assert getattr(b.metadata, field) == getattr(a.metadata, field), (name, field)
        assert b.metadata.retries == a.metadata.retries, name
        assert b.metadata.timeout == a.metadata.timeout, name
        assert list(b.metadata.cache_ignore_input_vars) == list(a.metadata.cache_ignore_input_vars), name
        assert b.metadata.runtime.flavor == a.metadata.runtime.flavor == "python", name
        assert b.container.image == a.container.image, name
        # In flytekit's order too, so that the spec bytes are the same.
        assert list(b.container.resources.requests) == list(a.container.resources.requests), name
        assert list(b.container.resources.limits) == list(a.container.resources.limits), name
        # Each SDK tells a @dynamic task's container how to compile at run time in its own variable.
        assert _env(b.container.env, "SKIFF_DYNAMIC_DEFAULT_IMAGE") == _env(a.container.env, "_F_SS_C"), name
        assert b.security_context == a.security_context, name
        assert ours.description == theirs.description, name


def test_task_options_reach_the_spec(packages):
    _, skiff = packages
    heavy = skiff[("1", "meta.heavy")].template
    assert heavy.metadata.retries.retries == 3
    assert heavy.metadata.timeout.seconds == 300
    assert heavy.metadata.discoverable and heavy.metadata.discovery_version == "2"
    assert _resources(heavy.container.resources.limits) == {
        "CPU": "2", "MEMORY": "2Gi", "GPU": "1", "EPHEMERAL_STORAGE": "1Gi"
    }
    assert [(s.group, s.key) for s in heavy.security_context.secrets] == [("db", "password"), ("api", "")]
    assert heavy.container.image == "other:2"


def _node_view(node) -> dict:
    target = node.WhichOneof("target")
    return {
        "target": target,
        "ref": getattr(node, target),
        "metadata": node.metadata,
        "inputs": sorted((b.var, b.binding.SerializeToString(deterministic=True)) for b in node.inputs),
        "upstream": set(node.upstream_node_ids),  # flytekit lists them from a set, in no fixed order
    }


def test_workflows_agree_on_graph_bindings_and_outputs(packages):
    flytekit, skiff = packages
    for name, theirs in _of_kind(flytekit, "2").items():
        a, b = theirs.template, _of_kind(skiff, "2")[name].template
        assert _variables(b.interface.inputs) == _variables(a.interface.inputs), name
        assert _variables(b.interface.outputs) == _variables(a.interface.outputs), name
        assert [n.id for n in b.nodes] == [n.id for n in a.nodes], name
        for theirs_node, our_node in zip(a.nodes, b.nodes):
            assert _node_view(our_node) == _node_view(theirs_node), (name, our_node.id)
        assert list(b.outputs) == list(a.outputs), name
        assert b.metadata == a.metadata and b.metadata_defaults == a.metadata_defaults, name
        assert list(_of_kind(skiff, "2")[name].sub_workflows) == list(theirs.sub_workflows), name
        assert _of_kind(skiff, "2")[name].description == theirs.description, name


def test_fan_in_binds_a_list_of_promises_and_constants(packages):
    _, skiff = packages
    total = skiff[("2", "fan.fan")].template.nodes[3]
    values = {b.var: b.binding for b in total.inputs}["values"]
    items = values.collection.bindings
    assert [(i.promise.node_id, i.promise.var) for i in items[:3]] == [("n0", "o0"), ("n1", "o0"), ("n2", "o0")]
    assert items[3].scalar.primitive.integer == 4
    assert set(total.upstream_node_ids) == {"n0", "n1", "n2"}


def test_launch_plans_agree_on_defaults_and_fixed_inputs(packages):
    flytekit, skiff = packages
    for name, theirs in _of_kind(flytekit, "3").items():
        ours = _of_kind(skiff, "3")[name]
        assert ours.id == theirs.id, name
        assert ours.spec.workflow_id == theirs.spec.workflow_id, name
        assert dict(ours.spec.default_inputs.parameters) == dict(theirs.spec.default_inputs.parameters), name
        assert dict(ours.spec.fixed_inputs.literals) == dict(theirs.spec.fixed_inputs.literals), name
    fixed = skiff[("3", "chain_fixed_lp")].spec
    assert fixed.fixed_inputs.literals["name"].scalar.primitive.string_value == "bo"
    assert "name" not in fixed.default_inputs.parameters
    assert fixed.default_inputs.parameters["n"].default.scalar.primitive.integer == 7


def test_flytekit_models_load_every_skiff_spec(packages):
    from flytekit.models.admin.workflow import WorkflowSpec
    from flytekit.models.launch_plan import LaunchPlan
    from flytekit.models.task import TaskSpec

    _, skiff = packages
    models = {"1": TaskSpec, "2": WorkflowSpec, "3": LaunchPlan}
    for (kind, name), spec in skiff.items():
        model = models[kind].from_flyte_idl(spec)
        identifier = model.id if kind == "3" else model.template.id
        assert identifier.name == name


def test_container_args_follow_the_contract(packages):
    _, skiff = packages
    args = list(skiff[("1", "chain.square")].template.container.args)
    assert args == [
        "skiff-execute",
        "--inputs", "{{.input}}",
        "--output-prefix", "{{.outputPrefix}}",
        "--raw-output-data-prefix", "{{.rawOutputDataPrefix}}",
        "--checkpoint-path", "{{.checkpointOutputPrefix}}",
        "--prev-checkpoint", "{{.prevCheckpointPrefix}}",
        "--code-bundle", "{{ .remote_package_path }}",
        "--dest-dir", "{{ .dest_dir }}",
        "--task-module", "chain",
        "--task-name", "square",
    ]  # fmt: skip


def test_subworkflow_and_launch_plan_nodes(packages):
    _, skiff = packages
    spec = skiff[("2", "nested.outer")]
    first, second = spec.template.nodes
    assert first.workflow_node.sub_workflow_ref.name == "nested.inner"
    assert second.workflow_node.launchplan_ref.name == "nested_inner_lp"
    assert {b.var: b.binding.scalar.primitive.integer for b in second.inputs if b.var == "b"} == {"b": 4}
    assert [w.id.name for w in spec.sub_workflows] == ["nested.inner"]


def test_twins_run_in_process():
    from sdk.loader import load_entity

    assert load_entity(str(HERE / "skiff" / "nested.py"), "outer")(x=1) == (3, 7)
    assert load_entity(str(HERE / "skiff" / "chain.py"), "chain_fixed_lp")() == "BO:49BO:49"
    assert load_entity(str(HERE / "skiff" / "fan.py"), "fan")(a=1) == (14.5, "14.5:['a', 'b']")


# ---- the workflow language: branches, map tasks, dynamic, failure handling, gates -------------


def _template(specs, name):
    return specs[("2", name)].template


def test_failure_policy_and_failure_node_agree(packages):
    flytekit, skiff = packages
    ours, theirs = _template(skiff, "policy.guarded"), _template(flytekit, "policy.guarded")
    assert ours.metadata.on_failure == theirs.metadata.on_failure == 1  # FAIL_AFTER_EXECUTABLE_NODES_COMPLETE
    assert ours.failure_node.id == "fn0"
    assert _node_view(ours.failure_node) == _node_view(theirs.failure_node)
    err = {b.var: b.binding for b in ours.failure_node.inputs}["err"]
    assert err.scalar.union.value.scalar.HasField("none_type")  # the optional err defaults to None


def test_a_failure_handler_taking_flyte_error_agrees(packages):
    flytekit, skiff = packages
    ours, theirs = _template(skiff, "policy.reported"), _template(flytekit, "policy.reported")
    assert _node_view(ours.failure_node) == _node_view(theirs.failure_node)
    report = skiff[("1", "policy.report")].template.interface.inputs.variables["err"].type
    assert report == flytekit[("1", "policy.report")].template.interface.inputs.variables["err"].type
    assert [v.simple for v in report.union_type.variants] == [types_pb2.ERROR, types_pb2.NONE]


def test_overrides_reach_node_metadata_and_task_overrides(packages):
    _, skiff = packages
    node = _template(skiff, "policy.guarded").nodes[0]
    assert node.metadata.name == "twice"
    assert (node.metadata.retries.retries, node.metadata.timeout.seconds) == (2, 30)
    assert node.metadata.cacheable and node.metadata.cache_version == "7"
    assert _resources(node.task_node.overrides.resources.requests) == {"CPU": "1", "MEMORY": "1Gi"}
    assert _resources(node.task_node.overrides.resources.limits) == {"CPU": "2", "MEMORY": "2Gi"}
    assert node.task_node.overrides.container_image == "other:9"
    shout = _template(skiff, "policy.guarded").nodes[1]
    assert shout.metadata.interruptible and shout.metadata.timeout.seconds == 45


def test_branch_nodes_carry_conditions_cases_and_failure(packages):
    _, skiff = packages
    signs = _template(skiff, "branches.signs")
    branch = signs.nodes[1]
    assert branch.metadata.name == "sign"
    assert [b.var for b in branch.inputs] == [".a", ".b", "n0.o0"]  # what the conditions read, sorted
    assert list(branch.upstream_node_ids) == ["n0"]
    if_else = branch.branch_node.if_else
    first = if_else.case.condition.conjunction
    assert first.left_expression.comparison.left_value.var == ".a"
    assert first.right_expression.comparison.right_value.primitive.integer == 4
    assert [block.then_node.task_node.reference_id.name for block in if_else.other] == ["branches.neg"] * 2
    assert (if_else.error.failed_node_id, if_else.error.message) == ("sign", "no branch for this input")
    assert signs.nodes[2].inputs[0].binding.promise.node_id == "n1"  # the branch output used downstream
    nested = _template(skiff, "branches.nones").nodes[1].branch_node.if_else.else_node
    assert nested.branch_node.if_else.case.condition.comparison.right_value.primitive.integer == 10
    none_check = _template(skiff, "branches.nones").nodes[1].branch_node.if_else.case.condition.comparison
    assert none_check.right_value.scalar.HasField("none_type")


def test_map_task_is_an_array_node_over_its_own_task(packages):
    flytekit, skiff = packages
    names = [name for kind, name in skiff if kind == "1" and "-arraynode" in name]
    assert sorted(names) == sorted(name for kind, name in flytekit if kind == "1" and "-arraynode" in name)
    node = _template(skiff, "mapping.tolerant").nodes[0]
    array = node.array_node
    assert array.parallelism == 4 and array.min_success_ratio == 0.5
    assert array.node.task_node.reference_id.name == node.metadata.name
    task = skiff[("1", array.node.task_node.reference_id.name)].template
    assert task.interface.inputs.variables["x"].type.collection_type.simple == 1  # List[int]
    assert task.interface.outputs.variables["o0"].type.collection_type.HasField("union_type")  # List[Optional[int]]
    assert task.container.args[-5:] == ["--task-module", "mapping", "--task-name", "fragile", "--map-task"]


def test_gate_nodes_agree(packages):
    _, skiff = packages
    sleep_node, signal_node, double, approve_node, _ = _template(skiff, "gates.gated").nodes
    assert sleep_node.gate_node.sleep.duration.seconds == 1 and sleep_node.metadata.timeout.seconds == 3600
    assert signal_node.gate_node.signal.signal_id == "num" and signal_node.gate_node.signal.type.simple == 1
    assert set(double.upstream_node_ids) == {"n0", "n1"}  # `pause >> d` orders without data
    assert approve_node.gate_node.approve.signal_id == "ok" and approve_node.metadata.timeout.seconds == 7200


FLYTEKIT_DYNAMIC = """
import sys
from flytekit.configuration import Image, ImageConfig, SerializationSettings
from flytekit.core.context_manager import ExecutionState, FlyteContextManager
import dynamic_wf

settings = SerializationSettings(image_config=ImageConfig(default_image=Image(name="d", fqn="conformance", tag="1")))
ctx = FlyteContextManager.current_context()
state = ctx.new_execution_state().with_params(mode=ExecutionState.Mode.TASK_EXECUTION)
with FlyteContextManager.with_context(ctx.with_serialization_settings(settings).with_execution_state(state)) as c:
    spec = dynamic_wf.ladder.compile_into_workflow(c, dynamic_wf.ladder._task_function, n=int(sys.argv[1]))
sys.stdout.write(spec.to_flyte_idl().SerializeToString().hex())
"""


def test_dynamic_job_spec_agrees_with_flytekit():
    from flyteidl.core import dynamic_job_pb2

    from sdk.compile.dynamic_spec import compile_dynamic_job_spec
    from sdk.loader import load_entity

    run = subprocess.run([sys.executable, "-c", FLYTEKIT_DYNAMIC, "3"], cwd=HERE / "flytekit", check=True,
                         capture_output=True, text=True)
    theirs = dynamic_job_pb2.DynamicJobSpec.FromString(bytes.fromhex(run.stdout))
    ladder = load_entity(str(HERE / "skiff" / "dynamic_wf.py"), "ladder")
    ours = compile_dynamic_job_spec(ladder, {"n": 3}, IMAGE, "s3://skiff/fast/p/d/fastabc.tar.gz")
    assert [n.id for n in ours.nodes] == [n.id for n in theirs.nodes] == ["dn0", "dn1", "dn2", "dn3"]
    for our_node, their_node in zip(ours.nodes, theirs.nodes):
        assert _node_view(our_node) == _node_view(their_node), our_node.id
    assert list(ours.outputs) == list(theirs.outputs)
    assert ours.min_successes == theirs.min_successes == 4
    assert [t.id.name for t in ours.tasks] == [t.id.name for t in theirs.tasks]
    assert "s3://skiff/fast/p/d/fastabc.tar.gz" in ours.tasks[0].container.args
    assert not any("{{ .remote_package_path }}" in a for t in ours.tasks for a in t.container.args)


def test_dynamic_without_calls_returns_its_outputs(tmp_path):
    from sdk.compile.dynamic_spec import compile_dynamic_job_spec
    from sdk.loader import load_entity

    ladder = load_entity(str(HERE / "skiff" / "dynamic_wf.py"), "ladder")
    path = tmp_path / "const_dyn.py"
    path.write_text("from sdk import dynamic\n\n@dynamic\ndef fixed(n: int) -> int:\n    return n * 2\n")
    fixed = load_entity(str(path), "fixed")
    outputs = compile_dynamic_job_spec(fixed, {"n": 4}, IMAGE)
    assert outputs.literals["o0"].scalar.primitive.integer == 8
    assert type(compile_dynamic_job_spec(ladder, {"n": 1}, IMAGE)).__name__ == "DynamicJobSpec"


def test_new_twins_run_in_process_with_flytekit_results():
    """Each construct's twin gives the same values in Skiff (in-process) and in flytekit's local run."""
    script = (
        "import json, sys\n"
        "import branches, mapping, dynamic_wf, policy\n"
        "print(json.dumps([branches.signs(a=1), branches.signs(a=3), branches.flags(a=-2), branches.nones(a=2),"
        " branches.nones(a=11), branches.floats(r=0.2), mapping.squares(xs=[1, 2, 3]),"
        " mapping.tolerant(xs=[1, -1, 2, 3]), mapping.chained(n=4), dynamic_wf.climb(n=3), policy.guarded(a=2),"
        " mapping.scaled(xs=[1, 2]), mapping.tuned(xs=[3]), branches.delegate(a=5)]))\n"
    )
    results = []
    for side in ("flytekit", "skiff"):
        run = subprocess.run([sys.executable, "-c", script], cwd=HERE / side, capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(HERE / side)})
        assert run.returncode == 0, run.stderr
        results.append(run.stdout.strip().splitlines()[-1])
    assert results[0] == results[1]
    assert results[1] == '[-2, 3, 2, 4, 22, "low:0.2", 14, 3, [0, 1, 4, 9], "1,2,3", [4, "X"], [4, 7], [9], -10]'


def test_closures_of_the_new_constructs_load_in_flytekit(packages):
    from flytekit.models.core.compiler import CompiledWorkflowClosure
    from flytekit.remote.entities import FlyteWorkflow

    from sdk.compile.closure import compile_closure

    _, skiff = packages
    tasks = {name: spec.template for (kind, name), spec in skiff.items() if kind == "1"}
    for name in ["branches.signs", "branches.nones", "branches.reuse", "mapping.tolerant", "dynamic_wf.climb",
                 "policy.guarded", "gates.gated"]:
        closure = compile_closure(skiff[("2", name)], tasks)
        remote = FlyteWorkflow.promote_from_closure(CompiledWorkflowClosure.from_flyte_idl(closure))
        template = skiff[("2", name)].template
        expected = [n.id for n in template.nodes] + (["fn0"] if template.HasField("failure_node") else [])
        assert [n.id for n in remote.flyte_nodes] == expected, name
    reuse = compile_closure(skiff[("2", "branches.reuse")], tasks).primary
    # The branch waits for the nodes its cases read, as Flyte's compiler connects it.
    assert list(reuse.connections.upstream["n2"].ids) == ["n0", "n1", "start-node"]
    then_node = reuse.template.nodes[-1].branch_node.if_else.case.then_node
    assert then_node.inputs[0].binding.promise.node_id == "n1"
    mapped = compile_closure(skiff[("2", "mapping.tolerant")], tasks)
    map_name = skiff[("2", "mapping.tolerant")].template.nodes[0].array_node.node.task_node.reference_id.name
    assert sorted(t.template.id.name for t in mapped.tasks) == sorted([map_name, "mapping.count_present"])


def test_branch_cases_may_call_subworkflows_and_launch_plans(packages):
    _, skiff = packages
    spec = skiff[("2", "branches.delegate")]
    if_else = spec.template.nodes[0].branch_node.if_else
    assert if_else.case.then_node.workflow_node.sub_workflow_ref.name == "branches.halve"
    assert if_else.else_node.workflow_node.launchplan_ref.name == "branches_halve_lp"
    assert [w.id.name for w in spec.sub_workflows] == ["branches.halve"]


def test_overrides_on_a_map_task_apply_to_its_items(packages):
    _, skiff = packages
    node = _template(skiff, "mapping.tuned").nodes[0]
    inner = node.array_node.node
    assert (inner.metadata.name, inner.metadata.retries.retries) == ("sq", 2)
    assert _resources(inner.task_node.overrides.resources.limits) == {"CPU": "1"}
    assert node.metadata.retries.retries == 0 and node.array_node.parallelism == 3

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
from flyteidl.core import tasks_pb2

from sdk.compile.package import write_package

HERE = Path(__file__).parent / "conformance"
TWINS = ["chain", "fan", "multi", "alltypes", "meta", "nested"]
IMAGE = "conformance:1"
SPEC_CLASSES = {"1": task_pb2.TaskSpec, "2": workflow_pb2.WorkflowSpec, "3": launch_plan_pb2.LaunchPlan}


def read_package(path: Path) -> dict[tuple[str, str], object]:
    """(kind, entity name) -> parsed spec, for every .pb in a package."""
    specs = {}
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
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


def _resources(entries) -> dict:
    return {tasks_pb2.Resources.ResourceName.Name(e.name): e.value for e in entries}


def test_both_packages_hold_the_same_entities(packages):
    flytekit, skiff = packages
    assert sorted(skiff) == sorted(flytekit)
    assert ("3", "chain.pipeline") in skiff  # every workflow has its default launch plan


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
        assert _resources(b.container.resources.requests) == _resources(a.container.resources.requests), name
        assert _resources(b.container.resources.limits) == _resources(a.container.resources.limits), name
        assert list(b.container.env) == list(a.container.env), name
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

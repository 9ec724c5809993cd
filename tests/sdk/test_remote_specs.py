"""What the bridge recovers from an admin equals what was registered, and promotion moves only
the domain (pure IDL: Skiff's compiler output and closure, flytekit's package as a cross-check)."""
import os
import subprocess

import pytest

from sdk.compile.closure import compile_closure
from sdk.compile.identifiers import spec_identifiers
from sdk.remote.specs import (
    LAUNCH_PLAN, TASK, WORKFLOW, with_domain, without_identifiers, workflow_spec_from_closure,
)

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def _hydrated(path, tmp_path):
    import shutil

    from sdk.compile.package_reader import read_package
    from sdk.compile.hydrate import hydrate

    # A module name of its own: other tests import their own `pipeline` modules.
    source = tmp_path / "src"
    source.mkdir()
    copy = source / f"remote_specs_{os.path.basename(path)}"
    shutil.copy(path, copy)
    package = str(tmp_path / "pkg.tgz")
    # Another process: launch plan names are global within one (examples name theirs).
    subprocess.run(["skiff", "package", copy.name, "--image", "skiff-runtime:test", "-o", package],
                   cwd=source, check=True, capture_output=True)
    read = read_package(package)
    return read, [(e.kind, hydrate(e.kind, e.spec, "default", "development", "v1",
                                   "s3://skiff/fast/default/development/" + (read.bundle_name or "")))
                  for e in read.entities]


@pytest.mark.parametrize("example", ["pipeline.py", "control_flow.py"])
def test_workflow_spec_recovered_from_the_closure_is_the_registered_one(example, tmp_path):
    _, hydrated = _hydrated(os.path.join(EXAMPLES, example), tmp_path)
    tasks = {s.template.id.name: s.template for k, s in hydrated if k == TASK}
    workflows = [s for k, s in hydrated if k == WORKFLOW]
    assert workflows
    for spec in workflows:
        closure = compile_closure(spec, tasks)
        assert any(n.id == "start-node" for n in closure.primary.template.nodes)
        recovered = workflow_spec_from_closure(closure)
        # The closure holds no description (an admin serves it apart); all else comes back.
        recovered.description.CopyFrom(spec.description)
        assert recovered == spec


def test_moving_domain_changes_only_the_domain(tmp_path):
    package, hydrated = _hydrated(os.path.join(EXAMPLES, "control_flow.py"), tmp_path)
    for (kind, spec), entity in zip(hydrated, package.entities):
        moved = with_domain(kind, spec, "development", "staging")
        for ident in spec_identifiers(kind, moved):
            assert ident.domain == "staging", f"{entity.name}: {ident}"
        assert without_identifiers(kind, moved) == without_identifiers(kind, spec)
        # Clearing identifiers gives back the package's own spec: nothing else was changed
        # apart from the fast-registration placeholders.
        if kind != TASK:
            assert without_identifiers(kind, spec) == entity.spec
    assert {k for k, _ in hydrated} == {TASK, WORKFLOW, LAUNCH_PLAN}


def test_branch_case_nodes_lose_the_compilers_prefix_at_every_depth():
    """propeller's compiler renames a branch's case nodes `<branch id>-<id>` (nested branches on
    top of the renamed id); the recovered spec has the ids the package gave them."""
    from flyteidl.core import compiler_pb2, workflow_pb2

    def branch(node_id, case_ids, inner=None):
        node = workflow_pb2.Node(id=node_id)
        if_else = node.branch_node.if_else
        if_else.case.then_node.id = case_ids[0]
        if_else.else_node.id = case_ids[1]
        if inner is not None:
            if_else.else_node.CopyFrom(inner)
        return node

    compiled = workflow_pb2.WorkflowTemplate(nodes=[
        workflow_pb2.Node(id="start-node"), workflow_pb2.Node(id="n0"),
        branch("n1", ["n1-n0", ""], inner=branch("n1-n1", ["n1-n1-n0", "n1-n1-n1-n5"])),
        workflow_pb2.Node(id="end-node")])
    closure = compiler_pb2.CompiledWorkflowClosure(
        primary=compiler_pb2.CompiledWorkflow(template=compiled))
    nodes = workflow_spec_from_closure(closure).template.nodes
    assert [n.id for n in nodes] == ["n0", "n1"]
    if_else = nodes[1].branch_node.if_else
    assert if_else.case.then_node.id == "n0" and if_else.else_node.id == "n1"
    inner = if_else.else_node.branch_node.if_else
    assert (inner.case.then_node.id, inner.else_node.id) == ("n0", "n1-n5")

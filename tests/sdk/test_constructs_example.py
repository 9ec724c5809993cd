"""examples/control_flow.py runs in-process and packages with every construct it shows."""
from __future__ import annotations

import tarfile
from pathlib import Path

from flyteidl.admin import workflow_pb2

from sdk import run_locally
from sdk.compile.package import write_package
from sdk.loader import load_entity

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "control_flow.py"


def test_example_runs_in_process_through_branch_map_dynamic_and_gate():
    report = load_entity(str(EXAMPLE), "report")
    approvals = []
    result = run_locally(report, {"scores": [3, 9, 4]}, on_approve=lambda name, v: approvals.append((name, v)) or True)
    assert result == "pass (0.53)!!"
    assert approvals == [("publish", "pass (0.53)")]
    assert run_locally(report, {"scores": [1, 2]}, on_approve=lambda *_: True) == "fail (0.15)!!"


def test_example_packages_with_every_node_kind(tmp_path):
    output = tmp_path / "pkg.tgz"
    contents = write_package([str(EXAMPLE)], "img:1", str(output))
    assert any("map_normalise_" in entry for entry in contents.entries)
    with tarfile.open(output) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("control_flow.report_2.pb"))
        spec = workflow_pb2.WorkflowSpec.FromString(tar.extractfile(member).read())
    kinds = [node.WhichOneof("target") for node in spec.template.nodes]
    assert kinds == ["workflow_node", "branch_node", "gate_node", "task_node"]
    assert spec.template.metadata.on_failure == 1 and spec.template.failure_node.id == "fn0"
    assert [w.id.name for w in spec.sub_workflows] == ["control_flow.grade"]

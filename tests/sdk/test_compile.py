"""Compiling and packaging: the package layout, deterministic bytes, and Flyte admin's checks."""
from __future__ import annotations

import hashlib
import io
import shutil
import tarfile
import textwrap
import uuid
from pathlib import Path

import pytest
from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

from sdk.compile.package import write_package
from sdk.compile.validate import validate_workflow
from sdk.errors import CompileError, PackageError
from sdk.loader import load_entity

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pipeline.py"


def tar_members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the example in its own source root, with a module name unique to the test."""
    root = tmp_path / "src"
    root.mkdir()
    shutil.copy(EXAMPLE, root / "pipeline.py")
    (root / "data.csv").write_text("a,b\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "pipeline.cpython-311.pyc").write_bytes(b"junk")
    return root


def write_flow(tmp_path: Path, body: str) -> Path:
    root = tmp_path / f"flows_{uuid.uuid4().hex[:6]}"
    root.mkdir()
    path = root / f"wf_{uuid.uuid4().hex[:8]}.py"
    path.write_text("from sdk import LaunchPlan, task, workflow\n" + textwrap.dedent(body))
    return path


def test_package_layout_matches_pyflyte(project, tmp_path):
    output = tmp_path / "out" / "pkg.tgz"
    contents = write_package([str(project / "pipeline.py")], "img:1", str(output))
    members = tar_members(output)
    assert contents.entries == [
        "0_pipeline.square_1.pb",
        "1_pipeline.greet_1.pb",
        "2_pipeline.pipeline_2.pb",
        "3_pipeline.pipeline_3.pb",
        "4_pipeline_lp_3.pb",
    ]
    assert sorted(members) == sorted([*contents.entries, contents.bundle])
    square = task_pb2.TaskSpec.FromString(members["0_pipeline.square_1.pb"]).template
    assert square.id.name == "pipeline.square" and square.id.project == square.id.version == ""
    assert square.container.image == "img:1"
    assert square.metadata.retries.retries == 2 and square.metadata.discovery_version == "1"
    workflow = workflow_pb2.WorkflowSpec.FromString(members["2_pipeline.pipeline_2.pb"]).template
    greet = workflow.nodes[1]
    assert {b.var: (b.binding.promise.node_id, b.binding.promise.var) for b in greet.inputs} == {
        "name": ("", "name"),
        "total": ("n0", "o0"),
    }
    plan = launch_plan_pb2.LaunchPlan.FromString(members["4_pipeline_lp_3.pb"])
    assert plan.spec.workflow_id.name == "pipeline.pipeline"
    defaults = plan.spec.default_inputs.parameters
    assert defaults["n"].default.scalar.primitive.integer == 5
    assert defaults["name"].default.scalar.primitive.string_value == "ada"


def test_code_bundle_holds_the_source_tree_without_caches(project, tmp_path):
    output = project / "pkg.tgz"  # inside the source root: must not bundle itself
    contents = write_package([str(project / "pipeline.py")], "img:1", str(output))
    bundle = tar_members(output)[contents.bundle]
    assert contents.bundle == f"fast{hashlib.sha256(bundle).hexdigest()[:32]}.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(bundle)) as tar:
        assert sorted(tar.getnames()) == ["data.csv", "pipeline.py"]
        assert tar.extractfile("pipeline.py").read() == EXAMPLE.read_bytes()


def test_same_sources_give_the_same_bytes(project, tmp_path):
    first, second = tmp_path / "a.tgz", tmp_path / "b.tgz"
    write_package([str(project / "pipeline.py")], "img:1", str(first))
    (project / "pipeline.py").touch()  # a new mtime changes nothing
    write_package([str(project / "pipeline.py")], "img:1", str(second))
    assert first.read_bytes() == second.read_bytes()
    (project / "data.csv").write_text("changed\n")
    write_package([str(project / "pipeline.py")], "img:1", str(second))
    assert first.read_bytes() != second.read_bytes()


def assert_fails_without_output(path: Path, tmp_path: Path, *fragments: str) -> None:
    output = tmp_path / "pkg.tgz"
    output.write_bytes(b"previous package")
    with pytest.raises(CompileError) as raised:
        write_package([str(path)], "img:1", str(output))
    for fragment in fragments:
        assert fragment in str(raised.value)
    assert output.read_bytes() == b"previous package"
    assert [p.name for p in output.parent.iterdir() if p.name.startswith(".skiff-package")] == []


def test_type_mismatch_in_a_binding_names_workflow_node_and_variable(tmp_path):
    path = write_flow(
        tmp_path,
        """
        @task
        def count(x: int) -> int:
            return x

        @task
        def shout(text: str) -> str:
            return text

        @workflow
        def wf(n: int) -> str:
            return shout(text=count(x=n))
        """,
    )
    assert_fails_without_output(
        path, tmp_path, f"workflow {path.stem}.wf", "node n1", "input 'text'", "'o0' of node n0"
    )


def test_a_constant_of_the_wrong_type_is_rejected(tmp_path):
    path = write_flow(
        tmp_path,
        """
        @task
        def count(x: int) -> int:
            return x

        @workflow
        def wf() -> int:
            return count(x="seven")
        """,
    )
    assert_fails_without_output(path, tmp_path, f"workflow {path.stem}.wf", "node n0", "variable 'x'")


def test_a_workflow_output_of_the_wrong_type_is_rejected(tmp_path):
    path = write_flow(
        tmp_path,
        """
        @task
        def name() -> str:
            return "a"

        @workflow
        def wf() -> int:
            return name()
        """,
    )
    assert_fails_without_output(path, tmp_path, f"workflow {path.stem}.wf", "input 'o0'", "node n0")


def test_an_unbound_workflow_output_is_rejected(tmp_path):
    path = write_flow(
        tmp_path,
        """
        @task
        def side(x: int) -> None:
            print(x)

        @workflow
        def wf(x: int) -> int:
            side(x=x)
        """,
    )
    assert_fails_without_output(path, tmp_path, f"workflow {path.stem}.wf", "output 'o0' is not bound")


def test_two_tasks_under_one_name_are_rejected(tmp_path):
    path = write_flow(
        tmp_path,
        """
        @task
        def step(x: int) -> int:
            return x

        @workflow
        def first(x: int) -> int:
            return step(x=x)

        @task
        def step(x: int) -> int:
            return x + 1

        @workflow
        def second(x: int) -> int:
            return step(x=x)
        """,
    )
    assert_fails_without_output(path, tmp_path, f"task name '{path.stem}.step' is defined twice")


def test_a_launch_plan_default_of_the_wrong_type_is_rejected(tmp_path):
    path = write_flow(
        tmp_path,
        """
        @task
        def count(x: int) -> int:
            return x

        @workflow
        def wf(x: int) -> int:
            return count(x=x)

        LaunchPlan.get_or_create(wf, name="bad_default_lp_%s", default_inputs={"x": "many"})
        """ % uuid.uuid4().hex[:6],
    )
    assert_fails_without_output(path, tmp_path, "launch plan bad_default_lp_", "variable 'x'")


def test_a_cycle_is_rejected_naming_its_nodes(tmp_path):
    path = write_flow(
        tmp_path,
        """
        @task
        def step(x: int) -> int:
            return x

        @workflow
        def wf(x: int) -> int:
            return step(x=step(x=x))
        """,
    )
    wf = load_entity(str(path), "wf")
    from sdk.authoring.promise import Promise

    wf.nodes[0].bindings["x"] = Promise("n1", "o0", int)  # n0 <- n1 <- n0
    with pytest.raises(CompileError, match=rf"workflow {path.stem}\.wf: nodes n0, n1 depend on each other"):
        validate_workflow(wf)


def test_files_from_two_source_roots_are_refused(tmp_path):
    a = write_flow(tmp_path, "@task\ndef a(x: int) -> int:\n    return x\n")
    b = write_flow(tmp_path, "@task\ndef b(x: int) -> int:\n    return x\n")
    with pytest.raises(PackageError, match="2 source roots"):
        write_package([str(a), str(b)], "img:1", str(tmp_path / "pkg.tgz"))
    assert not (tmp_path / "pkg.tgz").exists()


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda wf: wf.nodes[1].bindings.pop("x"), r"node n1 \(.*step\): input 'x' is not bound"),
        (lambda wf: wf.nodes[1].bindings.update(y=1), r"node n1 \(.*step\): unknown input 'y'"),
        (lambda wf: wf.nodes[1].bindings.update(x=_promise("n7", "o0")), r"node n1 .*input 'x' is bound to node 'n7'"),
        (lambda wf: wf.nodes[1].bindings.update(x=_promise("n0", "o3")), r"input 'x' is bound to 'o3', which node n0"),
        (lambda wf: wf.output_bindings.pop("o0"), r"output 'o0' is not bound"),
    ],
)
def test_validation_rechecks_the_traced_graph(tmp_path, mutate, message):
    path = write_flow(
        tmp_path,
        """
        @task
        def step(x: int) -> int:
            return x

        @workflow
        def wf(x: int) -> int:
            return step(x=step(x=x))
        """,
    )
    wf = load_entity(str(path), "wf")
    mutate(wf)
    with pytest.raises(CompileError, match=message) as raised:
        validate_workflow(wf)
    assert f"workflow {path.stem}.wf" in str(raised.value)


def _promise(node_id: str, var: str):
    from sdk.authoring.promise import Promise

    return Promise(node_id, var, int)


def test_an_empty_workflow_is_rejected(tmp_path):
    path = write_flow(
        tmp_path,
        """
        @workflow
        def wf(x: int) -> int:
            return x
        """,
    )
    assert_fails_without_output(path, tmp_path, f"workflow {path.stem}.wf: has no nodes")


def test_compiled_closure_has_start_and_end_nodes_and_loads_in_flytekit(project, tmp_path):
    from flytekit.models.core.compiler import CompiledWorkflowClosure
    from flytekit.remote.entities import FlyteWorkflow

    from sdk.compile.closure import compile_closure

    output = tmp_path / "pkg.tgz"
    write_package([str(project / "pipeline.py")], "img:1", str(output))
    members = tar_members(output)
    tasks = {}
    for name in ("0_pipeline.square_1.pb", "1_pipeline.greet_1.pb"):
        template = task_pb2.TaskSpec.FromString(members[name]).template
        tasks[template.id.name] = template
    closure = compile_closure(workflow_pb2.WorkflowSpec.FromString(members["2_pipeline.pipeline_2.pb"]), tasks)
    primary = closure.primary
    assert [n.id for n in primary.template.nodes] == ["start-node", "end-node", "n0", "n1"]
    assert {k: list(v.ids) for k, v in primary.connections.upstream.items()} == {
        "n0": ["start-node"], "n1": ["n0", "start-node"], "end-node": ["n1"]
    }
    assert {k: list(v.ids) for k, v in primary.connections.downstream.items()} == {
        "start-node": ["n0", "n1"], "n0": ["n1"], "n1": ["end-node"]
    }
    greet = primary.template.nodes[3]
    assert {b.var: b.binding.promise.node_id for b in greet.inputs} == {"name": "start-node", "total": "n0"}
    assert sorted(t.template.id.name for t in closure.tasks) == ["pipeline.greet", "pipeline.square"]
    remote = FlyteWorkflow.promote_from_closure(CompiledWorkflowClosure.from_flyte_idl(closure))
    assert [n.id for n in remote.flyte_nodes] == ["n0", "n1"]


def test_code_bundle_honours_gitignore_and_flyteignore(project, tmp_path):
    (project / ".gitignore").write_text("# build output\n*.tgz\nbuild/\n")
    (project / ".flyteignore").write_text("/secrets.txt\n")
    (project / "old.tgz").write_bytes(b"an older package")
    (project / "build").mkdir()
    (project / "build" / "x.py").write_text("")
    (project / "secrets.txt").write_text("s3cr3t")
    (project / "sub").mkdir()
    (project / "sub" / "secrets.txt").write_text("kept: only the root one is ignored")
    output = tmp_path / "pkg.tgz"
    contents = write_package([str(project / "pipeline.py")], "img:1", str(output))
    with tarfile.open(fileobj=io.BytesIO(tar_members(output)[contents.bundle])) as tar:
        assert sorted(tar.getnames()) == [".flyteignore", ".gitignore", "data.csv", "pipeline.py", "sub/secrets.txt"]

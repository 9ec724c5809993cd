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

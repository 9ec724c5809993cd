"""`skiff register` and `skiff package` against Flyte's own flyteadmin (Flyte 1.16 line): every
construct is accepted, registering again changes nothing, nothing is ever half-registered, and
flytectl registers Skiff's packages as it registers pyflyte's."""
from __future__ import annotations

import io
import subprocess
import tarfile

import grpc
import pytest
from flyteidl.admin import (common_pb2, matchable_resource_pb2, project_domain_attributes_pb2,
                           project_pb2, task_pb2, workflow_pb2)
from flyteidl.core import identifier_pb2

from sdk.compile.hydrate import hydrate
from sdk.compile.package import write_package
from sdk.compile.package_reader import read_package
from sdk.remote.data import read_uri
from sdk.remote.register import comparable, fetch_registered
from sdk.remote.specs import LAUNCH_PLAN, TASK, WORKFLOW

from refused_packages import EXPECTED, bad_entities, refused_package
from flyteadmin_support import (
    CONFORMANCE, HERE, IMAGE, PROJECT, cleared, cli, entry_names, pyflyte_package,
)

DOMAIN = "development"


def _get(remote, kind, name, version):
    method = {TASK: "GetTask", WORKFLOW: "GetWorkflow", LAUNCH_PLAN: "GetLaunchPlan"}[kind]
    ident = identifier_pb2.Identifier(resource_type=kind, project=PROJECT, domain=DOMAIN,
                                      name=name, version=version)
    try:
        return getattr(remote.connection.admin._stub, method)(
            common_pb2.ObjectGetRequest(id=ident))
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.NOT_FOUND, error
        return None


def _register(capsys, config, package, version):
    return cli(capsys, "register", package, "--project", PROJECT, "--domain", DOMAIN,
               "--version", version, *config)


@pytest.mark.parametrize("name", ["twins", "admitted", "examples"])
def test_every_construct_registers_unchanged_and_again_changes_nothing(admin, packages, capsys,
                                                                       name):
    remote, config = admin
    package = packages[name]
    code, out, err = _register(capsys, config, package, "c1")
    assert code == 0, err
    contents = read_package(package)
    assert out.count("registered ") == len(contents.entities)
    bundle_uri = None
    for entity in contents.entities:
        ident = identifier_pb2.Identifier(resource_type=entity.kind, project=PROJECT,
                                          domain=DOMAIN, name=entity.name, version="c1")
        registered = fetch_registered(remote.connection, entity.kind, ident)
        assert registered is not None, entity.entry
        if entity.kind == TASK:
            args = list(registered.template.container.args)
            bundle_uri = args[args.index("--code-bundle") + 1] if "--code-bundle" in args else bundle_uri
            ours = hydrate(TASK, entity.spec, PROJECT, DOMAIN, "c1", bundle_uri)
            assert registered.template == ours.template, entity.entry  # byte for byte
        else:
            ours = hydrate(entity.kind, entity.spec, PROJECT, DOMAIN, "c1", None)
            assert comparable(entity.kind, registered) == comparable(entity.kind, ours), entity.entry
    # The code bundle went up through the data proxy whole (a bad Content-Length is refused).
    assert bundle_uri and read_uri(remote.connection, bundle_uri) == contents.bundle

    code, out, err = _register(capsys, config, package, "c1")
    assert code == 0, err
    assert "registered " not in out
    assert out.count("unchanged ") == len(contents.entities)


def test_a_branch_keeps_its_node_ids_through_the_round_trip(admin, packages, capsys):
    """flyteadmin's compiler renames a branch's case nodes `<branch>-<node>`; what Skiff reads
    back is the spec it sent."""
    remote, config = admin
    assert _register(capsys, config, packages["admitted"], "c1")[0] == 0
    compiled = _get(remote, WORKFLOW, "admitted.choose", "c1").closure.compiled_workflow
    branch = next(n for n in compiled.primary.template.nodes if n.HasField("branch_node"))
    assert branch.branch_node.if_else.case.then_node.id.startswith(branch.id + "-")
    ident = compiled.primary.template.id
    spec = fetch_registered(remote.connection, WORKFLOW, ident)
    ours = next(e for e in read_package(packages["admitted"]).entities
                if e.name == "admitted.choose" and e.kind == WORKFLOW).spec
    case_ids = lambda s: [n.branch_node.if_else.case.then_node.id  # noqa: E731
                          for n in s.template.nodes if n.HasField("branch_node")]
    assert case_ids(spec) == case_ids(ours)


def test_the_same_version_with_another_spec_is_refused_and_registers_nothing(
        admin, packages, tmp_path, capsys):
    remote, config = admin
    assert _register(capsys, config, packages["admitted"], "c2")[0] == 0
    changed = tmp_path / "changed.tgz"  # another image for every task, and one more entity
    source = tmp_path / "src"
    source.mkdir()
    text = (HERE / "workflows" / "admitted.py").read_text()
    (source / "admitted.py").write_text(text + "\n\n@task\ndef extra(x: int) -> int:\n    return x\n")
    write_package([str(source / "admitted.py")], "conformance:2", str(changed))
    code, out, err = _register(capsys, config, changed, "c2")
    assert code == 2
    assert "task 'admitted.heavy' version 'c2'" in err and "different spec" in err
    assert "nothing was registered" in err and out == ""
    assert _get(remote, TASK, "admitted.extra", "c2") is None


def _without(package, tmp_path, entry_suffix: str):
    """A copy of `package` without the entry whose name ends with `entry_suffix`."""
    copy = tmp_path / f"without{entry_suffix}.tgz"
    with tarfile.open(package) as source, tarfile.open(copy, "w:gz") as target:
        for member in source.getmembers():
            if not member.name.endswith(entry_suffix):
                target.addfile(member, source.extractfile(member))
    return copy


def test_a_reference_to_nothing_is_refused_before_anything_is_created(admin, packages, tmp_path,
                                                                      capsys):
    """The launch plan a branch case calls is neither in the package nor registered: flyteadmin
    would refuse the workflow after its tasks were created; Skiff refuses the package."""
    remote, config = admin
    broken = _without(packages["admitted"], tmp_path, "_admitted_halve_lp_3.pb")
    code, out, err = _register(capsys, config, broken, "c3")
    assert code == 2
    assert "workflow 'admitted.choose' node 'n2' references" in err  # a branch case
    assert "launch plan 'admitted_halve_lp' version 'c3'" in err
    assert "nothing was registered" in err
    for kind, name in [(TASK, "admitted.double"), (WORKFLOW, "admitted.halve")]:
        assert _get(remote, kind, name, "c3") is None


def test_a_package_in_another_order_registers_what_is_called_first(admin, packages, tmp_path,
                                                                 capsys):
    """Skiff's earlier packages held tasks, then workflows, then launch plans: a workflow came
    before the launch plan it calls, which flyteadmin refuses. Registration creates what an
    entity references first, whatever the package's order."""
    remote, config = admin
    grouped = tmp_path / "grouped.tgz"
    with tarfile.open(packages["admitted"]) as source, tarfile.open(grouped, "w:gz") as target:
        members = [m for m in source.getmembers() if m.name.endswith(".pb")]
        members.sort(key=lambda m: (m.name[-4], int(m.name.split("_", 1)[0])))  # by kind
        for number, member in enumerate(members):
            data = source.extractfile(member).read()
            member.name = f"{number:02d}_{member.name.split('_', 1)[1]}"
            target.addfile(member, io.BytesIO(data))
        for member in source.getmembers():
            if member.name.endswith(".tar.gz"):
                target.addfile(member, source.extractfile(member))
    names = entry_names(grouped)
    position = lambda suffix: next(i for i, n in enumerate(names) if n.endswith(suffix))  # noqa: E731
    assert position("_admitted.choose_2.pb") < position("_admitted_halve_lp_3.pb")
    code, out, err = _register(capsys, config, grouped, "c6")
    assert code == 0, err
    assert _get(remote, LAUNCH_PLAN, "admitted.choose", "c6") is not None


def test_a_pyflyte_package_with_a_subworkflow_failure_node_registers(admin, tmp_path, capsys):
    """flytekit's own package: the subworkflow's failure node is hydrated as flytectl does."""
    remote, config = admin
    package = pyflyte_package(HERE / "flytekit", ["careful"], tmp_path / "careful.tgz")
    for _ in range(2):
        code, _out, err = _register(capsys, config, package, "c4")
        assert code == 0, err
    compiled = _get(remote, WORKFLOW, "careful.calls_careful", "c4").closure.compiled_workflow
    failure = compiled.sub_workflows[0].template.failure_node.task_node.reference_id
    assert (failure.project, failure.domain, failure.version) == (PROJECT, DOMAIN, "c4")


def test_skiff_package_order_is_pyflytes_and_flytectl_registers_it(flyteadmin, admin, packages,
                                                                   tmp_path, capsys):
    """What a workflow calls comes before it, as pyflyte writes it; flytectl registers Skiff's
    package in that order, and the same package sent by `skiff register` then changes nothing."""
    remote, config = admin
    flytekit = pyflyte_package(HERE.parent / "sdk" / "conformance" / "flytekit",
                               ["chain", "nested", "policy"], tmp_path / "flytekit.tgz")
    skiff = tmp_path / "skiff.tgz"
    write_package([str(CONFORMANCE / "skiff" / f"{m}.py") for m in ["chain", "nested", "policy"]],
                  IMAGE, str(skiff))
    assert entry_names(skiff) == entry_names(flytekit)
    result = subprocess.run(
        [flyteadmin["flytectl"], "register", "files", str(packages["twins"]), "--archive",
         "--project", PROJECT, "--domain", DOMAIN, "--version", "c5"],
        env={"FLYTECTL_CONFIG": flyteadmin["flytekit_config"], "PATH": "/usr/bin:/bin",
             "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # flytectl hydrates as Skiff does: the same closures and launch plans as `skiff register`
    # gave under c1. Its tasks differ only in the code bundle's location (flytectl uploads the
    # bundle decompressed, under the MD5 of the tar; Skiff uploads the package's bytes).
    assert _register(capsys, config, packages["twins"], "c1")[0] == 0
    for entity in read_package(packages["twins"]).entities:
        flytectl_side, skiff_side = (_get(remote, entity.kind, entity.name, v) for v in ("c5", "c1"))
        if entity.kind == WORKFLOW:
            flytectl_side, skiff_side = (_without_tasks(w) for w in (flytectl_side, skiff_side))
        elif entity.kind == LAUNCH_PLAN:
            flytectl_side, skiff_side = flytectl_side.spec, skiff_side.spec
        else:
            flytectl_side, skiff_side = (_without_bundle(t.closure.compiled_task.template)
                                         for t in (flytectl_side, skiff_side))
        assert cleared(flytectl_side, ("version",)) == cleared(skiff_side, ("version",)), entity.entry


def _without_tasks(workflow):
    """The compiled workflow without its copies of the tasks (compared as tasks)."""
    compiled = workflow.closure.compiled_workflow
    compiled.ClearField("tasks")
    return compiled


def _without_bundle(template):
    copy = type(template).FromString(template.SerializeToString())
    args = list(copy.container.args)
    if "--code-bundle" in args:
        del copy.container.args[args.index("--code-bundle") + 1]
    return copy


# ---- what only flyteadmin's validators and compiler refuse, refused before anything is created

def _listed(remote, kind: int, version: str) -> list[str]:
    """Names of the entities of `kind` registered under `version` in the project."""
    stub = remote.connection.admin._stub
    ids = getattr(stub, {TASK: "ListTaskIds", WORKFLOW: "ListWorkflowIds"}[kind])(
        common_pb2.NamedEntityIdentifierListRequest(project=PROJECT, domain=DOMAIN, limit=1000))
    found = []
    for entity in ids.entities:
        listing = getattr(stub, {TASK: "ListTasks", WORKFLOW: "ListWorkflows"}[kind])(
            common_pb2.ResourceListRequest(id=entity, limit=1000))
        entries = listing.tasks if kind == TASK else listing.workflows
        found += [e.id.name for e in entries if e.id.version == version]
    return found


def test_what_the_compiler_or_validator_would_refuse_registers_nothing(admin, packages, tmp_path,
                                                                       capsys):
    """N good tasks and workflows plus workflows propeller's compiler refuses (a cycle, an
    unbound input, a type mismatch) and a task flyteadmin's validator refuses (a request above
    its limit): one error naming each, and flyteadmin lists nothing of that version."""
    remote, config = admin
    broken = refused_package(tmp_path)
    code, out, err = _register(capsys, config, broken, "r1")
    assert code == 2, err
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    for expected in EXPECTED:
        assert expected in err
    assert "nothing was registered" in err and out == ""
    assert _listed(remote, TASK, "r1") == [] and _listed(remote, WORKFLOW, "r1") == []
    # The oracle: flyteadmin itself refuses each entity Skiff refused (the workflows once the
    # tasks they call are registered).
    assert _register(capsys, config, packages["admitted"], "r2")[0] == 0
    stub = remote.connection.admin._stub
    for kind, spec in bad_entities(broken):
        name = spec.template.id.name
        ident = identifier_pb2.Identifier(resource_type=kind, project=PROJECT, domain=DOMAIN,
                                          name=name, version="r2")
        hydrated = hydrate(kind, spec, PROJECT, DOMAIN, "r2", "s3://b/x.tar.gz")
        with pytest.raises(grpc.RpcError) as refused:
            if kind == TASK:
                stub.CreateTask(task_pb2.TaskCreateRequest(id=ident, spec=hydrated))
            else:
                stub.CreateWorkflow(workflow_pb2.WorkflowCreateRequest(id=ident, spec=hydrated))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, name


def test_a_task_above_the_projects_resource_limits_registers_nothing(admin, packages, capsys):
    """flyteadmin validates tasks against its TASK_RESOURCE attributes when a project has
    them; Skiff reads them first and refuses the package whole."""
    remote, config = admin
    stub = remote.connection.admin._stub
    project = "skiff-limits"
    try:
        stub.RegisterProject(project_pb2.ProjectRegisterRequest(
            project=project_pb2.Project(id=project, name=project)))
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.ALREADY_EXISTS, error
    attributes = matchable_resource_pb2.MatchingAttributes(
        task_resource_attributes=matchable_resource_pb2.TaskResourceAttributes(
            limits=matchable_resource_pb2.TaskResourceSpec(memory="256Mi")))
    stub.UpdateProjectDomainAttributes(
        project_domain_attributes_pb2.ProjectDomainAttributesUpdateRequest(
            attributes=project_domain_attributes_pb2.ProjectDomainAttributes(
                project=project, domain=DOMAIN, matching_attributes=attributes)))
    code, out, err = cli(capsys, "register", packages["admitted"], "--project", project,
                         "--domain", DOMAIN, "--version", "l1", *config)
    assert code == 2, err
    assert "task 'admitted.heavy': memory limit 512Mi is above the admin's platform limit " \
           "256Mi" in err and "nothing was registered" in err
    listed = stub.ListTaskIds(common_pb2.NamedEntityIdentifierListRequest(
        project=project, domain=DOMAIN, limit=100))
    assert list(listed.entities) == []
    # The oracle: flyteadmin refuses that task itself.
    heavy = next(e.spec for e in read_package(packages["admitted"]).entities
                 if e.name == "admitted.heavy")
    ident = identifier_pb2.Identifier(resource_type=TASK, project=project, domain=DOMAIN,
                                      name="admitted.heavy", version="l1")
    with pytest.raises(grpc.RpcError) as refused:
        stub.CreateTask(task_pb2.TaskCreateRequest(
            id=ident, spec=hydrate(TASK, heavy, project, DOMAIN, "l1", "s3://b/x.tar.gz")))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT

"""Skiff's admin against Flyte's own flyteadmin: the same packages registered in both (raw
AdminService stubs, in dependency order) give the same GetWorkflow closures byte for byte once
identifiers are cleared, and the same bad requests are refused with the same gRPC codes."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest
from flyteidl.admin import common_pb2, launch_plan_pb2, task_pb2, workflow_pb2
from flyteidl.core import identifier_pb2
from flyteidl.service import admin_pb2_grpc
from google.protobuf.message import Message

from sandbox.admin.client_config import local_channel
from sdk.compile.hydrate import hydrate
from sdk.compile.idl_walk import template_nodes
from sdk.compile.package import write_package
from sdk.compile.package_reader import LAUNCH_PLAN, TASK, WORKFLOW, read_package

ROOT = Path(__file__).resolve().parents[2]
# Every construct: chains, defaults, fixed inputs, subworkflows, launch plan nodes, conditionals
# (nested, .fail, is_none), map tasks, @dynamic, files and dataclasses, failure policies with
# on_failure, gates and overrides. meta.py is left out: its task asks for 2Gi of memory, over
# this flyteadmin's platform limit (a setting of the cluster, not of its compiler).
SOURCE_TREES = [sorted(p for p in (ROOT / "tests/sdk/conformance/skiff").glob("*.py")
                       if p.name != "meta.py"), sorted((ROOT / "examples").glob("*.py"))]
PROJECT, DOMAIN = "flytesnacks", "development"
BUNDLE = "s3://bucket/fast/bundle.tar.gz"  # the same string in both, nothing is run


def _stub(endpoint: str):
    return admin_pb2_grpc.AdminServiceStub(grpc.insecure_channel(endpoint))


@pytest.fixture(scope="module")
def admins(sandbox_home, flyteadmin):
    skiff = admin_pb2_grpc.AdminServiceStub(local_channel(sandbox_home))  # needs a token
    return _stub(flyteadmin["grpc"]), skiff


class _Entities:
    def __init__(self, entities):
        self.entities = entities


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """The entities of one package per source tree (a package holds one tree)."""
    root = tmp_path_factory.mktemp("oracle")
    entities = []
    for number, files in enumerate(SOURCE_TREES):
        out = root / f"tree{number}.tgz"
        write_package([str(p) for p in files], "img:1", str(out))
        entities.extend(read_package(out).entities)
    return _Entities(entities)


def _ident(kind: int, name: str, version: str, project: str = PROJECT):
    return identifier_pb2.Identifier(resource_type=kind, project=project, domain=DOMAIN,
                                     name=name, version=version)


def _create(stub, kind: int, ident, spec) -> str:
    """"OK" or the gRPC code's name."""
    try:
        if kind == TASK:
            stub.CreateTask(task_pb2.TaskCreateRequest(id=ident, spec=spec))
        elif kind == WORKFLOW:
            stub.CreateWorkflow(workflow_pb2.WorkflowCreateRequest(id=ident, spec=spec))
        else:
            stub.CreateLaunchPlan(launch_plan_pb2.LaunchPlanCreateRequest(id=ident,
                                                                          spec=spec.spec))
        return "OK"
    except grpc.RpcError as error:
        return error.code().name


def _calls(entity) -> set:
    """(kind, name) of what an entity needs registered first."""
    if entity.kind == LAUNCH_PLAN:
        return {(WORKFLOW, entity.spec.spec.workflow_id.name)}
    if entity.kind != WORKFLOW:
        return set()
    needs = set()
    for template in [entity.spec.template, *entity.spec.sub_workflows]:
        for node in template_nodes(template):
            if node.WhichOneof("target") == "workflow_node" and \
                    node.workflow_node.HasField("launchplan_ref"):
                needs.add((LAUNCH_PLAN, node.workflow_node.launchplan_ref.name))
    return needs


def _dependency_order(entities) -> list:
    todo, done, order = list(entities), set(), []
    while todo:
        ready = [e for e in todo if _calls(e) <= done] or todo[:1]
        for entity in ready:
            todo.remove(entity)
            order.append(entity)
            done.add((entity.kind, entity.name))
    return order


def _cleared(message: Message) -> Message:
    """Project, domain and version cleared in every identifier, in place."""
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.full_name == "flyteidl.core.Identifier":
            for ident in (value if field.is_repeated else [value]):
                ident.project = ident.domain = ident.version = ""
        elif field.message_type.GetOptions().map_entry:
            for item in value.values():
                if isinstance(item, Message):
                    _cleared(item)
        elif field.is_repeated:
            for item in value:
                _cleared(item)
        else:
            _cleared(value)
    return message


def _register_all(admins, entities, version):
    """Every entity created in both admins; {(kind, name): (flyteadmin's code, Skiff's)}."""
    results = {}
    for entity in _dependency_order(entities):
        ident = _ident(entity.kind, entity.name, version)
        spec = hydrate(entity.kind, entity.spec, PROJECT, DOMAIN, version, BUNDLE)
        results[(entity.kind, entity.name)] = tuple(_create(s, entity.kind, ident, spec)
                                                    for s in admins)
    return version, results


@pytest.fixture(scope="module")
def registered(admins, package):
    return _register_all(admins, package.entities, f"v{uuid.uuid4().hex[:10]}")


def _compare_closures(admins, version, results) -> list[str]:
    flyte, skiff = admins
    compared = []
    for (kind, name), codes in results.items():
        if kind != WORKFLOW or codes != ("OK", "OK"):
            continue
        get = common_pb2.ObjectGetRequest(id=_ident(WORKFLOW, name, version))
        theirs = _cleared(flyte.GetWorkflow(get).closure.compiled_workflow)
        ours = _cleared(skiff.GetWorkflow(get).closure.compiled_workflow)
        assert ours.SerializeToString(deterministic=True) == \
            theirs.SerializeToString(deterministic=True), f"{name}:\n{ours}\n!=\n{theirs}"
        compared.append(name)
    return compared


def test_both_admins_accept_and_refuse_the_same_entities(registered):
    _, results = registered
    differing = {k: v for k, v in results.items() if v[0] != v[1]}
    assert not differing, differing
    # Comparisons with None (is_none) are refused by this flyteadmin's compiler, and so by Skiff.
    assert results[(WORKFLOW, "branches.nones")] == ("INVALID_ARGUMENT", "INVALID_ARGUMENT")
    assert sum(1 for k, v in results.items() if k[0] == WORKFLOW and v == ("OK", "OK")) >= 20


def test_closures_equal_flyteadmins_byte_for_byte(admins, registered):
    compared = _compare_closures(admins, *registered)
    # The constructs whose closures used to differ are among those compared.
    for name in ("branches.signs", "branches.reuse", "mapping.scaled", "policy.guarded",
                 "gates.gated", "nested.outer", "control_flow.report"):
        assert name in compared


def test_pyflyte_packages_compile_the_same_in_both(admins, tmp_path):
    """flytekit's twins of the same constructs, packaged by pyflyte, registered in both."""
    twins = ROOT / "tests/sdk/conformance/flytekit"
    out = tmp_path / "pyflyte.tgz"
    modules = [arg for p in sorted(twins.glob("*.py")) if p.name != "meta.py"
               for arg in ("--pkgs", p.stem)]
    subprocess.run([sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte", *modules,
                    "package", "--image", "img:1", "--fast", "-o", str(out), "--force"],
                   cwd=twins, check=True, capture_output=True,
                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    version, results = _register_all(admins, read_package(out).entities,
                                     f"k{uuid.uuid4().hex[:10]}")
    assert {k: v for k, v in results.items() if v[0] != v[1]} == {}
    assert len(_compare_closures(admins, version, results)) >= 20


# ---- refusals ---------------------------------------------------------------------------------

def _spec(package, kind, name, version):
    entity = next(e for e in package.entities if e.kind == kind and e.name == name)
    return hydrate(kind, entity.spec, PROJECT, DOMAIN, version, BUNDLE)


def _both(admins, kind, ident, spec) -> tuple[str, str]:
    return tuple(_create(stub, kind, ident, spec) for stub in admins)


def _register_tasks(admins, package, version, names):
    for name in names:
        spec = _spec(package, TASK, name, version)
        assert _both(admins, TASK, _ident(TASK, name, version), spec) == ("OK", "OK")


def test_workflow_calling_a_missing_task_or_launch_plan_is_refused(admins, package):
    version = f"m{uuid.uuid4().hex[:10]}"
    spec = _spec(package, WORKFLOW, "chain.pipeline", version)  # its tasks are not registered
    assert _both(admins, WORKFLOW, _ident(WORKFLOW, "chain.pipeline", version), spec) == \
        ("INVALID_ARGUMENT", "INVALID_ARGUMENT")
    _register_tasks(admins, package, version, ["nested.add"])
    outer = _spec(package, WORKFLOW, "nested.outer", version)  # calls nested_inner_lp
    assert _both(admins, WORKFLOW, _ident(WORKFLOW, "nested.outer", version), outer) == \
        ("INVALID_ARGUMENT", "INVALID_ARGUMENT")
    plan = _spec(package, LAUNCH_PLAN, "nested_inner_lp", version)  # its workflow is missing
    assert _both(admins, LAUNCH_PLAN, _ident(LAUNCH_PLAN, "nested_inner_lp", version), plan) \
        == ("NOT_FOUND", "NOT_FOUND")


def test_cycles_bad_bindings_and_bad_failure_nodes_are_refused(admins, package):
    version = f"c{uuid.uuid4().hex[:10]}"
    _register_tasks(admins, package, version, ["chain.square", "chain.greet", "chain.shout",
                                               "policy.double", "policy.report"])
    base = _spec(package, WORKFLOW, "chain.pipeline", version)
    cases = {}
    cycle = type(base).FromString(base.SerializeToString())
    cycle.template.nodes[0].upstream_node_ids.append(cycle.template.nodes[-1].id)
    cases["cycle"] = cycle
    unknown_output = type(base).FromString(base.SerializeToString())
    for binding in unknown_output.template.nodes[-1].inputs:
        if binding.binding.promise.node_id:
            binding.binding.promise.var = "no_such_output"
    cases["unknown output"] = unknown_output
    unknown_input = type(base).FromString(base.SerializeToString())
    unknown_input.template.nodes[0].inputs.add(var="no_such_input").binding.CopyFrom(
        unknown_input.template.nodes[0].inputs[0].binding)
    cases["unknown input"] = unknown_input
    unbound = type(base).FromString(base.SerializeToString())
    del unbound.template.nodes[0].inputs[:]
    cases["unbound input"] = unbound
    # A subworkflow whose failure node runs a task that is not registered.
    guarded = _spec(package, WORKFLOW, "policy.reported", version)
    with_sub = type(base).FromString(base.SerializeToString())
    sub = with_sub.sub_workflows.add()
    sub.CopyFrom(guarded.template)
    sub.id.name = "policy.reported_sub"
    sub.failure_node.task_node.reference_id.name = "policy.not_registered"
    node = with_sub.template.nodes.add(id="nsub")
    node.workflow_node.sub_workflow_ref.CopyFrom(sub.id)
    node.inputs.add(var="a").binding.promise.var = "n"
    cases["subworkflow failure node"] = with_sub
    for what, spec in cases.items():
        name = f"refused.{what.replace(' ', '_')}"
        spec.template.id.name = name
        assert _both(admins, WORKFLOW, _ident(WORKFLOW, name, version), spec) == \
            ("INVALID_ARGUMENT", "INVALID_ARGUMENT"), what


def test_bad_identifiers_are_invalid_arguments_never_internal(admins, package):
    flyte, skiff = admins
    version = f"i{uuid.uuid4().hex[:10]}"
    spec = _spec(package, TASK, "chain.square", version)
    wrong_type = _ident(WORKFLOW, "chain.square", version)
    assert _both(admins, TASK, wrong_type, spec) == ("INVALID_ARGUMENT", "INVALID_ARGUMENT")
    assert _both(admins, TASK, _ident(TASK, "chain.square", ""), spec) == \
        ("INVALID_ARGUMENT", "INVALID_ARGUMENT")
    assert _both(admins, TASK, _ident(TASK, "chain.square", version, project="nope"), spec) == \
        ("INVALID_ARGUMENT", "INVALID_ARGUMENT")
    # flyteadmin leaves NUL to its database (UNKNOWN) and a 5000-character project to gRPC's
    # header limit (RESOURCE_EXHAUSTED); it stores `..` names and names beyond its columns'
    # declared 255 characters. Skiff refuses all of them up front.
    assert _create(flyte, TASK, _ident(TASK, "a\x00b", version), spec) == "UNKNOWN"
    for ident in (_ident(TASK, "a\x00b", version), _ident(TASK, "chain.square", "v\x00"),
                  _ident(TASK, "../../etc", version), _ident(TASK, "n" * 300, version),
                  _ident(TASK, "chain.square", version, project="p" * 5000)):
        assert _create(skiff, TASK, ident, spec) == "INVALID_ARGUMENT", ident.name[:20]

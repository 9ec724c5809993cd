"""`skiff promote` across development, staging and production on Flyte's own flyteadmin: task,
workflow and launch plan specs arrive byte for byte apart from the domain. Nothing runs on this
admin, so promotion is forced (`--force`); Skiff's admin is tested without it in
tests/sandbox/test_remote_bridge.py."""
from __future__ import annotations

import json

import pytest
from flyteidl.admin import common_pb2
from flyteidl.core import identifier_pb2

from flyteadmin_support import PROJECT, cleared, cli

DOMAINS = ["development", "staging", "production"]
KINDS = {"task": (identifier_pb2.TASK, "GetTask"), "workflow": (identifier_pb2.WORKFLOW, "GetWorkflow"),
         "launch_plan": (identifier_pb2.LAUNCH_PLAN, "GetLaunchPlan")}
# A conditional with .fail, subworkflow and launch plan cases and a nested conditional; a
# subworkflow with a failure node; launch plan and subworkflow nodes; a failure policy with
# on_failure and node overrides; a map task with overrides; a gate.
PROMOTED = [("admitted", "admitted.choose"), ("admitted", "admitted.calls_careful"),
            ("twins", "nested.outer"), ("twins", "policy.guarded"), ("twins", "mapping.tuned"),
            ("twins", "gates.gated")]


def _fetch(remote, kind: str, name: str, domain: str, version: str):
    """What GetTask/GetWorkflow/GetLaunchPlan answer, less what the admin stamps on its own
    (creation times, a launch plan's state)."""
    resource, method = KINDS[kind]
    ident = identifier_pb2.Identifier(resource_type=resource, project=PROJECT, domain=domain,
                                      name=name, version=version)
    answer = getattr(remote.connection.admin._stub, method)(common_pb2.ObjectGetRequest(id=ident))
    if kind == "task":
        return answer.closure.compiled_task
    if kind == "workflow":
        return answer.closure.compiled_workflow
    answer.closure.ClearField("created_at")
    answer.closure.ClearField("updated_at")
    answer.closure.ClearField("state")
    return answer


@pytest.fixture(scope="module")
def registered(admin, packages):
    remote, config = admin
    from sandbox.cli import main

    for package in packages.values():
        assert main(["register", str(package), "--project", PROJECT, "--domain", "development",
                     "--version", "p1", *config]) == 0
    return remote, config


@pytest.mark.parametrize("package,name", PROMOTED)
def test_promotion_copies_specs_byte_for_byte_apart_from_the_domain(
        registered, capsys, monkeypatch, tmp_path, package, name):
    remote, config = registered
    monkeypatch.setenv("SKIFF_HOME", str(tmp_path))  # the local promotion record goes here
    records = []
    for source, target in zip(DOMAINS, DOMAINS[1:]):
        code, out, err = cli(capsys, "promote", name, "--version", "p1", "--from", source,
                             "--to", target, "--project", PROJECT, "--force", "--json", *config)
        assert code == 0, err
        records.append(json.loads(out))
    record = records[0]
    assert record["forced"] and f"workflow:{name}" in record["entities"]
    assert records[1]["entities"] == record["entities"]
    for entry in record["entities"]:
        kind, entity = entry.split(":", 1)
        answers = [_fetch(remote, kind, entity, domain, "p1") for domain in DOMAINS]
        for domain, answer in zip(DOMAINS, answers):
            assert cleared(answer) == cleared(answers[0]), f"{entry} in {domain}"
    # Branch case nodes keep their ids (`n1-n0`, never `n1-n1-n0`) in every domain.
    ids = lambda wf: sorted(n.id for n in _nested(wf.primary.template.nodes))  # noqa: E731
    workflows = [_fetch(remote, "workflow", name, domain, "p1") for domain in DOMAINS]
    assert ids(workflows[2]) == ids(workflows[1]) == ids(workflows[0])


def test_promoting_again_changes_nothing(registered, capsys, monkeypatch, tmp_path):
    remote, config = registered
    monkeypatch.setenv("SKIFF_HOME", str(tmp_path))
    for _ in range(2):
        code, out, err = cli(capsys, "promote", "admitted.choose", "--version", "p1", "--from",
                             "development", "--to", "staging", "--project", PROJECT, "--force",
                             "--json", *config)
        assert code == 0, err
    assert json.loads(out)["created"] == []


def _nested(nodes):
    from sdk.compile.idl_walk import nested_nodes

    return list(nested_nodes(nodes))


def test_without_force_a_version_never_run_is_not_promoted(registered, capsys, monkeypatch,
                                                           tmp_path):
    """Nothing runs on this admin (its executions fail at once): promotion needs --force."""
    import grpc

    remote, config = registered
    monkeypatch.setenv("SKIFF_HOME", str(tmp_path))
    code, out, err = cli(capsys, "promote", "admitted.metadata", "--version", "p1", "--from",
                         "development", "--to", "staging", "--project", PROJECT, *config)
    assert code == 2 and "no succeeded execution" in err and "--force" in err
    with pytest.raises(grpc.RpcError) as missing:
        _fetch(remote, "workflow", "admitted.metadata", "staging", "p1")
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND

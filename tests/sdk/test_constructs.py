"""The workflow language in-process and its compile errors: conditionals, map tasks, @dynamic,
failure policies and handlers, overrides, gates."""
from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest

from sdk import run_locally
from sdk.compile.package import write_package
from sdk.errors import CompileError, ExecutionFailed
from sdk.loader import load_module

HEADER = """\
import typing
from datetime import timedelta
from sdk import (Resources, WorkflowFailurePolicy, approve, conditional, dynamic, map_task, sleep, task,
                 wait_for_input, workflow)

CALLS = []


@task
def double(x: int) -> int:
    CALLS.append(("double", x))
    return 2 * x


@task
def neg(x: int) -> int:
    CALLS.append(("neg", x))
    return -x


@task
def fragile(x: int) -> int:
    if x < 0:
        raise ValueError(f"negative item {x}")
    return x + 1


@task
def label(x: int) -> str:
    return str(x)
"""


def load(tmp_path: Path, body: str):
    """Import a module holding HEADER and `body`; returns the module."""
    root = tmp_path / f"flows_{uuid.uuid4().hex[:6]}"
    root.mkdir()
    path = root / f"wf_{uuid.uuid4().hex[:8]}.py"
    path.write_text(HEADER + textwrap.dedent(body))
    return load_module(str(path))


def compile_error(tmp_path: Path, body: str) -> str:
    """The CompileError message of tracing or packaging `body`; no package file is left."""
    output = tmp_path / "pkg.tgz"
    with pytest.raises(CompileError) as raised:
        module = load(tmp_path, body)
        write_package([module.__file__], "img:1", str(output))
    assert not output.exists()
    return str(raised.value)


# ---- conditionals ---------------------------------------------------------------------------------


BRANCHES = """
@workflow
def pick(a: int, b: int = 5) -> int:
    d = double(x=a)
    return (
        conditional("pick")
        .if_((a > 0) & (d < b))
        .then(double(x=a))
        .elif_((d == b) | (a >= 100))
        .then(neg(x=a))
        .else_()
        .fail("a must be positive")
    )


@workflow
def downstream(a: int) -> str:
    v = conditional("sign").if_(a < 0).then(neg(x=a)).else_().then(double(x=a))
    return label(x=v)
"""


def test_only_the_taken_branch_runs(tmp_path):
    module = load(tmp_path, BRANCHES)
    assert module.pick(a=2) == 4
    assert module.CALLS == [("double", 2), ("double", 2)]
    module.CALLS.clear()
    assert module.pick(a=100) == -100  # the elif: a >= 100
    assert module.CALLS == [("double", 100), ("neg", 100)]


def test_a_failing_else_names_workflow_and_conditional(tmp_path):
    module = load(tmp_path, BRANCHES)
    with pytest.raises(ExecutionFailed, match=r"workflow wf_\w+\.pick, conditional 'pick' \(node n1\).*a must be positive"):
        module.pick(a=-1)


def test_branch_outputs_feed_downstream_nodes(tmp_path):
    module = load(tmp_path, BRANCHES)
    assert (module.downstream(a=-3), module.downstream(a=4)) == ("3", "8")


def test_a_conditional_without_else_is_refused(tmp_path):
    message = compile_error(tmp_path, """
        @workflow
        def wf(a: int) -> int:
            return conditional("half").if_(a > 0).then(double(x=a))
        """)
    assert "workflow wf_" in message and "conditional 'half' (node n0) is left unfinished" in message


def test_branches_returning_different_types_are_refused(tmp_path):
    message = compile_error(tmp_path, """
        @workflow
        def wf(a: int) -> str:
            return conditional("mixed").if_(a > 0).then(double(x=a)).else_().then(label(x=a))
        """)
    assert "conditional 'mixed' (node n0): output 'o0' is int in one branch but str in another" in message
    assert "workflow wf_" in message


@pytest.mark.parametrize(
    "condition, fragment",
    [
        ("a", "a bare value is not a condition; write a.is_true()"),
        ("(a > 0) and (a < 3)", "has no truth value while the workflow is traced; join conditions with & and |"),
        ("True", "was evaluated by Python to True"),
    ],
)
def test_conditions_that_cannot_be_compiled_say_what_to_write(tmp_path, condition, fragment):
    message = compile_error(tmp_path, f"""
        @workflow
        def wf(a: int) -> int:
            return conditional("c").if_({condition}).then(double(x=a)).else_().then(neg(x=a))
        """)
    assert fragment in message


def test_a_case_with_two_calls_is_refused(tmp_path):
    message = compile_error(tmp_path, """
        @workflow
        def wf(a: int) -> int:
            return conditional("two").if_(a > 0).then(double(x=neg(x=a))).else_().then(neg(x=a))
        """)
    assert "conditional 'two' (node n0), if_: then(...) may hold one call, but 2 were made" in message


# ---- map tasks ------------------------------------------------------------------------------------


MAPS = """
@workflow
def strict(xs: typing.List[int]) -> typing.List[int]:
    return map_task(fragile, concurrency=2)(x=xs)


@workflow
def tolerant(xs: typing.List[int]) -> typing.List[typing.Optional[int]]:
    return map_task(fragile, min_success_ratio=0.5)(x=xs)
"""


def test_map_task_maps_items_and_keeps_failed_ones_as_none(tmp_path):
    module = load(tmp_path, MAPS)
    assert module.strict(xs=[1, 2, 3]) == [2, 3, 4]
    assert module.strict(xs=[]) == []
    assert module.tolerant(xs=[1, -1, 2, -2]) == [2, None, 3, None]


def test_map_task_fails_when_too_few_items_succeed(tmp_path):
    module = load(tmp_path, MAPS)
    with pytest.raises(ValueError, match="negative item -1"):
        module.strict(xs=[1, -1])
    with pytest.raises(ValueError, match="negative item -3"):
        module.tolerant(xs=[1, -1, -3])


def test_mapping_over_a_non_list_names_workflow_node_and_variable(tmp_path):
    message = compile_error(tmp_path, """
        @workflow
        def wf(a: int) -> typing.List[int]:
            return map_task(double)(x=a)
        """)
    assert "workflow wf_" in message and "node n0" in message and "map_double_" in message
    assert "input 'x' expects" in message


def test_map_task_accepts_only_single_output_plain_tasks(tmp_path):
    message = compile_error(tmp_path, """
        @workflow
        def inner(x: int) -> int:
            return double(x=x)

        mapped = map_task(inner)
        """)
    assert "can map only a plain @task" in message


# ---- @dynamic -------------------------------------------------------------------------------------


def test_dynamic_builds_its_graph_from_input_values(tmp_path):
    module = load(tmp_path, """
        @dynamic
        def fan(n: int) -> typing.List[str]:
            return [label(x=double(x=i)) for i in range(n)]

        @workflow
        def wf(n: int) -> typing.List[str]:
            return fan(n=n)
        """)
    assert module.wf(n=3) == ["0", "2", "4"]
    assert module.fan(n=2) == ["0", "2"]


# ---- failure policies and handlers ------------------------------------------------------------------


FAILING = """
@task
def boom(x: int) -> int:
    raise RuntimeError(f"boom on {x}")


@task
def report(a: int, err: typing.Optional[str] = None) -> None:
    CALLS.append(("report", err))


@workflow(on_failure=report)
def immediate(a: int) -> int:
    b = boom(x=a)
    double(x=a)
    return neg(x=b)


@workflow(failure_policy=WorkflowFailurePolicy.FAIL_AFTER_EXECUTABLE_NODES_COMPLETE, on_failure=report)
def patient(a: int) -> int:
    b = boom(x=a)
    double(x=a)
    return neg(x=b)
"""


def test_fail_immediately_stops_and_runs_the_handler(tmp_path):
    module = load(tmp_path, FAILING)
    with pytest.raises(RuntimeError, match="boom on 3"):
        module.immediate(a=3)
    assert module.CALLS == [("report", "n0: RuntimeError: boom on 3")]


def test_fail_after_executable_nodes_lets_independent_nodes_finish(tmp_path):
    module = load(tmp_path, FAILING)
    with pytest.raises(RuntimeError, match="boom on 3"):
        module.patient(a=3)
    # double (independent) ran, neg (downstream of the failure) did not, then the handler.
    assert module.CALLS == [("double", 3), ("report", "n0: RuntimeError: boom on 3")]


def test_a_handler_must_take_the_workflow_inputs(tmp_path):
    message = compile_error(tmp_path, """
        @task
        def handler(b: str) -> None:
            pass

        @workflow(on_failure=handler)
        def wf(a: int) -> int:
            return double(x=a)
        """)
    assert "on_failure handler" in message and "input 'a' is missing or differs" in message


# ---- overrides --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ("retries=-1", "with_overrides(retries=...) must be a whole number >= 0"),
        ("cache=True", "with_overrides(cache=True) needs cache_version"),
        ("requests={'cpu': '1'}", "with_overrides(requests=...) must be sdk.Resources"),
        ("timeout='soon'", "timeout must be seconds (int) or a timedelta"),
    ],
)
def test_bad_overrides_name_the_node(tmp_path, overrides, fragment):
    message = compile_error(tmp_path, f"""
        @workflow
        def wf(a: int) -> int:
            return double(x=a).with_overrides({overrides})
        """)
    assert "node n0" in message and fragment in message


def test_overrides_do_not_change_in_process_results(tmp_path):
    module = load(tmp_path, """
        @workflow
        def wf(a: int) -> int:
            return double(x=a).with_overrides(retries=3, limits=Resources(mem="1Gi"), name="twice")
        """)
    assert module.wf(a=4) == 8
    assert module.wf.nodes[0].overrides.name == "twice"


# ---- gates ------------------------------------------------------------------------------------------


GATES = """
@workflow
def gated(a: int) -> int:
    pause = sleep(timedelta(seconds=90))
    n = wait_for_input("count", timeout=timedelta(minutes=5), expected_type=int)
    d = double(x=n)
    pause >> d
    return neg(x=approve(d, "check", timeout=timedelta(hours=1)))
"""


def test_gates_ask_the_callbacks(tmp_path):
    module = load(tmp_path, GATES)
    asked = []
    result = run_locally(
        module.gated,
        {"a": 0},
        on_input=lambda name, kind: asked.append(("input", name, kind)) or 21,
        on_approve=lambda name, value: asked.append(("approve", name, value)) or True,
        sleep=lambda seconds: asked.append(("sleep", seconds)),
    )
    assert result == -42
    assert asked == [("sleep", 90.0), ("input", "count", int), ("approve", "check", 42)]


def test_a_refused_approval_fails_the_run(tmp_path):
    module = load(tmp_path, GATES)
    with pytest.raises(ExecutionFailed, match=r"gate 'check'\): was not approved"):
        run_locally(module.gated, {"a": 0}, on_input=lambda *_: 1, on_approve=lambda *_: False, sleep=lambda s: None)


def test_a_gate_without_an_answer_says_how_to_answer(tmp_path):
    module = load(tmp_path, GATES)
    with pytest.raises(ExecutionFailed, match=r"gate 'count'\): waits for an input of type int; run with sdk.run_locally"):
        run_locally(module.gated, {"a": 0}, sleep=lambda s: None)


def test_approving_a_workflow_input_is_refused(tmp_path):
    message = compile_error(tmp_path, """
        @workflow
        def wf(a: int) -> int:
            return double(x=approve(a, "nope", timeout=60))
        """)
    assert "approve 'nope': workflow inputs cannot be approved" in message


def test_console_answers_parse_typed_input_and_yes_no(tmp_path):
    from sdk.authoring.local_run import run_with_answers
    from sdk.authoring.prompts import console_answers

    module = load(tmp_path, GATES)
    replies = iter(["21", "y"])
    prompts = []
    answers = console_answers(ask=lambda prompt: prompts.append(prompt) or next(replies), sleep=lambda s: None)
    assert run_with_answers(module.gated, {"a": 0}, answers) == -42
    assert prompts == ["[input] gate 'count' waits for a value of type int: ", "[approve] gate 'check': approve 42? [Y/n] "]
    with pytest.raises(ExecutionFailed, match="gate 'count': 'many' is not of type int"):
        run_with_answers(module.gated, {"a": 0}, console_answers(ask=lambda p: "many", sleep=lambda s: None))


def test_dynamic_job_spec_holds_map_tasks_subworkflows_and_branches(tmp_path):
    from sdk.compile.dynamic_spec import compile_dynamic_job_spec

    module = load(tmp_path, """
        @workflow
        def twice(x: int) -> int:
            return double(x=double(x=x))

        @dynamic
        def plan(n: int) -> typing.List[int]:
            items = map_task(fragile)(x=list(range(n)))
            first = twice(x=n)
            return conditional("size").if_(first > 10).then(map_task(fragile)(x=items)).else_().then(
                map_task(double)(x=items))
        """)
    spec = compile_dynamic_job_spec(module.plan, {"n": 3}, "img:1")
    assert [n.id for n in spec.nodes] == ["dn0", "dn1", "dn2"]
    assert [n.WhichOneof("target") for n in spec.nodes] == ["array_node", "workflow_node", "branch_node"]
    assert [w.id.name for w in spec.subworkflows] == [module.twice.name]
    names = sorted(t.id.name.rsplit(".", 1)[-1] for t in spec.tasks)
    digest = "6b3bd0353da5de6e84d7982921ead2b3"  # md5 of flytekit's settings text "NoneNone1.0"
    assert names == ["double", f"map_double_{digest}-arraynode", f"map_fragile_{digest}-arraynode"]
    assert all(t.container.image == "img:1" for t in spec.tasks)
    assert module.plan(n=3) == [2, 3, 4]  # twice(3) = 12 > 10: the items mapped again, +1 each


def test_dynamic_job_spec_ids_come_from_the_flyte_internal_variables(tmp_path):
    """As flytekit's entrypoint: the execution's project and domain and the running task's
    version, on every identifier (flyteadmin refuses task events whose ids lack them)."""
    from sdk.compile.dynamic_spec import DynamicIds, compile_dynamic_job_spec
    from sdk.compile.identifiers import dynamic_job_identifiers

    module = load(tmp_path, """
        @workflow
        def twice(x: int) -> int:
            return double(x=double(x=x))

        @dynamic
        def plan(n: int) -> typing.List[int]:
            items = map_task(fragile)(x=list(range(n)))
            first = twice(x=n)
            return conditional("size").if_(first > 10).then(map_task(fragile)(x=items)).else_().then(
                map_task(double)(x=items))
        """)
    env = {"FLYTE_INTERNAL_EXECUTION_PROJECT": "flytesnacks", "FLYTE_INTERNAL_EXECUTION_DOMAIN": "staging",
           "FLYTE_INTERNAL_TASK_PROJECT": "other", "FLYTE_INTERNAL_TASK_VERSION": "v7"}
    spec = compile_dynamic_job_spec(module.plan, {"n": 3}, "img:1", ids=DynamicIds.from_environment(env))
    found = [(i.name.rsplit(".", 1)[-1], i.project, i.domain, i.version) for i in dynamic_job_identifiers(spec)]
    assert len(found) >= 8  # 3 map tasks in nodes and branches, the subworkflow's 2 calls, the templates
    assert {(p, d, v) for _, p, d, v in found} == {("flytesnacks", "staging", "v7")}, found
    plain = compile_dynamic_job_spec(module.plan, {"n": 3}, "img:1")
    assert {i.version for i in dynamic_job_identifiers(plain)} == {""}

"""Authoring: names, interfaces, task options, tracing errors and in-process runs."""
from __future__ import annotations

import textwrap
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from sdk import LaunchPlan, Resources, Secret, task, workflow
from sdk.errors import CompileError, LoadError, TypeTransformerError
from sdk.loader import entities_in, load_entity, load_module

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pipeline.py"


def write_module(directory: Path, source: str, stem: str | None = None) -> Path:
    """A uniquely named workflow file (module names are process-wide)."""
    path = directory / f"{stem or 'wf_' + uuid.uuid4().hex[:8]}.py"
    path.write_text(textwrap.dedent(source))
    return path


# --- names ---------------------------------------------------------------------------------------


def test_entities_are_named_module_dot_function_from_the_file_path(tmp_path):
    path = write_module(tmp_path, "from sdk import task\n@task\ndef double(x: int) -> int:\n    return 2 * x\n")
    assert load_entity(str(path), "double").name == f"{path.stem}.double"


def test_a_module_inside_packages_is_named_from_the_source_root(tmp_path):
    package = tmp_path / f"proj_{uuid.uuid4().hex[:6]}" / "flows"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    path = write_module(package, "from sdk import task\n@task\ndef t(x: int) -> int:\n    return x\n", "etl")
    assert load_entity(str(path), "t").name == f"{package.parent.name}.flows.etl.t"


# --- interfaces ----------------------------------------------------------------------------------


def test_single_tuple_and_named_tuple_outputs_are_named_as_flytekit_names_them(tmp_path):
    path = write_module(
        tmp_path,
        """
        import typing
        from sdk import task

        class Pair(typing.NamedTuple):
            total: int
            label: str

        @task
        def one(x: int) -> int:
            return x

        @task
        def two(x: int) -> typing.Tuple[int, str]:
            return x, "a"

        @task
        def named(x: int, y: float = 1.5) -> Pair:
            '''Adds up.

            :param x: the first number
            '''
            return Pair(x, str(y))
        """,
    )
    assert list(load_entity(str(path), "one").interface.outputs) == ["o0"]
    assert list(load_entity(str(path), "two").interface.outputs) == ["o0", "o1"]
    named = load_entity(str(path), "named")
    assert list(named.interface.inputs) == ["x", "y"]
    assert named.interface.outputs == {"total": int, "label": str}
    assert named.interface.defaults == {"y": 1.5}
    assert named.interface.docstring.short_description == "Adds up."
    assert named.interface.docstring.input_descriptions == {"x": "the first number"}
    assert named(x=2) == (2, "1.5") and named(x=2).total == 2


def test_an_unannotated_input_is_rejected_with_its_name():
    with pytest.raises(CompileError, match=r"input 'y' has no type annotation"):

        @task
        def bad(x: int, y) -> int:
            return x


# --- task options --------------------------------------------------------------------------------


def test_task_options_are_recorded():
    @task(
        cache=True, cache_version="7", cache_serialize=True, cache_ignore_input_vars=["seed"], retries=2,
        timeout=90, interruptible=True, requests=Resources(cpu="1"), limits=Resources(mem="1Gi"),
        container_image="img:2", environment={"A": 1}, secret_requests=[Secret(group="g", key="k")],
    )
    def opts(x: int, seed: int = 0) -> int:
        return x

    meta = opts.metadata
    assert (meta.cache, meta.cache_version, meta.cache_serialize) == (True, "7", True)
    assert meta.cache_ignore_input_vars == ("seed",)
    assert meta.retries == 2 and meta.timeout == timedelta(seconds=90) and meta.interruptible is True
    assert opts.resources.requests.cpu == "1" and opts.resources.limits.mem == "1Gi"
    assert opts.container_image == "img:2" and opts.environment == {"A": "1"}
    assert opts.secret_requests == [Secret(group="g", key="k")]


def test_cache_without_version_derives_one_from_the_source():
    @task(cache=True)
    def a(x: int) -> int:
        return x

    @task(cache=True)
    def b(x: int) -> int:
        return x + 1

    assert a.metadata.cache_version and a.metadata.cache_version != b.metadata.cache_version


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(retries=-1), "retries must be a whole number"),
        (dict(timeout="5m"), "timeout must be seconds"),
        (dict(timeout=0), "timeout must be positive"),
        (dict(cache=True, cache_ignore_input_vars=["nope"]), "names 'nope', which is not an input"),
        (dict(cache_version="1"), "need cache=True"),
    ],
)
def test_invalid_task_options_name_the_task(options, message):
    with pytest.raises(CompileError, match=message) as raised:

        @task(**options)
        def opt_task(x: int) -> int:
            return x

    assert "opt_task" in str(raised.value)


# --- tracing -------------------------------------------------------------------------------------


@task
def inc(x: int) -> int:
    return x + 1


@task
def label(text: str, n: int) -> str:
    return f"{text}{n}"


def test_tracing_builds_nodes_with_bindings():
    @workflow
    def wf(a: int) -> str:
        return label(text="v", n=inc(x=inc(x=a)))

    assert [n.id for n in wf.nodes] == ["n0", "n1", "n2"]
    assert wf.nodes[1].upstream_ids == ["n0"]
    assert wf.nodes[2].bindings["text"] == "v"
    assert wf.output_bindings["o0"].node_id == "n2"


@pytest.mark.parametrize(
    "body, message",
    [
        ("return inc(a)", r"node n0 \(.*inc\): pass inputs by keyword"),
        ("return inc(x=a, y=1)", r"node n0 \(.*inc\): unknown input 'y'"),
        ("return label(text='a')", r"node n0 \(.*label\): input 'n' is not bound"),
        ("return inc(x=a) if a else 0", "cannot be used in a condition"),
        ("return None", "output 'o0' is not bound"),
        ("return inc(x=a + 1)", "tracing its body failed with TypeError"),
    ],
)
def test_tracing_errors_name_workflow_node_and_variable(body, message):
    source = f"def broken(a: int) -> int:\n    {body}\n"
    namespace = {"inc": inc, "label": label}
    exec(compile(source, "<wf>", "exec"), namespace)
    with pytest.raises(CompileError, match=message) as raised:
        workflow(namespace["broken"])
    assert "broken" in str(raised.value)


# --- in-process runs -----------------------------------------------------------------------------


def test_the_example_runs_in_process():
    wf = load_entity(str(EXAMPLE), "pipeline")
    assert wf() == "ada:9"
    assert wf(n=4, name="bo") == "bo:16"
    assert load_entity(str(EXAMPLE), "square")(x=7) == 49
    assert load_entity(str(EXAMPLE), "pipeline_lp")() == "ada:25"


def test_calls_need_keyword_arguments_and_known_inputs():
    with pytest.raises(CompileError, match=r"task .*inc: pass inputs by keyword"):
        inc(3)
    with pytest.raises(CompileError, match=r"task .*inc: unknown input 'y'"):
        inc(x=1, y=2)
    with pytest.raises(CompileError, match=r"task .*inc: input 'x' is missing"):
        inc()


def test_a_value_of_the_wrong_type_fails_in_process_naming_task_and_variable():
    with pytest.raises(TypeTransformerError, match=r"task .*inc: variable 'x'"):
        inc(x="three")


def test_values_pass_through_the_type_engine_between_nodes():
    @task
    def lies(x: int) -> int:
        return str(x)  # declared int, returns str: caught at the task boundary

    @workflow
    def wf_lies(x: int) -> int:
        return inc(x=lies(x=x))

    with pytest.raises(TypeTransformerError, match=r"task .*lies: variable 'o0'"):
        wf_lies(x=1)


def test_multiple_outputs_and_lists_of_promises_run_in_process(tmp_path):
    path = write_module(
        tmp_path,
        """
        import typing
        from sdk import task, workflow

        class Stats(typing.NamedTuple):
            count: int
            mean: float

        @task
        def stats(values: list[float]) -> Stats:
            return Stats(len(values), sum(values) / len(values))

        @task
        def split(text: str) -> typing.Tuple[str, str]:
            a, _, b = text.partition(" ")
            return a, b

        @task
        def total(values: list[int]) -> int:
            return sum(values)

        @workflow
        def wf(values: list[float], text: str = "hello world") -> typing.Tuple[int, str, float]:
            s = stats(values=values)
            head, tail = split(text=text)
            return total(values=[s.count, s.count, 1]), tail, s.mean
        """,
    )
    assert load_entity(str(path), "wf")(values=[1.0, 2.0, 6.0]) == (7, "world", 3.0)


def test_launch_plans_apply_defaults_and_refuse_fixed_inputs(tmp_path):
    path = write_module(
        tmp_path,
        """
        from sdk import LaunchPlan, task, workflow

        @task
        def add(a: int, b: int) -> int:
            return a + b

        @workflow
        def wf(a: int, b: int = 1) -> int:
            return add(a=a, b=b)
        """,
    )
    wf = load_entity(str(path), "wf")
    name = f"lp_{uuid.uuid4().hex[:6]}"
    plan = LaunchPlan.get_or_create(wf, name=name, default_inputs={"b": 10}, fixed_inputs={"a": 5})
    assert plan() == 15
    assert plan(b=1) == 6
    with pytest.raises(CompileError, match="unknown input 'a'"):
        plan(a=1)
    assert LaunchPlan.get_or_create(wf, name=name) is plan
    with pytest.raises(CompileError, match=f"launch plan {name}: already exists"):
        LaunchPlan.get_or_create(wf, name=name, default_inputs={"b": 3})
    with pytest.raises(CompileError, match="'c' is not an input of workflow"):
        LaunchPlan.get_or_create(wf, name=name + "x", default_inputs={"c": 3})
    assert LaunchPlan.get_or_create(wf).name == wf.name


# --- loader --------------------------------------------------------------------------------------


def test_loader_lists_what_a_file_defines(tmp_path):
    found = entities_in(load_module(str(EXAMPLE)))
    assert [t.name for t in found.tasks] == ["pipeline.square", "pipeline.greet"]
    assert [w.name for w in found.workflows] == ["pipeline.pipeline"]
    assert "pipeline_lp" in [p.name for p in found.launch_plans]


def test_loader_errors_say_what_is_missing(tmp_path):
    with pytest.raises(LoadError, match="does not exist"):
        load_module(str(tmp_path / "nope.py"))
    with pytest.raises(LoadError, match=r"no task, workflow or launch plan named 'nothing'.*pipeline\.square"):
        load_entity(str(EXAMPLE), "nothing")
    with pytest.raises(LoadError, match="no module named"):
        load_module("no_such_module_here")
    broken = write_module(tmp_path, "raise RuntimeError('boom')\n")
    with pytest.raises(LoadError, match="RuntimeError: boom"):
        load_module(str(broken))


def test_a_script_run_as_main_names_its_entities_after_the_file(tmp_path):
    import subprocess
    import sys

    path = write_module(
        tmp_path,
        """
        from sdk import task, workflow

        @task
        def double(x: int) -> int:
            return 2 * x

        @workflow
        def wf(x: int = 2) -> int:
            return double(x=x)

        if __name__ == "__main__":
            print(double.name, wf.name, wf())
        """,
        "script_main",
    )
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["script_main.double", "script_main.wf", "4"]

"""A task container imports its task's module only to run that task: the module's workflows are
traced when something asks for their nodes, not on import (sdk.authoring.workflow
TRACE_ON_DECORATION), while everywhere else a broken workflow body is reported at decoration."""
from __future__ import annotations

import textwrap

import pytest

from sdk import entrypoint
from sdk.errors import CompileError

MODULE = textwrap.dedent('''
    from sdk import task, workflow

    TRACED = []


    @task
    def inc(x: int) -> int:
        return x + 1


    @workflow
    def chain(x: int) -> int:
        TRACED.append("chain")
        return inc(x=inc(x=x))


    @workflow
    def broken(x: int) -> int:
        return inc(x=x) + 1  # arithmetic on a promise: a compile error when traced
''')


def test_the_task_loads_without_tracing_and_workflows_trace_on_demand(tmp_path, monkeypatch):
    (tmp_path / "lazy_mod.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    task = entrypoint._load_task("lazy_mod", "inc")  # the broken workflow does not stop it
    import lazy_mod

    assert task.execute(x=1) == 2 and lazy_mod.TRACED == []
    assert [n.id for n in lazy_mod.chain.nodes] == ["n0", "n1"] and lazy_mod.TRACED == ["chain"]
    with pytest.raises(CompileError, match="tracing its body failed"):
        lazy_mod.broken.nodes


def test_outside_a_task_container_a_broken_body_fails_at_decoration(tmp_path, monkeypatch):
    (tmp_path / "eager_mod.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(CompileError, match="workflow eager_mod.broken"):
        import eager_mod  # noqa: F401

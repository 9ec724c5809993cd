"""`sdk` is what a task image needs: it never imports `sandbox`. Checked in fresh interpreters
in which `sandbox` cannot be imported at all: every sdk module imports, and skiff-execute runs
a task (a plain one and a @dynamic one) to its outputs."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from flyteidl.core import literals_pb2

# Makes `import sandbox` (and any sandbox.*) fail, then runs the rest of the script.
BLOCK_SANDBOX = textwrap.dedent("""
    import importlib.abc, sys

    class NoSandbox(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "sandbox" or name.startswith("sandbox."):
                raise ImportError(f"sdk imported {name}")
            return None

    sys.meta_path.insert(0, NoSandbox())
""")


def _run(script: str, *args, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCK_SANDBOX + textwrap.dedent(script), *args],
                          capture_output=True, text=True, timeout=120, cwd=cwd,
                          env={**os.environ, **(env or {})})


def test_every_sdk_module_imports_without_sandbox():
    result = _run("""
        import importlib, json, pkgutil, sdk
        failed = []
        for info in pkgutil.walk_packages(sdk.__path__, "sdk."):
            try:
                importlib.import_module(info.name)
            except ImportError as exc:
                failed.append(f"{info.name}: {exc}")
        loaded = sorted(m for m in sys.modules if m == "sandbox" or m.startswith("sandbox."))
        print(json.dumps({"imported": len([m for m in sys.modules if m.startswith("sdk.")]),
                          "failed": failed, "sandbox": loaded}))
    """)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["imported"] > 50, seen  # the walk really imported the package
    assert seen["failed"] == [] and seen["sandbox"] == [], seen


def test_skiff_execute_runs_tasks_without_sandbox(tmp_path):
    from sdk.types import TypeEngine

    code = tmp_path / "code"
    code.mkdir()
    (code / "isolated.py").write_text(textwrap.dedent("""
        from sdk import dynamic, task

        @task
        def double(x: int) -> int:
            return 2 * x

        @dynamic
        def fan(n: int) -> list[int]:
            return [double(x=i) for i in range(n)]
    """))
    for name, value in (("double", 21), ("fan", 2)):
        inputs = tmp_path / f"{name}-inputs.pb"
        var = "x" if name == "double" else "n"
        inputs.write_bytes(TypeEngine.dict_to_literal_map({var: value}, {var: int})
                           .SerializeToString())
        out = tmp_path / f"{name}-out"
        result = _run("""
            import sys
            from sdk import entrypoint
            try:
                entrypoint.main(sys.argv[1:])
            except SystemExit as exit:
                assert not exit.code, exit.code
            loaded = [m for m in sys.modules if m == "sandbox" or m.startswith("sandbox.")]
            assert not loaded, loaded
        """, "--inputs", f"file://{inputs}", "--output-prefix", f"file://{out}",
            "--dest-dir", str(code), "--task-module", "isolated", "--task-name", name,
            cwd=tmp_path, env={"SKIFF_DYNAMIC_DEFAULT_IMAGE": "img:1"})
        assert result.returncode == 0, result.stderr
        if name == "double":
            outputs = literals_pb2.LiteralMap.FromString((out / "outputs.pb").read_bytes())
            assert TypeEngine.to_python_value(outputs.literals["o0"], int) == 42
        else:
            assert (out / "futures.pb").is_file(), sorted(p.name for p in out.iterdir())


def test_no_sdk_source_imports_sandbox_even_lazily():
    """Imports inside functions run only when called, so the source itself is read too."""
    import ast
    from pathlib import Path

    import sdk

    offenders = []
    for path in sorted(Path(sdk.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            offenders += [f"{path.name}:{node.lineno} {name}" for name in names
                          if name == "sandbox" or name.startswith("sandbox.")]
    assert offenders == []

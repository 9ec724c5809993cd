"""skiff-execute with file:// URIs: outputs.pb, error.pb, code bundles; in-process and as a subprocess."""

from __future__ import annotations

import io as stdio
import os
import subprocess
import sys
import tarfile
import textwrap
import uuid

import pytest
from flyteidl.core import errors_pb2, execution_pb2, literals_pb2

from sdk import entrypoint
from sdk.types import File, TypeEngine

WORKFLOW_SOURCE = textwrap.dedent(
    '''
    import os
    from typing import NamedTuple

    from sdk import task
    from sdk.types import File


    class Stats(NamedTuple):
        total: int
        label: str


    @task
    def square(x: int) -> int:
        return x * x


    @task
    def stats(values: list[int], name: str = "run") -> Stats:
        return Stats(total=sum(values), label=f"{name}:{len(values)}")


    @task
    def shout(f: File) -> File:
        text = open(f).read()
        out = os.path.join(os.path.dirname(os.fspath(f)), "shout.txt")
        with open(out, "w") as handle:
            handle.write(text.upper())
        return File(out)


    def helper(x):
        raise ValueError(f"bad input {x}")


    @task
    def boom(x: int) -> int:
        return helper(x)


    @task
    def wrong_type(x: int) -> int:
        return "not an int"


    not_a_task = 42
    '''
)


@pytest.fixture
def bundle(tmp_path):
    """A code bundle (tar.gz of the source tree) holding a uniquely named workflow module."""
    module = f"ep_wf_{uuid.uuid4().hex[:8]}"
    archive = tmp_path / "fast0123.tar.gz"
    data = WORKFLOW_SOURCE.encode()
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo(f"{module}.py")
        info.size = len(data)
        tar.addfile(info, stdio.BytesIO(data))
    return module, "file://" + str(archive)


def _write_inputs(path, values: dict, types: dict) -> str:
    literal_map = TypeEngine.dict_to_literal_map(values, types)
    path.write_bytes(literal_map.SerializeToString())
    return "file://" + str(path)


def _argv(tmp_path, module, bundle_uri, task_name, inputs_uri):
    return [
        "--inputs", inputs_uri,
        "--output-prefix", "file://" + str(tmp_path / "out"),
        "--raw-output-data-prefix", "file://" + str(tmp_path / "raw"),
        "--checkpoint-path", "file://" + str(tmp_path / "ckpt"),
        "--prev-checkpoint", '""',
        "--code-bundle", bundle_uri,
        "--dest-dir", str(tmp_path / "code"),
        "--task-module", module,
        "--task-name", task_name,
    ]


def _outputs(tmp_path) -> literals_pb2.LiteralMap:
    assert not (tmp_path / "out" / "error.pb").exists(), _error(tmp_path).error.message
    literal_map = literals_pb2.LiteralMap()
    literal_map.ParseFromString((tmp_path / "out" / "outputs.pb").read_bytes())
    return literal_map


def _error(tmp_path) -> errors_pb2.ErrorDocument:
    assert not (tmp_path / "out" / "outputs.pb").exists()
    document = errors_pb2.ErrorDocument()
    document.ParseFromString((tmp_path / "out" / "error.pb").read_bytes())
    return document


def test_outputs_pb_holds_the_result(tmp_path, bundle):
    module, bundle_uri = bundle
    inputs = _write_inputs(tmp_path / "inputs.pb", {"x": 7}, {"x": int})
    assert entrypoint.main(_argv(tmp_path, module, bundle_uri, "square", inputs)) == 0
    outputs = _outputs(tmp_path)
    assert TypeEngine.to_python_value(outputs.literals["o0"], int) == 49
    assert (tmp_path / "code" / f"{module}.py").exists()  # the bundle was unpacked into --dest-dir


def test_named_outputs_and_defaults(tmp_path, bundle):
    module, bundle_uri = bundle
    inputs = _write_inputs(tmp_path / "inputs.pb", {"values": [1, 2, 3]}, {"values": list[int]})
    assert entrypoint.main(_argv(tmp_path, module, bundle_uri, "stats", inputs)) == 0
    values = TypeEngine.literal_map_to_kwargs(_outputs(tmp_path), {"total": int, "label": str})
    assert values == {"total": 6, "label": "run:3"}


def test_files_download_lazily_and_upload_under_the_raw_prefix(tmp_path, bundle):
    module, bundle_uri = bundle
    source = tmp_path / "in" / "words.txt"
    source.parent.mkdir()
    source.write_text("hello flyte")
    literal = TypeEngine.to_literal(File("file://" + str(source)), File)
    (tmp_path / "inputs.pb").write_bytes(literals_pb2.LiteralMap(literals={"f": literal}).SerializeToString())
    inputs = "file://" + str(tmp_path / "inputs.pb")
    assert entrypoint.main(_argv(tmp_path, module, bundle_uri, "shout", inputs)) == 0
    uri = _outputs(tmp_path).literals["o0"].scalar.blob.uri
    assert uri.startswith("file://" + str(tmp_path / "raw") + "/")
    assert open(uri[len("file://"):]).read() == "HELLO FLYTE"


def test_a_raising_task_writes_a_user_error_with_type_message_and_traceback(tmp_path, bundle):
    module, bundle_uri = bundle
    inputs = _write_inputs(tmp_path / "inputs.pb", {"x": 7}, {"x": int})
    assert entrypoint.main(_argv(tmp_path, module, bundle_uri, "boom", inputs)) == 0
    error = _error(tmp_path).error
    assert error.origin == execution_pb2.ExecutionError.USER
    assert error.message.startswith("ValueError: bad input 7")
    assert "Traceback (most recent call last)" in error.message
    assert 'raise ValueError(f"bad input {x}")' in error.message  # the user's own line
    assert "entrypoint.py" not in error.message  # Skiff's frames are left out
    assert error.code.startswith("USER")


def test_a_wrong_return_type_is_a_user_error_naming_task_and_output(tmp_path, bundle):
    module, bundle_uri = bundle
    inputs = _write_inputs(tmp_path / "inputs.pb", {"x": 1}, {"x": int})
    assert entrypoint.main(_argv(tmp_path, module, bundle_uri, "wrong_type", inputs)) == 0
    error = _error(tmp_path).error
    assert error.origin == execution_pb2.ExecutionError.USER
    assert f"{module}.wrong_type" in error.message and "o0" in error.message
    assert error.kind == errors_pb2.ContainerError.NON_RECOVERABLE


def test_unreadable_inputs_are_a_system_error_naming_the_uri(tmp_path, bundle):
    module, bundle_uri = bundle
    missing = "file://" + str(tmp_path / "nowhere" / "inputs.pb")
    assert entrypoint.main(_argv(tmp_path, module, bundle_uri, "square", missing)) == 0
    error = _error(tmp_path).error
    assert error.origin == execution_pb2.ExecutionError.SYSTEM
    assert "nowhere/inputs.pb" in error.message


def test_a_name_that_is_not_a_task_is_a_system_error(tmp_path, bundle):
    module, bundle_uri = bundle
    inputs = _write_inputs(tmp_path / "inputs.pb", {}, {})
    assert entrypoint.main(_argv(tmp_path, module, bundle_uri, "not_a_task", inputs)) == 0
    error = _error(tmp_path).error
    assert error.origin == execution_pb2.ExecutionError.SYSTEM
    assert f"no task named not_a_task" in error.message and module in error.message


def test_exit_code_is_non_zero_only_when_no_document_can_be_written(tmp_path, bundle):
    module, bundle_uri = bundle
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the output directory should be")
    inputs = _write_inputs(tmp_path / "inputs.pb", {"x": 2}, {"x": int})
    argv = _argv(tmp_path, module, bundle_uri, "square", inputs)
    argv[argv.index("--output-prefix") + 1] = "file://" + str(blocker / "out")
    assert entrypoint.main(argv) == 1


def _run_cli(args, cwd):
    return subprocess.run(["skiff-execute", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_skiff_execute_subprocess_writes_outputs(tmp_path, bundle):
    module, bundle_uri = bundle
    inputs = _write_inputs(tmp_path / "inputs.pb", {"x": 12}, {"x": int})
    result = _run_cli(_argv(tmp_path, module, bundle_uri, "square", inputs), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert TypeEngine.to_python_value(_outputs(tmp_path).literals["o0"], int) == 144


def test_skiff_execute_subprocess_writes_error_pb_and_logs_the_traceback(tmp_path, bundle):
    module, bundle_uri = bundle
    inputs = _write_inputs(tmp_path / "inputs.pb", {"x": 3}, {"x": int})
    result = _run_cli(_argv(tmp_path, module, bundle_uri, "boom", inputs), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    error = _error(tmp_path).error
    assert error.origin == execution_pb2.ExecutionError.USER
    assert "ValueError: bad input 3" in error.message and "Traceback" in error.message
    assert "bad input 3" in result.stderr  # container logs show it too


def test_dest_dir_dot_unpacks_into_the_working_directory(tmp_path, bundle):
    module, bundle_uri = bundle
    work = tmp_path / "work"
    work.mkdir()
    inputs = _write_inputs(tmp_path / "inputs.pb", {"x": 5}, {"x": int})
    argv = _argv(tmp_path, module, bundle_uri, "square", inputs)
    argv[argv.index("--dest-dir") + 1] = "."
    result = _run_cli(argv, cwd=work)
    assert result.returncode == 0, result.stderr
    assert (work / f"{module}.py").exists()
    assert TypeEngine.to_python_value(_outputs(tmp_path).literals["o0"], int) == 25


def test_help_starts_without_heavy_imports():
    code = (
        "import sys, runpy; sys.argv=['skiff-execute','--help'];\n"
        "try:\n    runpy.run_module('sdk.entrypoint', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "heavy = [m for m in ('click', 'yaml', 'rich', 'docker', 'sqlalchemy', 'minio') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr

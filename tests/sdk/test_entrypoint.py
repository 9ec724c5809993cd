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


# ---- against the sandbox's real MinIO, and in the real runtime image ------------------------


@pytest.fixture
def s3_sandbox(request, monkeypatch):
    try:
        state = request.getfixturevalue("sandbox_home")
    except pytest.FixtureLookupError:
        pytest.skip("the sandbox_home fixture (tests/conftest.py) is not defined yet")
    for key, value in state.storage_env().items():
        monkeypatch.setenv(key, value)
    return state


def _s3_layout(state, bundle_path, module, values, types):
    """Inputs and code bundle uploaded as the engine lays them out (docs/contracts.md)."""
    from sdk import io

    run_id = uuid.uuid4().hex[:10]
    base = f"s3://{state.bucket}"
    meta = f"{base}/metadata/default/development/{run_id}/n0/0"
    bundle_uri = f"{base}/fast/default/development/{os.path.basename(bundle_path)}-{run_id}"
    io.upload_file(bundle_path, bundle_uri)
    io.write_bytes(f"{meta}/inputs.pb", TypeEngine.dict_to_literal_map(values, types).SerializeToString())
    return meta, f"{base}/raw/default/development/{run_id}/n0/0", bundle_uri


def _s3_argv(meta, raw, bundle_uri, module, task_name, dest_dir):
    return [
        "--inputs", f"{meta}/inputs.pb", "--output-prefix", meta, "--raw-output-data-prefix", raw,
        "--checkpoint-path", f"{meta}/ckpt", "--prev-checkpoint", '""',
        "--code-bundle", bundle_uri, "--dest-dir", dest_dir, "--task-module", module, "--task-name", task_name,
    ]


@pytest.mark.sandbox
def test_s3_inputs_bundle_and_outputs(s3_sandbox, tmp_path, bundle):
    from sdk import io

    module, bundle_uri = bundle
    meta, raw, remote_bundle = _s3_layout(s3_sandbox, bundle_uri[len("file://"):], module, {"x": 9}, {"x": int})
    assert entrypoint.main(_s3_argv(meta, raw, remote_bundle, module, "square", str(tmp_path / "code"))) == 0
    outputs = literals_pb2.LiteralMap()
    outputs.ParseFromString(io.read_bytes(f"{meta}/outputs.pb"))
    assert TypeEngine.to_python_value(outputs.literals["o0"], int) == 81

    source = tmp_path / "words.txt"
    source.write_text("from minio")
    remote_file = f"{raw}/input/words.txt"
    io.upload_file(str(source), remote_file)
    literal = TypeEngine.to_literal(File(remote_file), File)
    io.write_bytes(f"{meta}/inputs.pb", literals_pb2.LiteralMap(literals={"f": literal}).SerializeToString())
    assert entrypoint.main(_s3_argv(meta, raw, remote_bundle, module, "shout", str(tmp_path / "code"))) == 0
    outputs.ParseFromString(io.read_bytes(f"{meta}/outputs.pb"))
    uri = outputs.literals["o0"].scalar.blob.uri
    assert uri.startswith(raw + "/")  # uploaded under the raw output prefix, in MinIO
    io.download_file(uri, str(tmp_path / "shouted.txt"))
    assert (tmp_path / "shouted.txt").read_text() == "FROM MINIO"


@pytest.mark.sandbox
def test_runtime_image_runs_a_task_and_reports_a_user_error(s3_sandbox, bundle):
    import docker

    from sdk import io

    if not s3_sandbox.runtime_image:
        pytest.skip("the sandbox recorded no runtime image")
    module, bundle_uri = bundle
    client = docker.from_env()

    def run_container(task_name, values):
        meta, raw, remote_bundle = _s3_layout(s3_sandbox, bundle_uri[len("file://"):], module, values, {"x": int})
        logs = client.containers.run(
            s3_sandbox.runtime_image,
            ["skiff-execute", *_s3_argv(meta, raw, remote_bundle, module, task_name, ".")],
            environment=s3_sandbox.storage_env(),
            network_mode="host",
            user="1000",
            remove=True,
            stderr=True,
        )
        return meta, logs.decode()

    meta, logs = run_container("square", {"x": 11})
    assert not io.exists(f"{meta}/error.pb"), logs
    outputs = literals_pb2.LiteralMap()
    outputs.ParseFromString(io.read_bytes(f"{meta}/outputs.pb"))
    assert TypeEngine.to_python_value(outputs.literals["o0"], int) == 121, logs

    meta, logs = run_container("boom", {"x": 4})
    document = errors_pb2.ErrorDocument()
    document.ParseFromString(io.read_bytes(f"{meta}/error.pb"))
    assert document.error.origin == execution_pb2.ExecutionError.USER
    assert document.error.message.startswith("ValueError: bad input 4")
    assert "bad input 4" in logs


@pytest.mark.parametrize("python_has_filters", [True, False])
def test_a_bundle_escaping_dest_dir_is_refused(tmp_path, monkeypatch, python_has_filters):
    if not python_has_filters:  # as on Debian bookworm's Python 3.11.2, the runtime image's
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../evil.py")
        info.size = 1
        tar.addfile(info, stdio.BytesIO(b"x"))
    inputs = _write_inputs(tmp_path / "inputs.pb", {"x": 1}, {"x": int})
    argv = _argv(tmp_path, "evil", "file://" + str(archive), "square", inputs)
    assert entrypoint.main(argv) == 0
    error = _error(tmp_path).error
    assert error.origin == execution_pb2.ExecutionError.SYSTEM
    assert "evil.py" in error.message
    assert not (tmp_path / "evil.py").exists()

"""What keeps a task container's start short: skiff-execute's own flag parsing (Flyte's
template arguments, unknown flags ignored) and a user module importing `task`/`workflow`
without the compiler, control flow or optional codecs."""
from __future__ import annotations

import subprocess
import sys

import pytest

from sdk import entrypoint

REQUIRED = ["--inputs", "s3://b/in.pb", "--output-prefix", "s3://b/out", "--task-module", "m",
            "--task-name", "t"]


def test_flyte_template_arguments_parse_and_unknown_flags_are_ignored():
    args = entrypoint._parse_args([
        *REQUIRED, "--raw-output-data-prefix", "s3://b/raw", "--checkpoint-path", "s3://b/ck",
        "--prev-checkpoint", '""', "--some-newer-flag", "value", "--code-bundle=s3://b/fast.tgz",
        "--dest-dir", "."])
    assert (args.inputs, args.output_prefix, args.task_module, args.task_name) == (
        "s3://b/in.pb", "s3://b/out", "m", "t")
    assert args.raw_output_data_prefix == "s3://b/raw" and args.prev_checkpoint == '""'
    assert args.code_bundle == "s3://b/fast.tgz" and args.dest_dir == "."


def test_defaults_for_optional_flags():
    args = entrypoint._parse_args(REQUIRED)
    assert (args.raw_output_data_prefix, args.code_bundle, args.dest_dir) == ("", "", ".")


def test_missing_required_flags_exit_2_naming_them(capsys):
    with pytest.raises(SystemExit) as exited:
        entrypoint._parse_args(["--inputs", "s3://b/in.pb", "--task-name", "t"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--output-prefix, --task-module" in err and "usage: skiff-execute" in err


def test_a_user_module_imports_only_what_running_a_task_needs():
    code = (
        "import sys\n"
        "import sdk.entrypoint\n"
        "from sdk import task, workflow\n"
        "from sdk.types import TypeEngine\n"
        "print(sorted(m for m in ('sdk.compile', 'sdk.authoring.condition', 'sdk.authoring.local_run',"
        " 'sdk.authoring.launch_plan', 'msgpack', 'google.protobuf.json_format', 'argparse', 'click')"
        " if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_every_public_name_still_resolves():
    import sdk
    import sdk.authoring
    import sdk.types

    for module in (sdk, sdk.authoring, sdk.types):
        for name in module.__all__:
            assert getattr(module, name) is not None, (module.__name__, name)
        assert set(module.__all__) <= set(dir(module))
    from sdk.authoring import dynamic, map_task, task, workflow

    assert all(callable(f) and not isinstance(f, type(sdk)) for f in (dynamic, map_task, task, workflow))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sdk.nope  # noqa: B018


def test_the_process_exit_still_runs_atexit_handlers_and_flushes_output(tmp_path):
    from flyteidl.core import literals_pb2

    from sdk.types import TypeEngine

    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "exiting.py").write_text(
        "import atexit, sys\n"
        "from sdk import task\n\n"
        "@task\n"
        "def double(x: int) -> int:\n"
        "    atexit.register(lambda: print('atexit ran', flush=False))\n"
        "    sys.stdout.write('no newline, not flushed')\n"
        "    return 2 * x\n")
    inputs = tmp_path / "inputs.pb"
    inputs.write_bytes(TypeEngine.dict_to_literal_map({"x": 21}, {"x": int}).SerializeToString())
    result = subprocess.run(
        ["skiff-execute", "--inputs", f"file://{inputs}", "--output-prefix", f"file://{tmp_path}/out",
         "--dest-dir", str(tmp_path / "code"), "--task-module", "exiting", "--task-name", "double"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "no newline, not flushedatexit ran\n"
    outputs = literals_pb2.LiteralMap.FromString((tmp_path / "out" / "outputs.pb").read_bytes())
    assert TypeEngine.to_python_value(outputs.literals["o0"], int) == 42

"""`skiff-execute`: run one task inside its container, as Flyte's task contract says.

Reads `--inputs` (a core.LiteralMap), fetches and unpacks the code bundle when one is given,
imports `--task-module`, runs `--task-name`, and writes `<output-prefix>/outputs.pb`, or
`<output-prefix>/error.pb` (a core.ErrorDocument) when anything fails. It exits 0 after writing
either document, because the engine learns the outcome from the document; it exits 1 only when
it cannot write a document at all.

This runs once per container, so start-up time is the sandbox's floor: standard library and
protobuf only until the user's module is imported; no click, yaml, rich, docker or sqlalchemy.
"""

from __future__ import annotations

import os
import sys

OUTPUTS_FILE = "outputs.pb"
ERROR_FILE = "error.pb"
FUTURES_FILE = "futures.pb"  # a @dynamic task's DynamicJobSpec
DYNAMIC_IMAGE_ENV = "SKIFF_DYNAMIC_DEFAULT_IMAGE"  # set by the compiler on @dynamic tasks

# ErrorDocument origins; `kind` below says whether a retry could help.
USER = "USER"
SYSTEM = "SYSTEM"


class TaskFailure(Exception):
    """A failure with what error.pb must say about it."""

    def __init__(self, origin: str, code: str, message: str, recoverable: bool):
        super().__init__(message)
        self.origin = origin
        self.code = code
        self.message = message
        self.recoverable = recoverable


# (flag, attribute, default; None means required, help)
_OPTIONS = (
    ("--inputs", "inputs", None, "URI of the core.LiteralMap with the task's inputs"),
    ("--output-prefix", "output_prefix", None, "where outputs.pb or error.pb is written"),
    ("--raw-output-data-prefix", "raw_output_data_prefix", "", "where File/Directory outputs are uploaded"),
    ("--checkpoint-path", "checkpoint_path", "", "accepted for Flyte compatibility; unused"),
    ("--prev-checkpoint", "prev_checkpoint", "", "accepted for Flyte compatibility; unused"),
    ("--code-bundle", "code_bundle", "", "URI of the fast-registered source tarball"),
    ("--dest-dir", "dest_dir", ".", "directory the code bundle is unpacked into"),
    ("--task-module", "task_module", None, "dotted module that defines the task"),
    ("--task-name", "task_name", None, "the task's function name in that module"),
)
_USAGE = "usage: skiff-execute " + " ".join(
    f"{flag} VALUE" if default is None else f"[{flag} VALUE]" for flag, _, default, _ in _OPTIONS
)


class _Args:
    """The parsed flags, as attributes named like argparse would name them."""

    def __init__(self, values: dict):
        self.__dict__.update(values)


def _parse_args(argv) -> _Args:
    """`--flag VALUE` or `--flag=VALUE`; unknown flags (newer Flyte templates add some) are
    ignored rather than fatal. Hand-written because argparse alone costs several ms of import
    in every task container."""
    known = {flag: (attr, default) for flag, attr, default, _ in _OPTIONS}
    values = {attr: default for attr, default in known.values()}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            print(_USAGE + "\n\nRun one Skiff task: read inputs.pb, run the function, write outputs.pb or error.pb.\n")
            for flag, _, default, help_text in _OPTIONS:
                print(f"  {flag:<26} {help_text}" + (" (required)" if default is None else ""))
            raise SystemExit(0)
        flag, eq, inline = arg.partition("=")
        if flag in known:
            if eq:
                value = inline
            elif i + 1 < len(argv):
                i += 1
                value = argv[i]
            else:
                _usage_error(f"argument {flag}: expected one value")
            values[known[flag][0]] = value
        elif arg.startswith("--") and not eq and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            i += 1  # an unknown flag's value
        i += 1
    missing = [flag for flag, (attr, _) in known.items() if values[attr] is None]
    if missing:
        _usage_error(f"the following arguments are required: {', '.join(missing)}")
    return _Args(values)


def _usage_error(message: str):
    print(f"{_USAGE}\nskiff-execute: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _format_exception(exc: BaseException) -> str:
    """`Type: message` then the traceback, without the entrypoint's own frames."""
    import traceback

    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    lines = traceback.format_exception(type(exc), exc, tb)
    return f"{type(exc).__name__}: {exc}\n\n" + "".join(lines)


def _is_template(value: str) -> bool:
    """An argument the registration left unfilled, e.g. `{{ .remote_package_path }}`."""
    return not value or "{{" in value


def _prepare_code(args) -> None:
    dest_dir = os.path.abspath(args.dest_dir or ".")
    if not _is_template(args.code_bundle):
        try:
            from sdk import code_bundle

            code_bundle.prepare(args.code_bundle, dest_dir)
        except Exception as exc:
            raise TaskFailure(
                SYSTEM,
                "SYSTEM:CodeBundle",
                f"cannot fetch the code bundle {args.code_bundle} into {dest_dir}: {_format_exception(exc)}",
                recoverable=True,
            ) from exc
    if dest_dir not in sys.path:
        sys.path.insert(0, dest_dir)


def _load_task(module_name: str, task_name: str):
    import importlib

    # The module (sdk.authoring's `workflow` attribute is the decorator).
    workflow = importlib.import_module("sdk.authoring.workflow")
    # This runs one task, never the module's workflows: they are traced only if asked for.
    tracing_was, workflow.TRACE_ON_DECORATION = workflow.TRACE_ON_DECORATION, False
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise TaskFailure(
            USER,
            "USER:ImportError",
            f"cannot import module {module_name} (task {module_name}.{task_name}): {_format_exception(exc)}",
            recoverable=False,
        ) from exc
    finally:
        workflow.TRACE_ON_DECORATION = tracing_was
    task = getattr(module, task_name, None)
    if task is None or not hasattr(task, "interface") or not callable(getattr(task, "execute", None)):
        found = "nothing" if task is None else f"a {type(task).__name__}"
        raise TaskFailure(
            SYSTEM,
            "SYSTEM:TaskNotFound",
            f"module {module_name} has no task named {task_name} (found {found}); "
            "the package and its code bundle do not match: package and register again",
            recoverable=False,
        )
    return task


def _read_inputs(uri: str):
    from flyteidl.core import literals_pb2

    from sdk import io

    try:
        literal_map = literals_pb2.LiteralMap()
        literal_map.ParseFromString(io.read_bytes(uri))
        return literal_map
    except Exception as exc:
        raise TaskFailure(
            SYSTEM, "SYSTEM:InputsUnreadable", f"cannot read the inputs {uri}: {exc}", recoverable=True
        ) from exc


def _conversion_failure(where: str, exc: Exception) -> TaskFailure:
    """A value the type engine rejected: its own message says which and why."""
    from sdk.errors import TypeTransformerError

    detail = str(exc) if isinstance(exc, TypeTransformerError) else f"{where}: {_format_exception(exc)}"
    return TaskFailure(USER, "USER:TypeError", detail, recoverable=False)


def _python_inputs(task, literal_map, transfer) -> dict:
    from sdk.types import TypeEngine

    kwargs = {}
    for name, hint in task.interface.inputs.items():
        where = f"task {task.name} input '{name}'"
        if name in literal_map.literals:
            try:
                kwargs[name] = TypeEngine.to_python_value(
                    literal_map.literals[name], hint, transfer=transfer, name=where
                )
            except Exception as exc:
                raise _conversion_failure(where, exc) from exc
        elif name in task.interface.defaults:
            kwargs[name] = task.interface.defaults[name]
        else:
            raise TaskFailure(
                SYSTEM,
                "SYSTEM:MissingInput",
                f"{where} is missing from the inputs document",
                recoverable=False,
            )
    return kwargs


def _named_outputs(task, result) -> dict:
    names = list(task.interface.outputs)
    if not names:
        return {}
    if len(names) == 1:
        return {names[0]: result}
    if not isinstance(result, tuple) or len(result) != len(names):
        raise TaskFailure(
            USER,
            "USER:TypeError",
            f"task {task.name} must return {len(names)} values ({', '.join(names)}), "
            f"got {type(result).__name__}",
            recoverable=False,
        )
    return dict(zip(names, result))


def _output_literals(task, values: dict, transfer):
    from flyteidl.core import literals_pb2

    from sdk.types import TypeEngine

    literal_map = literals_pb2.LiteralMap()
    for name, value in values.items():
        where = f"task {task.name} output '{name}'"
        try:
            literal = TypeEngine.to_literal(value, task.interface.outputs[name], transfer=transfer, name=where)
        except Exception as exc:
            raise _conversion_failure(where, exc) from exc
        literal_map.literals[name].CopyFrom(literal)
    return literal_map


def _error_document(failure: TaskFailure):
    import time

    from flyteidl.core import errors_pb2, execution_pb2

    error = errors_pb2.ContainerError(
        code=failure.code,
        message=failure.message,
        kind=errors_pb2.ContainerError.RECOVERABLE
        if failure.recoverable
        else errors_pb2.ContainerError.NON_RECOVERABLE,
        origin=execution_pb2.ExecutionError.USER if failure.origin == USER else execution_pb2.ExecutionError.SYSTEM,
        worker=os.environ.get("HOSTNAME", ""),
    )
    error.timestamp.FromNanoseconds(time.time_ns())
    return errors_pb2.ErrorDocument(error=error)


def run_task(args, gated: bool = False, on_go=None) -> None:
    """Everything up to writing outputs.pb; raises TaskFailure for what goes to error.pb.
    `gated` (sdk.start_gate): load the task first, then wait for the engine's go before
    reading the inputs; `on_go(token)` then gets the done marker's token (None: no marker)."""
    from sdk import io

    transfer = io.PrefixTransfer(args.raw_output_data_prefix or io.join(args.output_prefix, "raw"))
    if gated:
        task = _load_before_gate(args, on_go)
        literal_map = _read_inputs(args.inputs)
    else:
        literal_map = _read_inputs(args.inputs)
        _prepare_code(args)
        task = _load_task(args.task_module, args.task_name)
    kwargs = _python_inputs(task, literal_map, transfer)
    if getattr(task, "is_dynamic", False) and os.environ.get(DYNAMIC_IMAGE_ENV):
        name, document = _dynamic_document(task, kwargs, args)
        _write_document(args, name, document)
        return
    try:
        result = task.execute(**kwargs)
    except Exception as exc:
        # Exceptions from user code are retried per TaskMetadata.retries (Skiff's DESIGN), so
        # they are recoverable; deterministic failures above are not.
        raise TaskFailure(USER, "USER:RuntimeError", _format_exception(exc), recoverable=True) from exc
    outputs = _output_literals(task, _named_outputs(task, result), transfer)
    _write_document(args, OUTPUTS_FILE, outputs)


def _load_before_gate(args, on_go=None):
    """The task, loaded while the gate is still shut; a failure to load it is only reported
    once the engine says go (an attempt that is never run reports nothing)."""
    try:
        _prepare_code(args)
        task, failure = _load_task(args.task_module, args.task_name), None
        # What reading the inputs and writing the outputs will import, imported now, and the
        # storage client made and connected (100+ ms that would otherwise follow the go).
        from flyteidl.core import literals_pb2  # noqa: F401

        from sdk import io
        from sdk.types import TypeEngine  # noqa: F401

        io.prepare_client(args.inputs)
    except Exception as exc:  # noqa: BLE001 - raised again past the gate, reported as usual
        task, failure = None, exc
    from sdk import start_gate

    token = start_gate.wait_for_go()
    if on_go is not None:
        on_go(token)
    if failure is not None:
        raise failure
    return task


def _dynamic_document(task, kwargs, args):
    """A @dynamic task's body run with its calls traced: ("futures.pb", the DynamicJobSpec the
    engine runs as a subworkflow), or ("outputs.pb", its outputs) when it called nothing.
    Its tasks run in the package's image ($SKIFF_DYNAMIC_DEFAULT_IMAGE) from the same bundle."""
    from sdk.compile.dynamic_spec import DynamicIds, compile_dynamic_job_spec
    from sdk.errors import SkiffError

    bundle = "" if _is_template(args.code_bundle) else args.code_bundle
    try:
        built = compile_dynamic_job_spec(task, kwargs, os.environ[DYNAMIC_IMAGE_ENV], bundle,
                                         DynamicIds.from_environment(os.environ))
    except SkiffError as exc:  # a graph Skiff cannot compile: the same on every attempt
        raise TaskFailure(USER, "USER:CompileError", _format_exception(exc), recoverable=False) from exc
    except Exception as exc:
        raise TaskFailure(USER, "USER:RuntimeError", _format_exception(exc), recoverable=True) from exc
    return (OUTPUTS_FILE if type(built).__name__ == "LiteralMap" else FUTURES_FILE), built


def _write_document(args, name: str, document) -> None:
    from sdk import io

    try:
        io.write_bytes(io.join(args.output_prefix, name), document.SerializeToString())
    except Exception as exc:
        raise TaskFailure(
            SYSTEM, "SYSTEM:OutputsUnwritable", f"cannot write {name}: {exc}", recoverable=True
        ) from exc


def main(argv=None) -> int:
    """Run the task; the exit code. Called without `argv` it is the process's entry point
    (the console script), and exits without tearing the interpreter down."""
    tokens: list = []  # the done marker's, from the engine's go line
    code = _run(sys.argv[1:] if argv is None else argv, tokens.append)
    if argv is None:
        _exit_without_teardown(code, tokens[0] if tokens else None)
    return code


def _run(argv, on_go=None) -> int:
    from sdk import start_gate

    args = _parse_args(argv)
    try:
        run_task(args, gated=start_gate.requested(), on_go=on_go)
        return 0
    except start_gate.GateClosed:
        return start_gate.CLOSED_EXIT
    except TaskFailure as failure:
        document = _error_document(failure)
    except Exception as exc:  # a bug in Skiff itself: still report it through error.pb
        document = _error_document(
            TaskFailure(SYSTEM, "SYSTEM:Unknown", _format_exception(exc), recoverable=True)
        )
    print(f"skiff-execute: task {args.task_module}.{args.task_name} failed:\n{document.error.message}", file=sys.stderr)
    from sdk import io

    try:
        io.write_bytes(io.join(args.output_prefix, ERROR_FILE), document.SerializeToString())
    except Exception as exc:
        print(f"skiff-execute: cannot write {ERROR_FILE} under {args.output_prefix}: {exc}", file=sys.stderr)
        return 1
    return 0


def _exit_without_teardown(code: int, done_token: str | None = None) -> None:
    """Exit at once. Tearing down every module (protobuf's above all) takes 10-20 ms of each
    task container and changes nothing: the document is written. What a normal exit does
    that a user can observe still happens: atexit handlers run (logging flushes there) and the
    standard streams are flushed. With other threads alive, return to the normal exit, which
    waits for them (and no done marker: the task is not over until they are). With
    `done_token`, the done marker (sdk.start_gate) goes out last."""
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed stream: nothing left to flush
            pass
    if done_token is not None:
        from sdk import start_gate

        start_gate.announce_done(done_token, code)
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())

"""CLI commands backed by the local sandbox engine.

`skiff sandbox run PKG ENTITY`, `skiff executions list|show|resume|terminate`,
`skiff logs [-f] ID NODE`,
`skiff cache list|clear`, and `run_in_sandbox` behind `skiff run --sandbox`. Only click is
imported at module level: `skiff --version` must stay fast, so everything else loads lazily.
"""
from __future__ import annotations

import json
import sys
import threading
import time

import click

from sdk.errors import SandboxError, SkiffError

_STATE_STYLE = {"succeeded": "green", "cached": "cyan", "failed": "red", "running": "yellow",
                "retrying": "magenta", "queued": "dim", "waiting": "bold yellow"}


# ---- sandbox state and engine ---------------------------------------------------------------


def _sandbox_state(bring_up: bool, quiet: bool = False):
    """The recorded sandbox state; brought up first when allowed and missing or stopped (its
    long steps shown on stderr unless quiet)."""
    from sandbox.home import SandboxState, state_path

    if state_path().exists():
        state = SandboxState.load()
        if not bring_up or _minio_alive(state):
            return state
    elif not bring_up:
        raise SandboxError("no sandbox is up; run `skiff sandbox up`")
    try:
        from sandbox import services
    except ImportError as exc:
        raise SandboxError(f"the sandbox is not up and cannot be brought up ({exc}); "
                           "run `skiff sandbox up`") from None
    from sandbox.cli.progress import StepProgress

    if not quiet:
        click.echo("Bringing the sandbox up (`skiff sandbox up`)...", err=True)
    with StepProgress(quiet) as say:
        return services.up(say=say)


def _minio_alive(state) -> bool:
    import os

    if state.minio_pid:
        try:
            os.kill(state.minio_pid, 0)
            return True
        except OSError:
            return False
    return bool(state.minio_endpoint)


def _store(state):
    from sandbox.store import open_store

    return open_store(state.database_url)


# ---- progress ---------------------------------------------------------------------------------


class _PlainProgress:
    """One line per node transition (when stderr is not a terminal)."""

    def __init__(self):
        self._lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, event) -> None:
        if event.state == "queued":
            return
        if event.state == "waiting":
            click.echo(f"{event.node_id}: {event.error}", err=True)
            return
        done = event.state in ("succeeded", "failed", "cached")
        duration = f" {event.duration:.2f}s" if done and event.duration is not None else ""
        task = f" ({event.task})" if event.task else ""
        with self._lock:
            click.echo(f"{event.node_id}{task}: {event.state}, attempt {event.attempt}"
                       f"{duration}", err=True)


class _LiveProgress:
    """A table of nodes (state, attempt, duration) refreshed in place while the run goes on."""

    def __init__(self, execution_id: str):
        self.execution_id = execution_id
        self.nodes: dict[str, tuple] = {}
        self._lock = threading.Lock()
        self._live = None

    def _render(self):
        from rich.table import Table

        table = Table(title=f"execution {self.execution_id}", title_justify="left")
        for column in ("node", "task", "state", "attempt", "duration"):
            table.add_column(column)
        now = time.monotonic()
        with self._lock:
            rows = list(self.nodes.items())
        for node_id, (task, state, attempt, duration, since) in rows:
            if duration is None and state in ("running", "retrying"):
                duration = now - since
            table.add_row(node_id, task or "", f"[{_STATE_STYLE.get(state, '')}]{state}",
                          str(attempt), f"{duration:.1f}s" if duration is not None else "")
        return table

    def __enter__(self):
        from rich.console import Console
        from rich.live import Live

        self._live = Live(get_renderable=self._render, console=Console(stderr=True),
                          refresh_per_second=8)
        self._live.__enter__()
        return self

    def __exit__(self, *exc):
        self._live.refresh()
        self._live.__exit__(*exc)
        return False

    def __call__(self, event) -> None:
        if event.state == "waiting" and self._live is not None:
            self._live.console.print(f"{event.node_id}: {event.error}")
        with self._lock:
            previous = self.nodes.get(event.node_id)
            since = previous[4] if previous and previous[1] == event.state else time.monotonic()
            self.nodes[event.node_id] = (event.task, event.state, event.attempt, event.duration,
                                         since)


def _progress(execution_id: str, quiet: bool):
    if quiet:
        return None
    return _LiveProgress(execution_id) if sys.stderr.isatty() else _PlainProgress()


# ---- running ----------------------------------------------------------------------------------


def _execute(state, execution_id: str, parallelism: int | None, quiet: bool,
             reuse_containers: bool | None = None):
    """Run or resume `execution_id` with a progress view; its outputs LiteralMap.
    `reuse_containers`: tasks in warm workers (None: the sandbox's setting), which are
    stopped when the run ends."""
    import contextlib

    from sandbox.engine import run_execution
    from sandbox.engine.setup import context_from_state

    from sandbox.engine.launch import load_plan

    progress = _progress(execution_id, quiet)
    click.echo(f"execution {execution_id}", err=True)
    ctx = context_from_state(state, parallelism, on_event=progress,
                             reuse_containers=reuse_containers)
    from sandbox.admin.execution_config import apply_settings

    apply_settings(ctx, execution_id)  # --overwrite-cache and --envvars it was started with
    try:
        with progress if progress is not None else contextlib.nullcontext():
            outputs = run_execution(ctx, execution_id)
    except KeyboardInterrupt:
        _stop_on_interrupt(ctx, execution_id)
    finally:
        ctx.runner.close()  # warm workers end with the run
    # Protobuf maps have no order; show outputs in the workflow's declared order.
    order = [b.var for b in load_plan(ctx.store, ctx.store.execution(execution_id)).outputs]
    return outputs, order


def _stop_on_interrupt(ctx, execution_id: str) -> None:
    """Ctrl-C: terminate the execution (its containers are killed, its running nodes recorded
    aborted) and exit 130. A second Ctrl-C while that happens leaves it running instead."""
    import os
    import signal

    from sandbox.engine.abort import terminate_execution

    signal.signal(signal.SIGINT, lambda *_: _leave_running(ctx, execution_id))
    click.echo(f"\nStopping execution {execution_id} (Ctrl-C again to leave it running)...",
               err=True)
    try:
        terminate_execution(ctx.store, execution_id, "interrupted (Ctrl-C)",
                            signal=ctx.aborts)
        click.echo(f"Stopped execution {execution_id}: its containers were killed and its "
                   "running nodes recorded aborted.", err=True)
    except SkiffError as exc:  # it ended just now
        click.echo(f"Error: {exc}", err=True)
    sys.stderr.flush()
    sys.stdout.flush()
    try:
        ctx.runner.close()  # warm workers end with the run
    except Exception:  # noqa: BLE001 - exiting anyway; they exit when their stdin closes
        pass
    os._exit(130)  # node threads may still wait on Docker: do not join them


def _leave_running(ctx, execution_id: str) -> None:
    """A second Ctrl-C: leave the running containers alone (a resume waits for them)."""
    import os

    try:
        ctx.store.update_execution(execution_id, state="interrupted")
        ctx.store.request_abort(execution_id, None)
    except Exception:  # noqa: BLE001 - leaving anyway
        pass
    click.echo(f"\nLeft running. Running containers carry on; continue with `skiff executions "
               f"resume {execution_id}`.", err=True)
    sys.stderr.flush()
    os._exit(130)


def start_detached(state, execution_id: str, reuse_containers: bool | None = None) -> None:
    """--detach: run the execution in an engine process of its own that outlives this one;
    say how to follow and stop it."""
    from sandbox.engine.detached import start

    pid = start(state, execution_id, reuse_containers).pid
    click.echo(f"execution {execution_id} runs in the background (engine process {pid}); "
               f"follow it with `skiff executions show {execution_id}` or `skiff logs -f "
               f"{execution_id} NODE`, stop it with `skiff executions terminate "
               f"{execution_id}`", err=True)
    click.echo(execution_id)


def _print_outputs(result, as_json: bool) -> None:
    from sdk.types.display import literal_to_plain

    outputs, order = result
    names = [n for n in order if n in outputs.literals]
    names += sorted(set(outputs.literals) - set(names))
    values = {name: literal_to_plain(outputs.literals[name]) for name in names}
    try:
        from sandbox.cli.outputs import format_outputs
    except ImportError:
        format_outputs = None
    if format_outputs is not None:
        text = format_outputs(values, as_json)
    elif as_json:
        text = json.dumps(values)
    else:
        text = "\n".join(f"{k}: {v if isinstance(v, str) else json.dumps(v)}"
                         for k, v in values.items())
    if text or as_json:
        click.echo(text)


def _launch(state, package_path, entity_name, inputs_literal_map, project, domain,
            version=None, package=None, quiet: bool = False, overwrite_cache: bool = False,
            envs: dict | None = None) -> str:
    """Register the package and create the execution (nothing stored if either fails)."""
    from sandbox.cli.progress import StepProgress
    from sandbox.cli.upload_progress import upload_progress
    from sandbox.engine import create_execution
    from sandbox.registry import read_package, register_package
    from sandbox.storage import ObjectStore

    package = package or read_package(package_path)
    if package.find(entity_name) is None:
        names = sorted({e.name for e in package.entities})
        raise SkiffError(f"package {package_path} has no task, workflow or launch plan named "
                         f"{entity_name!r}; it has {', '.join(names)}")
    store = _store(state)
    with StepProgress(quiet, delay_s=1.0) as say:  # shown only when it takes a while
        say(f"registering {package_path} in {project}/{domain} (uploading its code bundle)")
        registration = register_package(store, ObjectStore.from_state(state), package, project,
                                        domain, version,
                                        progress=None if quiet else upload_progress(say=say))
    execution_id = create_execution(store, project, domain, entity_name, registration.version,
                                    inputs_literal_map)
    from sandbox.admin.execution_config import remember_settings

    remember_settings(store, execution_id, overwrite_cache, envs or {})
    return execution_id


def run_in_sandbox(package_path, entity_name, inputs_literal_map, project, domain, as_json,
                   parallelism: int | None = None, quiet: bool = False,
                   overwrite_cache: bool = False, envs: dict | None = None,
                   detach: bool = False, reuse_containers: bool | None = None) -> int:
    """Register `package_path`, run `entity_name` in containers and print its outputs (with
    `detach`, start it in the background and print its id).

    Raises ExecutionFailed (exit 1) when the execution fails, other SkiffErrors (exit 2) for
    a bad package or bad inputs, in which case nothing is stored."""
    state = _sandbox_state(bring_up=True, quiet=quiet)
    execution_id = _launch(state, package_path, entity_name, inputs_literal_map, project,
                           domain, quiet=quiet, overwrite_cache=overwrite_cache, envs=envs)
    if detach:
        start_detached(state, execution_id, reuse_containers)
        return 0
    outputs = _execute(state, execution_id, parallelism, quiet, reuse_containers)
    _print_outputs(outputs, as_json)
    return 0


# ---- inputs from the command line --------------------------------------------------------------


def _entity_interface(package, entity_name: str):
    from sandbox.registry import LAUNCH_PLAN, TASK

    entity = package.find(entity_name)
    if entity is None:
        names = sorted({e.name for e in package.entities})
        raise SkiffError(f"package {package.path} has no task, workflow or launch plan named "
                         f"{entity_name!r}; it has {', '.join(names)}")
    if entity.kind == LAUNCH_PLAN:
        workflow = entity.spec.spec.workflow_id.name
        for other in package.entities:
            if other.kind == 2 and other.name == workflow:
                return other.spec.template.interface
        return None  # the workflow is registered already; the engine checks the inputs
    if entity.kind == TASK:
        return entity.spec.template.interface
    return entity.spec.template.interface


def _registered_workflow_interface(state, package, entity_name: str, project: str, domain: str):
    """The interface of a launch plan whose workflow is not in the package but registered in
    the sandbox already (its latest version); else an error naming both."""
    from sandbox.registry import WORKFLOW, EntityNotFound, get_spec

    workflow = package.find(entity_name).spec.spec.workflow_id
    try:
        spec = get_spec(_store(state), WORKFLOW, project, domain, workflow.name,
                        workflow.version or None)
    except EntityNotFound:
        raise SkiffError(f"launch plan {entity_name} runs workflow {workflow.name}, which is "
                         f"neither in package {package.path} nor registered in {project}/{domain}; "
                         "package the workflow's file too, or register it first") from None
    return spec.template.interface


def _parse_extra_args(args: list[str], entity_name: str) -> dict[str, str]:
    from sandbox.cli.inputs import check_text

    values, i = {}, 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or arg == "--":
            raise SkiffError(f"unexpected argument {arg!r} for {entity_name}; give inputs as "
                             "--NAME VALUE")
        name, eq, value = arg[2:].partition("=")
        if not eq:
            if i + 1 >= len(args):
                raise SkiffError(f"{entity_name} input --{name} needs a value")
            value, i = args[i + 1], i + 1
        key = name.replace("-", "_")
        if key in values:
            raise SkiffError(f"{entity_name}: input {key!r} is given more than once; give each "
                             "input once")
        try:
            values[check_text(key)] = check_text(value)
        except ValueError as exc:
            raise SkiffError(f"{entity_name} input {key!r}: {exc}") from None
        i += 1
    return values


def _text_to_value(text: str, literal_type):
    """A command-line word as a JSON-like value of the input's type (sandbox.cli.inputs: the
    one parser every command uses)."""
    from sandbox.cli.inputs import text_to_jsonable

    return text_to_jsonable(text, _hint_of(literal_type))


def _hint_of(literal_type):
    """The Python hint of a literal type: plain ones here, the rest by the type engine."""
    import datetime as dt
    import typing

    kind = literal_type.WhichOneof("type")
    if kind == "simple":
        simple = {1: int, 2: float, 3: str, 4: bool, 5: dt.datetime, 6: dt.timedelta}
        if literal_type.simple in simple:
            return simple[literal_type.simple]
    if kind == "collection_type":
        return typing.List[_hint_of(literal_type.collection_type)]
    if kind == "map_value_type":
        return typing.Dict[str, _hint_of(literal_type.map_value_type)]
    from sdk.types import TypeEngine

    return TypeEngine.guess_python_type(literal_type)


def _checked_value(entity_name, name, text: str, literal_type):
    """A command-line word checked by the one input parser; for plain types the checked value
    (what the engine's literal_from_value encodes), else the JSON-like value it accepted."""
    from sandbox.cli.inputs import from_jsonable
    from sandbox.engine.launch import InputError

    try:
        value = _text_to_value(text, literal_type)
        checked = from_jsonable(value, _hint_of(literal_type))
    except (ValueError, TypeError, RecursionError) as exc:
        raise InputError(f"{entity_name} input {name!r}: {exc}") from None
    return checked if _plain(literal_type) else value


def _to_literal(entity_name, name, value, literal_type, transfer):
    """The value checked by the one input parser (sandbox.cli.inputs.from_jsonable), then
    encoded: plain values by the engine, the rest through the SDK's type engine (dataclasses,
    files, enums, as flytekit encodes them; local files are uploaded)."""
    from sandbox.cli.inputs import from_jsonable
    from sandbox.engine.launch import InputError
    from sandbox.engine.literals import literal_from_value

    label = f"{entity_name} input {name!r}"
    try:
        hint = _hint_of(literal_type)
        checked = from_jsonable(value, hint)
        if _plain(literal_type):
            return literal_from_value(checked, literal_type)
        from sdk.types import TypeEngine

        return TypeEngine.to_literal(checked, hint, transfer=transfer(), name=label)
    except (ValueError, TypeError, RecursionError, SkiffError) as exc:
        raise InputError(f"{label}: {exc}") from None


def _plain(literal_type) -> bool:
    """Primitives and lists/dicts of them: encoded alike by the engine and the type engine,
    so the CLI skips importing the latter (start-up time)."""
    kind = literal_type.WhichOneof("type")
    if kind == "simple":
        return literal_type.simple in (1, 2, 3, 4)  # int float str bool
    if kind == "collection_type":
        return _plain(literal_type.collection_type)
    if kind == "map_value_type":
        return _plain(literal_type.map_value_type)
    return False


def _inputs_from_cli(interface, entity_name, extra: dict[str, str], file_values: dict,
                     transfer=lambda: None):
    """A LiteralMap of the inputs the user gave (launch plan defaults are the engine's job)."""
    from flyteidl.core import literals_pb2

    from sandbox.engine.launch import InputError

    result = literals_pb2.LiteralMap()
    variables = interface.inputs.variables if interface is not None else {}
    merged = {**file_values, **extra}
    for name, value in merged.items():
        if name not in variables:
            known = ", ".join(f"--{v}" for v in variables) or "none"
            raise InputError(f"{entity_name} has no input {name!r}; its inputs are {known}")
        literal_type = variables[name].type
        if name in extra:
            try:
                value = _text_to_value(value, literal_type)
            except ValueError as exc:
                raise InputError(f"{entity_name} input {name!r}: {exc}") from None
        result.literals[name].CopyFrom(_to_literal(entity_name, name, value, literal_type,
                                                   transfer))
    return result


def _upload_transfer(state, project, domain):
    """A function returning where local File/Directory inputs go so containers can read them
    (as `skiff run` does); created on first use only."""
    made = []

    def transfer():
        if not made:
            import os

            try:
                from sdk import io
            except ImportError:
                return None
            os.environ.update(state.storage_env())
            made.append(io.PrefixTransfer(f"s3://{state.bucket}/raw/{project}/{domain}/"
                                          "cli-inputs"))
        return made[0]

    return transfer


def _read_inputs_file(path: str, entity: str) -> dict:
    from sandbox.cli.inputs import read_inputs_file

    try:
        return read_inputs_file(path, entity)
    except click.UsageError as exc:
        raise SkiffError(exc.message) from None


@click.command("run", context_settings={"ignore_unknown_options": True,
                                        "allow_extra_args": True})
@click.argument("package_path", metavar="PKG.tgz", type=click.Path(dir_okay=False))
@click.argument("entity")
@click.option("--project", default="default", show_default=True,
              help="Project to register the package and run in.")
@click.option("--domain", default="development", show_default=True,
              help="Domain to register the package and run in.")
@click.option("--version", default=None, help="Register under this version (default: a digest "
              "of the package).")
@click.option("--inputs-file", type=click.Path(exists=True, dir_okay=False),
              help="JSON or YAML object of input values; --NAME VALUE options override it.")
@click.option("--parallelism", type=click.IntRange(min=1), default=None,
              help="Nodes run at once (default 8, or SKIFF_PARALLELISM).")
@click.option("--overwrite-cache", is_flag=True,
              help="Recompute cached tasks; their results replace the cache entries.")
@click.option("--envvars", "--env", "envvars", multiple=True, metavar="KEY=VALUE",
              help="An environment variable for every task (repeat the option).")
@click.option("--json", "as_json", is_flag=True, help="Print the outputs as one JSON object.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
@click.option("--detach", is_flag=True, help="Start the execution in the background, print its "
              "id and return; it runs on after this command (stop it with `skiff executions "
              "terminate ID`).")
@click.option("--reuse-containers/--no-reuse-containers", default=None,
              help="Run tasks in warm workers: long-lived containers per image, resources, "
              "secrets and environment, each task in a fresh process forked in one (default: "
              "the sandbox's setting, `skiff sandbox up --reuse-containers`; else only tasks "
              "declared with @task(reuse_container=True)). --no-reuse-containers: none, not "
              "even those.")
@click.pass_context
def sandbox_run(ctx, package_path, entity, project, domain, version, inputs_file, parallelism,
                overwrite_cache, envvars, as_json, quiet, detach, reuse_containers):
    """Run ENTITY of a package in the sandbox; inputs as --NAME VALUE (from its interface)."""
    from sandbox.registry import read_package

    envs = parse_envvars(envvars)
    package = read_package(package_path)
    interface = _entity_interface(package, entity)
    file_values = _read_inputs_file(inputs_file, entity) if inputs_file else {}
    extra = _parse_extra_args(ctx.args, entity)
    state = _sandbox_state(bring_up=True, quiet=quiet)
    if interface is None:
        interface = _registered_workflow_interface(state, package, entity, project, domain)
    inputs = _inputs_from_cli(interface, entity, extra, file_values,
                              _upload_transfer(state, project, domain))
    execution_id = _launch(state, package_path, entity, inputs, project, domain, version,
                           package, quiet=quiet, overwrite_cache=overwrite_cache, envs=envs)
    if detach:
        start_detached(state, execution_id, reuse_containers)
        return
    outputs = _execute(state, execution_id, parallelism, quiet, reuse_containers)
    _print_outputs(outputs, as_json)


def parse_envvars(pairs) -> dict[str, str]:
    """--envvars KEY=VALUE options as a dict; a malformed one is a usage error."""
    env = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            from sandbox.cli.usage import FlagError

            raise FlagError(f"--envvars {pair!r} is not KEY=VALUE; write it as --envvars KEY=VALUE")
        env[key] = value
    return env


# ---- executions, logs, cache ----------------------------------------------------------------------


@click.group("executions")
def executions() -> None:
    """List and show the sandbox's executions; resume, recover or relaunch them; answer their
    gate nodes (signal, approve, reject)."""


@executions.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1),
              help="Show at most this many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def executions_list(limit, as_json):
    """The most recent executions."""
    state = _sandbox_state(bring_up=False)
    rows = _store(state).executions(limit)
    items = [{"id": r.id, "project": r.project, "domain": r.domain,
              "entity": r.launch_plan or r.workflow, "version": r.version, "state": r.state,
              "created": r.created_at.isoformat(timespec="seconds"),
              "duration": _seconds(r.started_at, r.ended_at)} for r in rows]
    if as_json:
        click.echo(json.dumps(items))
        return
    for item in items:
        duration = f"{item['duration']:.1f}s" if item["duration"] is not None else "-"
        click.echo(f"{item['id']}  {item['state']:<9} {duration:>8}  {item['created']}  "
                   f"{item['project']}/{item['domain']}  {item['entity']}")


def _seconds(start, end):
    return (end - start).total_seconds() if start and end else None


def _load_execution(store, execution_id):
    row = store.execution(execution_id)
    if row is None:
        raise SkiffError(f"execution {execution_id!r} does not exist; see `skiff executions list`")
    return row


@executions.command("show")
@click.argument("execution_id")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def executions_show(execution_id, as_json):
    """An execution's inputs, outputs, error and node states."""
    from flyteidl.core import literals_pb2

    from sdk.types.display import literal_map_to_plain

    state = _sandbox_state(bring_up=False)
    store = _store(state)
    row = _load_execution(store, execution_id)
    nodes = store.nodes(execution_id)

    def plain(data):
        return literal_map_to_plain(literals_pb2.LiteralMap.FromString(data)) if data else None

    detail = {
        "id": row.id, "project": row.project, "domain": row.domain,
        "launch_plan": row.launch_plan, "workflow": row.workflow, "version": row.version,
        "state": row.state, "inputs": plain(row.inputs), "outputs": plain(row.outputs),
        "error": row.error, "duration": _seconds(row.started_at, row.ended_at),
        "nodes": [{"node": n.node_id, "task": n.task, "state": n.state, "attempt": n.attempt,
                   "duration": n.duration, "inputs_uri": n.input_uri,
                   "output_prefix": n.output_uri, "outputs": plain(n.outputs),
                   "error": n.error} for n in nodes],
    }
    if as_json:
        click.echo(json.dumps(detail, default=str))
        return
    click.echo(f"execution {row.id}  {row.state}  {row.project}/{row.domain}  "
               f"{row.launch_plan or row.workflow} (version {row.version})")
    click.echo(f"inputs:  {json.dumps(detail['inputs'])}")
    if detail["outputs"] is not None:
        click.echo(f"outputs: {json.dumps(detail['outputs'])}")
    for node in detail["nodes"]:
        duration = f"{node['duration']:.2f}s" if node["duration"] is not None else "-"
        click.echo(f"  {node['node']:<12} {node['state']:<9} attempt {node['attempt']}  "
                   f"{duration:>8}  {node['task'] or ''}")
        if node["outputs"] is not None:
            click.echo(f"      outputs: {json.dumps(node['outputs'])}")
        if node["error"]:
            click.echo("      error: " + node["error"].replace("\n", "\n      "))
    if row.error:
        click.echo(f"error: {row.error}")


@executions.command("resume")
@click.argument("execution_id")
@click.option("--parallelism", type=click.IntRange(min=1), default=None,
              help="Nodes run at once (default 8, or SKIFF_PARALLELISM).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def executions_resume(execution_id, parallelism, as_json, quiet):
    """Continue an execution whose engine stopped; completed nodes are not run again."""
    state = _sandbox_state(bring_up=True, quiet=quiet)
    _load_execution(_store(state), execution_id)
    outputs = _execute(state, execution_id, parallelism, quiet)
    _print_outputs(outputs, as_json)


def _run_again(execution_id, name, parallelism, as_json, quiet, keep_completed: bool):
    from sandbox.engine.launch import run_again

    state = _sandbox_state(bring_up=True, quiet=quiet)
    new_id = run_again(_store(state), execution_id, execution_id=name,
                       keep_completed=keep_completed)
    outputs = _execute(state, new_id, parallelism, quiet)
    _print_outputs(outputs, as_json)


def _run_again_options(command):
    """The argument and options recover and relaunch share (as stacked decorators, in order)."""
    for option in reversed((
        click.argument("execution_id"),
        click.option("--name", default=None, help="Id of the new execution (default: generated)."),
        click.option("--parallelism", type=click.IntRange(min=1), default=None,
                     help="Nodes run at once (default 8, or SKIFF_PARALLELISM)."),
        click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout."),
        click.option("--quiet", "-q", is_flag=True, help="No progress on stderr."),
    )):
        command = option(command)
    return command


@executions.command("recover")
@_run_again_options
def executions_recover(execution_id, name, parallelism, as_json, quiet):
    """Run a failed execution again as a new one, from where it failed: nodes that completed
    keep their outputs (Flyte's recover). Same version and inputs."""
    _run_again(execution_id, name, parallelism, as_json, quiet, keep_completed=True)


@executions.command("relaunch")
@_run_again_options
def executions_relaunch(execution_id, name, parallelism, as_json, quiet):
    """Run an execution again as a new one with the same version and inputs; every node runs
    (cached tasks still come from the cache)."""
    _run_again(execution_id, name, parallelism, as_json, quiet, keep_completed=False)


@executions.command("signal")
@click.argument("execution_id")
@click.argument("node_id")
@click.argument("value")
def executions_signal(execution_id, node_id, value):
    """Give a waiting `wait_for_input` gate its VALUE (typed as the gate declares)."""
    from sandbox.engine import gates
    from sandbox.engine.launch import InputError

    store = _store(_sandbox_state(bring_up=False))
    try:
        signal_type = gates.signal_type(store, execution_id, node_id)  # or GateError
        gate = gates.find_gate(store, store.execution(execution_id), node_id, "signal")
        checked = _checked_value(f"gate {node_id!r}", gate.signal_id, value, signal_type)
        signal_id = gates.signal(store, execution_id, node_id, checked)
    except gates.GateError as exc:
        raise InputError(str(exc)) from None
    click.echo(f"sent {signal_id}={value} to {execution_id} {node_id}")


@executions.command("approve")
@click.argument("execution_id")
@click.argument("node_id")
def executions_approve(execution_id, node_id):
    """Approve a waiting `approve` gate: the gated value flows on."""
    from sandbox.engine import gates

    store = _store(_sandbox_state(bring_up=False))
    signal_id = gates.approve(store, execution_id, node_id)
    click.echo(f"approved {signal_id} of {execution_id} {node_id}")


@executions.command("reject")
@click.argument("execution_id")
@click.argument("node_id")
@click.option("--reason", default="", help="Why; shown in the execution's error.")
def executions_reject(execution_id, node_id, reason):
    """Reject a waiting `approve` gate: the execution fails at that node."""
    from sandbox.engine import gates

    store = _store(_sandbox_state(bring_up=False))
    signal_id = gates.reject(store, execution_id, node_id, reason)
    click.echo(f"rejected {signal_id} of {execution_id} {node_id}")


@executions.command("terminate")
@click.argument("execution_id")
@click.option("--cause", default="terminated by the user", show_default=True,
              help="Why; recorded as the execution's error.")
def executions_terminate(execution_id, cause):
    """Stop a running execution: its containers are killed and its unfinished nodes recorded
    aborted (run it again with `executions relaunch` or `recover`)."""
    from sandbox.engine.abort import terminate_execution

    state = _sandbox_state(bring_up=False)
    row = terminate_execution(_store(state), execution_id, cause)
    click.echo(f"execution {execution_id} {row.state}")


FOLLOW_POLL_S = 0.25


@click.command("logs")
@click.argument("execution_id")
@click.argument("node_id")
@click.option("-f", "--follow", is_flag=True, help="Keep printing the output as the node "
              "runs, until it ends.")
def logs(execution_id, node_id, follow):
    """The container logs of one node (every attempt)."""
    from sandbox.engine.live_logs import read_node_log
    from sandbox.store.records import ENDED_EXECUTION_STATES, UNFINISHED_STATES

    state = _sandbox_state(bring_up=False)
    store = _store(state)
    _load_execution(store, execution_id)
    offset = 0
    while True:
        found = read_node_log(store, execution_id, node_id, offset)
        if found is None:
            raise SkiffError(f"execution {execution_id} has no node {node_id!r}; see "
                             f"`skiff executions show {execution_id}`")
        text, node_state = found
        if text:
            click.echo(text, nl=False)
            sys.stdout.flush()
            offset += len(text)
        if not follow or node_state not in UNFINISHED_STATES:
            # a node that just ended may have stored its last lines after our read
            if follow:
                rest = read_node_log(store, execution_id, node_id, offset)
                if rest and rest[0]:
                    click.echo(rest[0], nl=False)
            return
        execution = store.execution(execution_id)
        if execution.state in ENDED_EXECUTION_STATES or execution.state == "interrupted":
            return  # the node will not go on (its engine stopped)
        time.sleep(FOLLOW_POLL_S)


@click.group("cache")
def cache() -> None:
    """The sandbox's task cache."""


@cache.command("list")
@click.argument("task", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
def cache_list(task, as_json):
    """Cached task results (of TASK only, when given)."""
    state = _sandbox_state(bring_up=False)
    entries = _store(state).cache_entries(task)
    items = [{"task": e.task, "cache_version": e.cache_version, "project": e.project,
              "domain": e.domain, "key": e.key[:16], "execution": e.execution_id,
              "created": e.created_at.isoformat(timespec="seconds")} for e in entries]
    if as_json:
        click.echo(json.dumps(items))
        return
    for item in items:
        click.echo(f"{item['key']}  {item['task']} (cache version {item['cache_version']})  "
                   f"{item['project']}/{item['domain']}  {item['created']}  "
                   f"from {item['execution']}")


@cache.command("clear")
@click.argument("task", required=False)
@click.option("--all", "clear_all", is_flag=True, help="Forget the cached results of every task.")
def cache_clear(task, clear_all):
    """Forget the cached results of TASK (or of every task, with --all)."""
    if bool(task) == clear_all:
        raise click.UsageError("name the TASK whose cached results to forget, or give --all "
                               "for every task")
    state = _sandbox_state(bring_up=False)
    count = _store(state).cache_clear(task)
    click.echo(f"removed {count} cache entr{'y' if count == 1 else 'ies'}"
               + (f" of {task}" if task else ""))


def register(cli: click.Group) -> None:
    """Attach the engine's commands: `sandbox run` under the sandbox group, the rest on top."""
    try:
        from sandbox.cli.sandbox_cmd import sandbox as sandbox_group
    except ImportError:
        sandbox_group = None
    if sandbox_group is not None:
        sandbox_group.add_command(sandbox_run)
    cli.add_command(executions)
    cli.add_command(logs)
    cli.add_command(cache)

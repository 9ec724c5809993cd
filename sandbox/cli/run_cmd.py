"""`skiff run FILE [ENTITY] [--INPUT ...]`: run a task, workflow or launch plan.

Built like `pyflyte run`: `run` is a group whose sub-command is the file, and the file is a group
whose sub-commands are the entities it defines, each with one typed option per input. So
`skiff run wf.py` lists the entities, `skiff run wf.py pipeline --help` shows the docstring and
inputs, and shell completion offers entity names. In-process by default; `--sandbox` packages
the file and hands it to the local engine.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from dataclasses import dataclass

import click

from sandbox.cli import inputs as cli_inputs
from sandbox.cli.entities import Entity, find_entity, load_entities
from sandbox.cli.outputs import format_outputs
from sandbox.cli.usage import FlagError
from sandbox.cli.package_cmd import copy_option
from sdk.errors import ExecutionFailed, SandboxError, SkiffError

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    sandbox: bool = False
    project: str = "default"
    domain: str = "development"
    image: str | None = None
    as_json: bool = False
    remote: bool = False
    remote_options: object = None  # sandbox.cli.remote_cmd.RemoteOptions with --remote
    compile_cache: bool = True  # --sandbox: reuse the package compiled from unchanged sources
    detach: bool = False  # --sandbox: start the execution in the background and return
    parallelism: int | None = None  # --sandbox
    quiet: bool = False  # --sandbox: no progress on stderr
    overwrite_cache: bool = False  # --sandbox or --remote
    envs: dict | None = None  # --sandbox or --remote: KEY=VALUE for every task
    copy: str = "auto"  # --sandbox/--remote: which files the code bundle holds (pyflyte run's --copy)
    reuse_containers: bool | None = None  # --sandbox: warm workers (None: the sandbox's setting)


def _run_options(ctx: click.Context) -> RunOptions:
    return ctx.meta.setdefault("skiff.run", RunOptions())


# ---- one entity -----------------------------------------------------------------------------


def named_outputs(interface, result) -> dict:
    """The call's result keyed by output name (o0, o1, ... or the NamedTuple's fields)."""
    names = list(interface.outputs)
    if not names:
        return {}
    if len(names) == 1:
        return {names[0]: result}
    return dict(zip(names, result))


def run_in_process(entity: Entity, values: dict) -> dict:
    try:
        result = entity.obj(**values)
    except SkiffError:
        raise
    except Exception as exc:
        # The user's own traceback helps more than anything Skiff could say about it.
        traceback.print_exc(file=sys.stderr)
        raise ExecutionFailed(f"{entity.kind} {entity.name} failed: {type(exc).__name__}: {exc}") from exc
    return named_outputs(entity.interface, result)


def sandbox_image(options: RunOptions, state) -> str:
    """--image, else the sandbox's runtime image, else skiff-runtime:latest."""
    from sandbox.cli.package_cmd import FALLBACK_IMAGE

    return options.image or (state.runtime_image if state else "") or FALLBACK_IMAGE


def run_in_sandbox(path: str, entity: Entity, values: dict, options: RunOptions) -> int:
    """Run `entity` in the sandbox: from the package the compiled-package cache found for it
    (sandbox.cli.compiled_cache.CachedEntity), else from a package compiled now."""
    from sandbox.cli.package_cmd import sandbox_state

    try:
        from sandbox.cli.engine_cmd import run_in_sandbox as engine_run
    except ImportError as exc:
        raise SandboxError(f"cannot run {entity.name} in the sandbox: the sandbox engine is not installed ({exc})")
    state = sandbox_state(bring_up=True, quiet=options.quiet)
    image = sandbox_image(options, state)
    literal_map = _inputs_literal_map(entity, values, state, options)
    cached_package = getattr(entity, "package", None)
    # The image can differ when bringing the sandbox up rebuilt it; then compile for the new one.
    settings = dict(parallelism=options.parallelism, quiet=options.quiet,
                    overwrite_cache=options.overwrite_cache, envs=options.envs,
                    reuse_containers=options.reuse_containers)
    if cached_package is not None and entity.image == image and os.path.exists(cached_package):
        return engine_run(cached_package, entity.name, literal_map, options.project,
                          options.domain, options.as_json, detach=options.detach, **settings)
    import tempfile  # only to compile: a cached rerun skips its imports (15 ms)

    with tempfile.TemporaryDirectory(prefix="skiff-run-") as scratch:
        package = os.path.join(scratch, "package.tgz")
        compile_package(path, image, package, options)
        return engine_run(package, entity.name, literal_map, options.project, options.domain,
                          options.as_json, detach=options.detach, **settings)


def compile_package(path: str, image: str, package: str, options: RunOptions) -> None:
    """Write the package (--sandbox and --remote); with the compiled-package cache on, keep it
    for the next run."""
    import time

    from sandbox.cli.package_cmd import write_package

    if not options.compile_cache:
        write_package([path], image, package, options.copy)
        return
    from sandbox.cli import compiled_cache

    key = compiled_cache.cache_key(path, image, options.copy)
    started = time.time_ns()
    contents = write_package([path], image, package, options.copy)
    compiled_cache.store(key, path, image, package, load_entities(path), options.copy,
                         contents.bundle_contents, started)


def _inputs_literal_map(entity: Entity, values: dict, state, options: RunOptions):
    """Every input but the launch plan's fixed ones, defaults filled in (a task has no launch
    plan to supply them). Local File/Directory inputs are uploaded so containers can read them."""
    from flyteidl.core import literals_pb2

    literal_map = literals_pb2.LiteralMap()
    transfer = _LazyTransfer(state, options)
    for name, value in {**entity.interface.defaults, **values}.items():
        if name not in entity.interface.inputs:
            continue
        hint = entity.interface.inputs[name]
        literal = _primitive_literal(value, hint)
        if literal is None:
            from sdk.types import TypeEngine

            literal = TypeEngine.to_literal(value, hint, transfer=transfer.get(),
                                            name=f"{entity.kind} {entity.name} input '{name}'")
        literal_map.literals[name].CopyFrom(literal)
    return literal_map


# flyteidl SimpleType of the hints whose values are one primitive: INTEGER, FLOAT, STRING, BOOLEAN.
_PRIMITIVES = {int: 1, float: 2, str: 3, bool: 4}


def _primitive_literal(value, hint):
    """An int, float, str or bool value of exactly that hint, as the engine encodes it (the
    same bytes as the type engine; a test holds them equal) without loading the type engine,
    which a cached rerun would otherwise import for its inputs alone. None for anything else."""
    if not isinstance(hint, type) or type(value) is not hint or hint not in _PRIMITIVES:
        return None
    from flyteidl.core import types_pb2

    from sandbox.engine.literals import literal_from_value

    return literal_from_value(value, types_pb2.LiteralType(simple=_PRIMITIVES[hint]))


class _LazyTransfer:
    """Where local File/Directory inputs are uploaded; made when the first one needs it."""

    def __init__(self, state, options: RunOptions):
        self.state, self.options, self._transfer = state, options, None

    def get(self):
        state = self.state
        if self._transfer is None and state is not None and state.minio_endpoint:
            from sdk import io

            os.environ.update(state.storage_env())
            self._transfer = io.PrefixTransfer(
                f"s3://{state.bucket}/raw/{self.options.project}/{self.options.domain}/cli-inputs")
        return self._transfer


class EntityCommand(click.Command):
    """`skiff run FILE ENTITY`: options from the entity's interface."""

    def __init__(self, path: str, entity: Entity):
        self.path = path
        self.entity = entity
        params = cli_inputs.input_options(entity.interface, frozenset(entity.fixed_inputs))
        params.append(
            click.Option(
                ["--inputs-file", "skiff_inputs_file"],
                type=click.Path(dir_okay=False),
                help="YAML or JSON mapping of input names to values; options given as well win.",
            )
        )
        params.append(
            click.Option(["--json", "skiff_json"], is_flag=True, help="Print the outputs as one JSON object.")
        )
        help_text = entity.description or f"Run {entity.kind} {entity.name}."
        super().__init__(
            name=entity.short,
            params=params,
            callback=self._run,
            help=help_text,
            short_help=f"{entity.kind}: {_first_line(help_text)}" if entity.description else entity.kind,
        )

    def parse_args(self, ctx, args):
        cli_inputs.reject_repeated(args, set(self.entity.interface.inputs),
                                   f"{self.entity.kind} {self.entity.name}")
        try:
            return super().parse_args(ctx, args)
        except click.BadParameter as error:
            # click names the option only; say which entity and input it belongs to.
            param = error.param
            if param is None or param.name in ("skiff_inputs_file", "skiff_json"):
                raise
            flag = param.opts[0] if getattr(param, "opts", None) else param.name
            raise click.UsageError(
                f"{self.entity.kind} {self.entity.name}: invalid value for input '{param.name}' ({flag}): "
                f"{error.message}",
                ctx,
            ) from error

    def _run(self, skiff_inputs_file=None, skiff_json=False, **typed):
        ctx = click.get_current_context()
        options = _run_options(ctx)
        as_json = options.as_json or skiff_json
        label = f"{self.entity.kind} {self.entity.name}"
        file_values = cli_inputs.read_inputs_file(skiff_inputs_file, label) if skiff_inputs_file else {}
        values = cli_inputs.resolve_inputs(label, self.entity.interface, typed, file_values, self.entity.fixed_inputs)
        if options.remote:
            from sandbox.cli.remote_cmd import run_file_remote

            ctx.exit(run_file_remote(self.path, self.entity, values, options, as_json))
        if options.sandbox:
            options.as_json = as_json
            code = run_in_sandbox(self.path, self.entity, values, options)
            _exit_now_when_console_script(code)
            ctx.exit(code)
        outputs = run_in_process(self.entity, values)
        text = format_outputs(outputs, as_json)
        if text or as_json:
            click.echo(text)


def _exit_now_when_console_script(code: int) -> None:
    """The run is over and its outputs printed: exit without tearing the interpreter down,
    as skiff-execute does (atexit handlers run, streams flushed). Closing the store's SQLite
    connection checkpoints its WAL and freeing every module takes ~15 ms, a tenth of a cached
    rerun, and changes nothing a user sees (committed data is in the WAL file). Only in the
    `skiff` process itself, never when the CLI runs inside another program (tests)."""
    if os.path.splitext(os.path.basename(sys.argv[0]))[0] != "skiff":
        return
    from sdk.entrypoint import _exit_without_teardown

    _exit_without_teardown(code)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# ---- one file -------------------------------------------------------------------------------


class FileGroup(click.Group):
    """`skiff run FILE`: lists the file's entities; each is a sub-command."""

    def __init__(self, path: str):
        super().__init__(
            name=path,
            invoke_without_command=True,
            callback=self._list,
            help=f"Tasks, workflows and launch plans defined in {path}.",
        )
        self.path = path
        self._entities: dict[str, Entity] | None = None

    def entities(self) -> dict[str, Entity]:
        if self._entities is None:
            self._entities = load_entities(self.path)
        return self._entities

    def list_commands(self, ctx):
        return list(self.entities())

    def get_command(self, ctx, name):
        cached = _cached_entity(ctx, self.path, name)
        if cached is not None:
            return EntityCommand(self.path, cached)
        return EntityCommand(self.path, find_entity(self.path, name))

    def _list(self):
        ctx = click.get_current_context()
        if ctx.invoked_subcommand is not None:
            return
        entities = self.entities()
        if not entities:
            click.echo(f"{self.path} defines no tasks, workflows or launch plans.")
            return
        width = max(len(n) for n in entities)
        for kind, heading in (("task", "Tasks"), ("workflow", "Workflows"), ("launch plan", "Launch plans")):
            names = [e for e in entities.values() if e.kind == kind]
            if not names:
                continue
            click.echo(f"{heading}:")
            for entity in names:
                summary = _first_line(entity.description)
                click.echo(f"  {entity.short.ljust(width)}  {summary}".rstrip())
        click.echo(f"\nRun one with: skiff run {self.path} NAME [--INPUT VALUE ...]  (--help for its inputs)")


def _cached_entity(ctx: click.Context, path: str, name: str):
    """With --sandbox or --remote, the entity as compiled last time from unchanged sources (see
    sandbox.cli.compiled_cache), so the user's module is not imported; None to load the file."""
    options = ctx.meta.get("skiff.run")
    if options is None or not (options.sandbox or options.remote) or not options.compile_cache:
        return None
    from sandbox.cli.package_cmd import sandbox_state

    state = sandbox_state()
    if state is None and not options.remote:  # bringing the sandbox up may pick the image
        return None
    from sandbox.cli import compiled_cache

    entry = compiled_cache.lookup(path, sandbox_image(options, state), options.copy)
    return entry.find(name) if entry is not None else None


# ---- `skiff run` ----------------------------------------------------------------------------


REGISTERED_ENTITY_COMMANDS = ("remote-launchplan", "remote-workflow", "remote-task")


class RunGroup(click.Group):
    """The sub-command of `skiff run` is a file path."""

    def list_commands(self, ctx):
        # Offered by shell completion; loading them all for --help would run their imports.
        try:
            return sorted(n for n in os.listdir(".") if n.endswith(".py"))
        except OSError:
            return []

    def get_command(self, ctx, name):
        if name in REGISTERED_ENTITY_COMMANDS:
            from sandbox.cli.remote_cmd import RegisteredEntityCommand

            return RegisteredEntityCommand(name)
        if not name.endswith(".py") and not os.path.isfile(name):
            return None
        return FileGroup(name)

    def resolve_command(self, ctx, args):
        name = args[0]
        if name in REGISTERED_ENTITY_COMMANDS:
            if not ctx.params.get("remote"):  # resolved before run's own callback
                raise click.UsageError(f"{name} runs what an admin has registered; add --remote", ctx)
            return super().resolve_command(ctx, args)
        if not os.path.isfile(name):
            raise click.UsageError(f"workflow file {name} not found; give the path of a .py file", ctx)
        return super().resolve_command(ctx, args)

    def shell_complete(self, ctx, incomplete):
        """FILE completes as a path (the shell's own file completion); options as usual."""
        from click.shell_completion import CompletionItem

        if incomplete.startswith("-"):
            return super().shell_complete(ctx, incomplete)
        registered = [CompletionItem(name) for name in REGISTERED_ENTITY_COMMANDS
                      if ctx.params.get("remote") and name.startswith(incomplete)]
        return registered or [CompletionItem(incomplete, type="file")]

    def format_commands(self, ctx, formatter):
        with formatter.section("Arguments"):
            formatter.write_dl(
                [
                    ("FILE", "a Python file defining tasks, workflows or launch plans"),
                    ("ENTITY", "what to run; omit it to list what FILE defines"),
                ]
            )


# Which options apply where: each mode's own options are refused elsewhere (one usage line),
# so nothing given on the command line is silently ignored.
_SANDBOX_ONLY = ("compile_cache", "detach", "parallelism", "quiet", "reuse_containers")
_REMOTE_ONLY = ("remote_version", "remote_config", "remote_endpoint", "remote_insecure",
                "execution_name", "tags", "wait")
_NOT_IN_PROCESS = ("project", "domain", "image", "overwrite_cache", "envvars")


def _given(ctx: click.Context, name: str) -> bool:
    from click.core import ParameterSource

    return ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE,
                                              ParameterSource.ENVIRONMENT)


def _flag(ctx: click.Context, name: str) -> str:
    param = next(p for p in ctx.command.params if p.name == name)
    value = ctx.params.get(name)
    if isinstance(param, click.Option) and param.secondary_opts and value is False:
        return param.secondary_opts[0]
    return param.opts[0]


def _check_modes(ctx: click.Context, sandbox: bool, remote: bool) -> None:
    """--sandbox and --remote exclude each other; a mode's options need that mode."""
    if sandbox and remote:
        raise FlagError("--sandbox and --remote exclude each other; choose one", ctx)
    wrong = []
    if not sandbox:
        wrong += [(n, "--sandbox") for n in _SANDBOX_ONLY if _given(ctx, n)]
    if not remote:
        wrong += [(n, "--remote") for n in _REMOTE_ONLY if _given(ctx, n)]
    if not sandbox and not remote:
        wrong += [(n, "--sandbox or --remote") for n in _NOT_IN_PROCESS if _given(ctx, n)]
    if wrong:
        name, mode = wrong[0]
        flag = _flag(ctx, name)
        raise FlagError(f"{flag} has no effect without {mode}; add {mode}, or leave {flag} out", ctx)


@click.group(cls=RunGroup, name="run", subcommand_metavar="FILE [ENTITY] [--INPUT VALUE ...]")
@click.option("--sandbox", is_flag=True, help="Run in the local sandbox: every task in its own container.")
@click.option("--remote", is_flag=True, help="Register and run on a Flyte admin (see skiff register).")
@click.option("--project", default="default", show_default=True,
              help="--sandbox/--remote: project to register and run in.")
@click.option("--domain", default="development", show_default=True,
              help="--sandbox/--remote: domain to register and run in.")
@click.option("--image", default=None,
              help="--sandbox/--remote: task image (default: the sandbox's runtime image, which "
                   "exists only on this machine; give one a remote cluster can pull).")
@click.option("--json", "as_json", is_flag=True, help="Print the outputs as one JSON object.")
@click.option("--compile-cache/--no-compile-cache", default=True, show_default=True,
              help="--sandbox, --remote: reuse the package compiled last time when none of the files it was "
              "built from (what its code bundle holds and the modules compiling loaded), the image, --copy, "
              "Skiff or Python changed (the user's module is then not imported). It does not see modules "
              "imported from outside the source root (e.g. an edited library in site-packages) or "
              "environment variables read at import: use --no-compile-cache then.")
@copy_option(default="auto", modes=("auto", "all"))
@click.option("--detach", is_flag=True, help="--sandbox: start the execution in the background, print its id "
              "and return (Ctrl-C otherwise stops it; `skiff executions terminate ID` stops a detached one).")
@click.option("--parallelism", type=click.IntRange(min=1), default=None,
              help="--sandbox: nodes run at once (default 8, or SKIFF_PARALLELISM).")
@click.option("--quiet", "-q", is_flag=True, help="--sandbox: no progress on stderr.")
@click.option("--reuse-containers/--no-reuse-containers", default=None,
              help="--sandbox: run tasks in warm workers, long-lived containers per image, resources, "
              "secrets and environment, each task in a fresh process forked in one (default: the "
              "sandbox's setting, `skiff sandbox up --reuse-containers`; else only tasks declared "
              "with @task(reuse_container=True)). --no-reuse-containers: none, not even those.")
@click.option("--overwrite-cache", is_flag=True,
              help="--sandbox/--remote: recompute cached tasks; their results replace the cache entries.")
@click.option("--envvars", "--env", "envvars", multiple=True, metavar="KEY=VALUE",
              help="--sandbox/--remote: an environment variable for every task (repeat the option).")
@click.option("--version", "remote_version", default=None,
              help="--remote: version to register under (default: a digest of the package).")
@click.option("--config", "remote_config", default=None, type=click.Path(dir_okay=False),
              help="--remote: Flyte config file (default $FLYTECTL_CONFIG or ~/.flyte/config.yaml).")
@click.option("--endpoint", "remote_endpoint", default=None,
              help="--remote: admin endpoint host:port (default: the config, else the local sandbox's admin).")
@click.option("--insecure/--secure", "remote_insecure", default=None,
              help="--remote: plain-text gRPC (a local sandbox) or TLS.")
@click.option("--name", "execution_name", default=None, help="--remote: name of the execution.")
@click.option("--tags", "tags", multiple=True, help="--remote: tags for the execution (repeat, or T1,T2).")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="--remote: wait for the execution and print its outputs.")
@click.pass_context
def run(ctx: click.Context, sandbox: bool, remote: bool, project: str, domain: str, image: str | None,
        as_json: bool, compile_cache: bool, copy: str, detach: bool, parallelism: int | None,
        quiet: bool, reuse_containers: bool | None, overwrite_cache: bool, envvars, remote_version,
        remote_config, remote_endpoint, remote_insecure, execution_name, tags, wait) -> None:
    """Run a task, workflow or launch plan from FILE, in-process or in the sandbox.

    \b
    skiff run wf.py                      list what wf.py defines
    skiff run wf.py pipeline --help      its inputs, with defaults
    skiff run wf.py pipeline --n 4       run it here
    skiff run --sandbox wf.py pipeline   run it in containers
    skiff run --remote wf.py pipeline    register and run it on a Flyte admin
    skiff run --remote remote-launchplan NAME --version V [--INPUT VALUE ...]
    """
    from sandbox.cli.engine_cmd import parse_envvars

    _check_modes(ctx, sandbox, remote)
    remote_options = None
    if remote:
        from sandbox.cli.remote_cmd import RemoteOptions

        remote_options = RemoteOptions(remote_config, remote_endpoint, remote_insecure, remote_version,
                                       execution_name, overwrite_cache, envvars, tags, wait)
    ctx.meta["skiff.run"] = RunOptions(sandbox, project, domain, image, as_json, remote, remote_options,
                                       compile_cache, detach, parallelism, quiet, overwrite_cache,
                                       parse_envvars(envvars), copy, reuse_containers)

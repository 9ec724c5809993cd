"""`skiff register`, `skiff promote`, `skiff reproduce` and the `--remote` mode of `skiff run`.

Every command talks to one Flyte admin: --endpoint / --config / the environment as flytekit
reads them, else the local sandbox's own admin (state.json), so `skiff register pkg.tgz ...`
works against `skiff sandbox up` with no configuration.
"""
from __future__ import annotations

import dataclasses
import json

import click

from sandbox.cli.upload_progress import upload_progress
from sdk.errors import SkiffError


@dataclasses.dataclass
class RemoteOptions:
    config: str | None = None
    endpoint: str | None = None
    insecure: bool | None = None
    version: str | None = None
    execution_name: str | None = None
    overwrite_cache: bool = False
    envvars: tuple = ()
    tags: tuple = ()
    wait: bool = True
    poll_interval: float = 1.0
    timeout: float | None = None


def remote_options(function):
    """--config, --endpoint, --insecure/--secure: which admin to talk to."""
    for option in reversed([
        click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
                     help="Flyte config file (admin/storage sections); default $FLYTECTL_CONFIG "
                          "or ~/.flyte/config.yaml."),
        click.option("--endpoint", default=None,
                     help="Admin endpoint (host:port or dns:///host:port); default: config, "
                          "FLYTE_PLATFORM_URL, else the local sandbox's admin."),
        click.option("--insecure/--secure", "insecure", default=None,
                     help="Plain-text gRPC (a local sandbox) or TLS."),
    ]):
        function = option(function)
    return function


def _local_admin_endpoint() -> str | None:
    try:
        from sandbox.home import SandboxState, state_path
    except ImportError:
        return None
    if not state_path().exists():
        return None
    state = SandboxState.load()
    return getattr(state, "admin_endpoint", "") or state.public_dict().get("admin") or None


def open_remote(config=None, endpoint=None, insecure=None, project="default",
                domain="development"):
    from sdk.remote import Remote
    from sdk.remote.config import ConfigError

    try:
        return Remote(endpoint, insecure=insecure, config_file=config, project=project,
                      domain=domain)
    except ConfigError:
        if endpoint or config:
            raise
        local = _local_admin_endpoint()
        if not local:
            raise
        # The sandbox's admin listens on loopback without TLS.
        return Remote(local, insecure=True if insecure is None else insecure, project=project,
                      domain=domain)


def _label(ident) -> str:
    kinds = {1: "task", 2: "workflow", 3: "launch plan"}
    return f"{kinds.get(ident.resource_type, 'entity')} {ident.name}"


# ---- skiff register -----------------------------------------------------------------------------


@click.command("register")
@click.argument("package", type=click.Path(dir_okay=False))
@click.option("--project", default="default", show_default=True,
              help="Project to register in.")
@click.option("--domain", default="development", show_default=True,
              help="Domain to register in.")
@click.option("--version", required=True, help="Version every entity is registered under.")
@remote_options
def register(package, project, domain, version, config, endpoint, insecure):
    """Register PACKAGE (a `skiff package` / `pyflyte package` .tgz) with a Flyte admin.

    Specs go unchanged apart from identifiers; the code bundle is uploaded through the admin's
    data proxy. Registering the same version again with the same specs changes nothing."""
    with open_remote(config, endpoint, insecure, project, domain) as remote:
        result = remote.register(package, version)
    for ident in result.created:
        click.echo(f"registered {_label(ident)} version {version} in {project}/{domain}")
    for ident in result.existing:
        click.echo(f"unchanged  {_label(ident)} version {version} in {project}/{domain} "
                   "(already registered)")


# ---- skiff run --remote -------------------------------------------------------------------------


def _envvars(pairs) -> dict:
    env = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise SkiffError(f"--envvars {pair!r} is not KEY=VALUE; write it as --envvars KEY=VALUE")
        env[key] = value
    return env


def _tags(values) -> list[str]:
    return [t for value in values for t in value.split(",") if t]


def _finish(remote, ident, options: RemoteOptions, as_json: bool) -> int:
    from sandbox.cli.outputs import format_outputs
    from sdk.remote.executions import raise_unless_succeeded

    click.echo(f"execution {ident.project}/{ident.domain}/{ident.name} on "
               f"{remote.config.endpoint}", err=True)
    if not options.wait:
        if as_json:
            click.echo(json.dumps({"execution": ident.name, "project": ident.project,
                                   "domain": ident.domain}))
        return 0
    execution = remote.wait(ident, options.poll_interval, options.timeout,
                            say=lambda text: click.echo(text, err=True))
    raise_unless_succeeded(execution)
    text = format_outputs(remote.outputs(ident), as_json)
    if text or as_json:
        click.echo(text)
    return 0


def run_file_remote(path: str, entity, values: dict, project: str, domain: str,
                    image: str | None, as_json: bool, options: RemoteOptions,
                    copy: str = "auto") -> int:
    """`skiff run --remote FILE ENTITY`: package, register, execute, wait, print outputs."""
    import os
    import tempfile

    from sandbox.cli.package_cmd import sandbox_state, write_package

    state = sandbox_state(bring_up=False)
    chosen = image
    image = image or (state.runtime_image if state else "") or "skiff-runtime:latest"
    # A workflow runs through its default launch plan (named as the workflow), as pyflyte does.
    kind = "task" if entity.kind == "task" else "launch plan"
    with open_remote(options.config, options.endpoint, options.insecure, project,
                     domain) as remote, tempfile.TemporaryDirectory(prefix="skiff-remote-") as scratch:
        if chosen is None and not _on_this_machine(remote.config.endpoint):
            click.echo(f"Warning: tasks will use the image {image}, which exists only in this "
                       f"machine's Docker; {remote.config.endpoint} cannot pull it: give --image "
                       "with an image your cluster can pull", err=True)
        package = os.path.join(scratch, "package.tgz")
        write_package([path], image, package, copy)
        version = options.version or _package_version(package)
        result = remote.register(package, version, progress=upload_progress())
        click.echo(f"registered {len(result.created)} new, {len(result.existing)} unchanged "
                   f"entities as version {version} in {project}/{domain}", err=True)
        ident = remote.execute(entity.name, version, values, kind=kind,
                               execution_name=options.execution_name,
                               overwrite_cache=options.overwrite_cache,
                               envvars=_envvars(options.envvars), tags=_tags(options.tags))
        return _finish(remote, ident, options, as_json)


def _on_this_machine(endpoint: str) -> bool:
    """An admin on loopback (the local sandbox, a test) runs the images built here."""
    host = endpoint.rsplit(":", 1)[0].strip("[]") if ":" in endpoint else endpoint
    return host in ("localhost", "::1") or host.startswith("127.")


def _package_version(package_path: str) -> str:
    from sdk.compile.package_reader import read_package

    return read_package(package_path).digest[:16]


def _upload_local_files(literal_map, transfer) -> None:
    """File/Directory inputs given as local paths go up through the data proxy first."""
    import os

    for literal in literal_map.literals.values():
        if literal.WhichOneof("value") != "scalar" or literal.scalar.WhichOneof("value") != "blob":
            continue
        blob = literal.scalar.blob
        if "://" not in blob.uri and os.path.exists(blob.uri):
            blob.uri = transfer.upload(blob.uri, os.path.isdir(blob.uri))


class RegisteredEntityCommand(click.Command):
    """`skiff run --remote remote-launchplan|remote-workflow|remote-task NAME [--INPUT V ...]`,
    as pyflyte's commands of the same names: run what is registered already."""

    KIND = {"remote-launchplan": "launch plan", "remote-workflow": "launch plan",
            "remote-task": "task"}

    def __init__(self, name: str):
        super().__init__(
            name=name, callback=self._run,
            context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
            params=[click.Argument(["entity"]),
                    click.Option(["--version", "entity_version"], required=True,
                                 help="The registered version to run."),
                    click.Option(["--json", "as_json"], is_flag=True,
                                 help="Print the outputs as one JSON object.")],
            help=f"Run a {self.KIND[name]} already registered with the admin, by name and "
                 "version; inputs as --NAME VALUE.")

    def _run(self, entity, entity_version, as_json):
        from flyteidl.core import interface_pb2

        from sandbox.cli.engine_cmd import _inputs_from_cli, _parse_extra_args
        from sdk.remote.data import DataProxyTransfer
        from sdk.remote.remote import KINDS

        ctx = click.get_current_context()
        run_options = ctx.meta["skiff.run"]
        options: RemoteOptions = run_options.remote_options
        kind = self.KIND[self.name]
        with open_remote(options.config, options.endpoint, options.insecure,
                         run_options.project, run_options.domain) as remote:
            _target, types = remote.target_and_inputs(KINDS[kind], entity, entity_version,
                                                       run_options.project, run_options.domain)
            interface = interface_pb2.TypedInterface(inputs=interface_pb2.VariableMap(
                variables={n: interface_pb2.Variable(type=t) for n, t in types.items()}))
            inputs = _inputs_from_cli(interface, entity, _parse_extra_args(ctx.args, entity), {})
            _upload_local_files(inputs, DataProxyTransfer(remote.connection, run_options.project,
                                                          run_options.domain))
            ident = remote.execute(entity, entity_version, inputs, kind=kind,
                                   execution_name=options.execution_name,
                                   overwrite_cache=options.overwrite_cache,
                                   envvars=_envvars(options.envvars), tags=_tags(options.tags))
            ctx.exit(_finish(remote, ident, options, as_json or run_options.as_json))


# ---- skiff promote ------------------------------------------------------------------------------


@click.command("promote")
@click.argument("name")
@click.option("--version", required=True, help="The registered version to promote.")
@click.option("--from", "source", default="development", show_default=True,
              help="Domain to promote from; needs a succeeded execution there.")
@click.option("--to", "target", default="staging", show_default=True,
              help="Domain to promote to.")
@click.option("--project", default="default", show_default=True,
              help="Project of NAME.")
@click.option("--force", is_flag=True,
              help="Promote without a succeeded execution in the source domain (recorded).")
@click.option("--json", "as_json", is_flag=True, help="Print the promotion record as JSON.")
@remote_options
def promote(name, version, source, target, project, force, as_json, config, endpoint, insecure):
    """Copy workflow (or launch plan) NAME at --version, with its tasks and launch plans, from
    one domain to the next, byte for byte apart from the domain.

    Refused unless the version has a succeeded execution in the source domain."""
    from sandbox.bridge.records import record_promotion
    from sdk.remote.promote import promote as run_promotion

    if source == target:
        raise SkiffError(f"--from and --to are both {source!r}; promote to another domain")
    with open_remote(config, endpoint, insecure, project, source) as remote:
        record = run_promotion(remote.connection, project, name, version, source, target, force)
        record_promotion(remote.connection.channel, record)
    if as_json:
        click.echo(json.dumps(record.as_dict()))
        return
    why = (f"after succeeded execution {record.green_execution}" if record.green_execution
           else "FORCED without a succeeded execution")
    click.echo(f"promoted workflow {record.name} version {record.version} from "
               f"{project}/{source} to {project}/{target} ({why}): {len(record.created)} created, "
               f"{len(record.existing)} already there")


# ---- skiff reproduce ----------------------------------------------------------------------------


@click.command("reproduce")
@click.argument("execution")
@click.option("--project", default="default", show_default=True,
              help="Project of EXECUTION when it is a bare name.")
@click.option("--domain", default="development", show_default=True,
              help="Domain of EXECUTION when it is a bare name.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@remote_options
def reproduce(execution, project, domain, as_json, config, endpoint, insecure):
    """Run the remote EXECUTION (a name, console URL or flyte://v1/P/D/NAME) again in the local
    sandbox with the same closure, inputs and images, and print the outputs' diff node by node.

    Exit code 0 when every output is identical, 1 when any differs."""
    from sandbox.cli.package_cmd import sandbox_state
    from sandbox.bridge.reproduce import reproduce as run_reproduction

    state = sandbox_state(bring_up=True)
    with open_remote(config, endpoint, insecure, project, domain) as remote:
        result = run_reproduction(remote.connection, execution, project, domain, state,
                                  say=lambda text: click.echo(text, err=True))
    if as_json:
        click.echo(json.dumps({"remote": result.remote_execution, "local": result.local_execution,
                               "identical": result.identical, "diff": result.diff,
                               "compared": result.compared}))
    else:
        for line in result.diff:
            click.echo(line)
        click.echo(f"{'identical outputs' if result.identical else 'outputs differ'}: remote "
                   f"{result.remote_execution}, local {result.local_execution}", err=True)
    click.get_current_context().exit(0 if result.identical else 1)


def register_commands(cli: click.Group) -> None:
    cli.add_command(register)
    cli.add_command(promote)
    cli.add_command(reproduce)

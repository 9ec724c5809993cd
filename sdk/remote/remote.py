"""`Remote`: one Flyte admin, configured as flytekit configures one."""
from __future__ import annotations

from flyteidl.admin import common_pb2
from flyteidl.core import identifier_pb2, literals_pb2

from sdk.remote import executions as ex
from sdk.remote.config import load_config
from sdk.remote.data import DataProxyTransfer
from sdk.remote.connection import AdminConnection
from sdk.remote.errors import RemoteError, RemoteNotFound
from sdk.remote.register import register_package
from sdk.remote.specs import KIND_NAMES, LAUNCH_PLAN, TASK, WORKFLOW

KINDS = {"launch plan": LAUNCH_PLAN, "launchplan": LAUNCH_PLAN, "lp": LAUNCH_PLAN,
         "workflow": WORKFLOW, "task": TASK}


class Remote:
    """Register packages, run and inspect executions on a Flyte admin (or a Skiff sandbox).

    Settings not given here come from the environment (FLYTE_PLATFORM_URL, ...) and the
    config file (`config_file`, $FLYTECTL_CONFIG or ~/.flyte/config.yaml)."""

    def __init__(self, endpoint: str | None = None, *, insecure: bool | None = None,
                 config_file: str | None = None, project: str = "default",
                 domain: str = "development", client_id: str | None = None,
                 client_secret: str | None = None, token_url: str | None = None,
                 token: str | None = None, timeout: float = 60.0, env=None):
        self.config = load_config(config_file, env, endpoint=endpoint, insecure=insecure,
                                  client_id=client_id, client_secret=client_secret,
                                  token_url=token_url, token=token)
        self.project, self.domain = project, domain
        self.connection = AdminConnection(self.config, timeout)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _where(self, project, domain) -> tuple[str, str]:
        return project or self.project, domain or self.domain

    def _id(self, kind, name, version, project=None, domain=None):
        project, domain = self._where(project, domain)
        return identifier_pb2.Identifier(resource_type=kind, project=project, domain=domain,
                                         name=name, version=version)

    # ---- entities ------------------------------------------------------------------------

    def register(self, package_path: str, version: str, project: str | None = None,
                 domain: str | None = None, progress=None):
        """`progress(sent, total)` follows the code bundle's upload."""
        project, domain = self._where(project, domain)
        return register_package(self.connection, package_path, project, domain, version, progress)

    def _get(self, kind, ident):
        method = {TASK: "GetTask", WORKFLOW: "GetWorkflow", LAUNCH_PLAN: "GetLaunchPlan"}[kind]
        what = (f"fetch {KIND_NAMES[kind]} {ident.name!r} version {ident.version!r} in "
                f"{ident.project}/{ident.domain}")
        return self.connection.admin.call(method, common_pb2.ObjectGetRequest(id=ident), what)

    def fetch_task(self, name, version, project=None, domain=None):
        return self._get(TASK, self._id(TASK, name, version, project, domain))

    def fetch_workflow(self, name, version, project=None, domain=None):
        return self._get(WORKFLOW, self._id(WORKFLOW, name, version, project, domain))

    def fetch_launch_plan(self, name, version, project=None, domain=None):
        return self._get(LAUNCH_PLAN, self._id(LAUNCH_PLAN, name, version, project, domain))

    def fetch_execution(self, ref, project=None, domain=None):
        project, domain = self._where(project, domain)
        ident = ref if not isinstance(ref, str) else ex.parse_execution_ref(ref, project, domain)
        return ex.get_execution(self.connection, ident)

    # ---- executions ----------------------------------------------------------------------

    def target_and_inputs(self, kind: int, name: str, version: str, project=None, domain=None):
        """(Identifier to launch, {input: LiteralType}) for a launch plan, workflow (its
        default launch plan, which shares its name) or task."""
        if kind == TASK:
            task = self.fetch_task(name, version, project, domain)
            variables = task.closure.compiled_task.template.interface.inputs.variables
            return task.id, {n: v.type for n, v in variables.items()}
        launch_plan = self.fetch_launch_plan(name, version, project, domain)
        parameters = launch_plan.closure.expected_inputs.parameters or \
            launch_plan.spec.default_inputs.parameters
        types = {n: p.var.type for n, p in parameters.items()}
        for fixed in launch_plan.spec.fixed_inputs.literals:
            types.pop(fixed, None)
        return launch_plan.id, types

    def _resolve_kind(self, name, version, project, domain) -> int:
        for kind in (LAUNCH_PLAN, TASK):
            try:
                self._get(kind, self._id(kind, name, version, project, domain))
                return kind
            except RemoteNotFound:
                continue
        raise RemoteNotFound(f"no launch plan, workflow or task {name!r} version {version!r} in "
                             f"{project}/{domain} on {self.config.endpoint}; register it first")

    def execute(self, name: str, version: str, inputs=None, *, kind: str | None = None,
                project: str | None = None, domain: str | None = None,
                execution_name: str | None = None, overwrite_cache: bool = False,
                envvars: dict | None = None, tags: list[str] | None = None):
        """Start a launch plan, workflow or task (`kind`, else whichever exists, launch plans
        first); `inputs` is a LiteralMap or a dict of Python values. Returns the execution id."""
        from sdk.types import TypeEngine

        project, domain = self._where(project, domain)
        kind_value = KINDS[kind] if kind else self._resolve_kind(name, version, project, domain)
        target, types = self.target_and_inputs(kind_value, name, version, project, domain)
        if isinstance(inputs, literals_pb2.LiteralMap):
            literal_map = inputs
        else:
            literal_map = literals_pb2.LiteralMap()
            for var, value in (inputs or {}).items():
                if var not in types:
                    raise RemoteError(f"{KIND_NAMES[kind_value]} {name!r} has no input {var!r}; "
                                         f"its inputs are {sorted(types) or 'none'}")
                hint = TypeEngine.guess_python_type(types[var])
                literal_map.literals[var].CopyFrom(TypeEngine.to_literal(
                    value, hint, transfer=DataProxyTransfer(self.connection, project, domain),
                    name=f"{name} input '{var}'"))
        return ex.create_execution(self.connection, target, literal_map, project, domain,
                                   execution_name, overwrite_cache, envvars, tags)

    def wait(self, execution, poll_interval: float = 1.0, timeout: float | None = None, say=None):
        ident = execution.id if hasattr(execution, "closure") else execution
        return ex.wait(self.connection, ident, poll_interval, timeout, say)

    def output_literals(self, execution) -> literals_pb2.LiteralMap:
        ident = execution.id if hasattr(execution, "closure") else execution
        return ex.execution_data(self.connection, ident)[1]

    def outputs(self, execution) -> dict:
        """The outputs as plain values (JSON-friendly; a File is its URI), as the CLI prints
        them; `output_literals` gives the LiteralMap itself."""
        from sdk.types.display import literal_to_plain

        return {name: literal_to_plain(lit)
                for name, lit in self.output_literals(execution).literals.items()}

    def terminate(self, execution, cause: str = "terminated by skiff") -> None:
        ident = execution.id if hasattr(execution, "closure") else execution
        ex.terminate(self.connection, ident, cause)

    def list_executions(self, project=None, domain=None, filters: str = ""):
        project, domain = self._where(project, domain)
        return ex.list_executions(self.connection, project, domain, filters)

    def version(self) -> str:
        from flyteidl.admin import version_pb2

        answer = self.connection.admin.call("GetVersion", version_pb2.GetVersionRequest(),
                                            "get the admin's version")
        return answer.control_plane_version.Version



"""Creating an execution: pick the target, merge launch plan defaults and fixed inputs with the
user's inputs, check them against the interface, and store the execution with queued nodes.
Or run again what an earlier execution ran (Flyte's relaunch and recover)."""
from __future__ import annotations

import re
import string

from flyteidl.core import literals_pb2

from sandbox.engine.literals import describe_type, literal_matches
from sandbox.engine.plan import Plan, plan_task, plan_workflow
from sandbox.registry import LAUNCH_PLAN, TASK, WORKFLOW, EntityNotFound, find_any, get_spec
from sandbox.store.records import COMPLETED_STATES
from sdk.errors import SkiffError

_ID_ALPHABET = string.ascii_lowercase + string.digits
# flyteadmin's rule for a client-chosen execution name (checked lowercased, as it does); the
# length is a Kubernetes label value's.
_EXECUTION_NAME = re.compile(r"[a-z][a-z0-9-]*")
MAX_EXECUTION_NAME = 63


class InputError(SkiffError):
    """Inputs that do not fit the entity's interface."""


class ExecutionNameTaken(InputError):
    """A client-chosen execution id that another execution has."""


def check_execution_name(name: str) -> None:
    if len(name) > MAX_EXECUTION_NAME or not _EXECUTION_NAME.fullmatch(name.lower()):
        raise InputError(f"execution name {name!r} does not follow Flyte's rule: a letter, then "
                         f"letters, digits and '-', at most {MAX_EXECUTION_NAME} characters; "
                         "choose another name")


def _check_name_free(store, execution_id: str) -> None:
    if store.execution(execution_id) is not None:
        raise ExecutionNameTaken(f"execution name {execution_id!r} is taken by another "
                                 "execution; choose another name, or leave it out for a "
                                 "generated one")


def new_execution_id() -> str:
    # Like Flyte's generated names: a letter, then lowercase letters and digits. The OS's
    # randomness through `random` (`secrets` would load OpenSSL through hmac, ~2.5 ms a run).
    import random

    choose = random.SystemRandom().choice
    return choose(string.ascii_lowercase) + "".join(choose(_ID_ALPHABET) for _ in range(19))


def load_plan(store, execution) -> Plan:
    if execution.target_kind == TASK:
        spec = get_spec(store, TASK, execution.project, execution.domain, execution.workflow,
                        execution.version)
        return plan_task(spec.template)
    spec = get_spec(store, WORKFLOW, execution.project, execution.domain, execution.workflow,
                    execution.version)
    return plan_workflow(store, spec.template, spec.sub_workflows)


def _defaults_and_fixed(store, kind, spec, project, domain, version):
    """(defaults LiteralMap-like dict, required names, fixed dict) from the launch plan."""
    if kind == WORKFLOW:
        try:  # the default launch plan shares the workflow's name
            spec = get_spec(store, LAUNCH_PLAN, project, domain, spec.template.id.name,
                            spec.template.id.version)
        except EntityNotFound:
            return {}, set(), {}
    elif kind == TASK:
        return {}, set(), {}
    defaults, required = {}, set()
    for name, param in spec.spec.default_inputs.parameters.items():
        if param.HasField("default"):
            defaults[name] = param.default
        elif param.required:
            required.add(name)
    return defaults, required, dict(spec.spec.fixed_inputs.literals)


def merge_inputs(entity: str, interface, user_inputs: literals_pb2.LiteralMap, defaults,
                 fixed) -> literals_pb2.LiteralMap:
    variables = interface.inputs.variables
    for name in user_inputs.literals:
        if name not in variables:
            raise InputError(f"{entity} has no input {name!r}; its inputs are "
                             f"{sorted(variables) or 'none'}")
        if name in fixed:
            raise InputError(f"{entity} input {name!r} is fixed by its launch plan and cannot "
                             "be set; drop it from the inputs")
    merged = literals_pb2.LiteralMap()
    for name, variable in variables.items():
        if name in fixed:
            literal = fixed[name]
        elif name in user_inputs.literals:
            literal = user_inputs.literals[name]
        elif name in defaults:
            literal = defaults[name]
        elif variable.type.WhichOneof("type") == "union_type" and any(
                v.simple == 0 and v.WhichOneof("type") == "simple"
                for v in variable.type.union_type.variants):
            literal = literals_pb2.Literal(scalar=literals_pb2.Scalar(
                none_type=literals_pb2.Void()))  # Optional[...] without a value is None
        else:
            raise InputError(f"{entity} needs input {name!r} ({describe_type(variable.type)}) "
                             f"and none was given; pass --{name} VALUE")
        if not literal_matches(literal, variable.type):
            raise InputError(f"{entity} input {name!r}: the value does not match the declared "
                             f"type {describe_type(variable.type)}; pass a value of that type")
        merged.literals[name].CopyFrom(literal)
    return merged


def create_execution(store, project: str, domain: str, name: str, version: str | None,
                     user_inputs: literals_pb2.LiteralMap | None = None,
                     execution_id: str | None = None, kind: int | None = None) -> str:
    """Store a new execution of launch plan, workflow or task `name` (only of that `kind`
    when given); returns its id, which is `execution_id` when given (e.g. the name a client
    asked Flyte's CreateExecution for).

    Raises a SkiffError (nothing stored) when the entity is unknown, the inputs are wrong, or
    `execution_id` breaks Flyte's naming rule or is taken (ExecutionNameTaken).
    """
    if execution_id is not None:
        check_execution_name(execution_id)
    user_inputs = user_inputs or literals_pb2.LiteralMap()
    kind, spec = find_any(store, project, domain, name, version, kind)
    launch_plan = None
    if kind == LAUNCH_PLAN:
        launch_plan = name
        target_kind = WORKFLOW
        wf_id = spec.spec.workflow_id
        wf_spec = get_spec(store, WORKFLOW, wf_id.project, wf_id.domain, wf_id.name,
                           wf_id.version)
        target, target_version, interface = wf_id.name, wf_id.version, wf_spec.template.interface
        plan = plan_workflow(store, wf_spec.template, wf_spec.sub_workflows)
    elif kind == WORKFLOW:
        target_kind, target = WORKFLOW, spec.template.id.name
        target_version, interface = spec.template.id.version, spec.template.interface
        plan = plan_workflow(store, spec.template, spec.sub_workflows)
    else:
        target_kind, target = TASK, spec.template.id.name
        target_version, interface = spec.template.id.version, spec.template.interface
        plan = plan_task(spec.template)
    defaults, _required, fixed = _defaults_and_fixed(store, kind, spec, project, domain,
                                                     target_version)
    inputs = merge_inputs(name, interface, user_inputs, defaults, fixed)
    if execution_id is None:
        execution_id = new_execution_id()
    else:
        _check_name_free(store, execution_id)
    with store.transaction() as cursor:
        store.add_execution(cursor, id=execution_id, project=project, domain=domain,
                            launch_plan=launch_plan, target_kind=target_kind, workflow=target,
                            version=target_version, inputs=inputs.SerializeToString(),
                            node_tasks={n: plan.task_name(node) for n, node in plan.nodes.items()})
    return execution_id


def run_again(store, original_id: str, execution_id: str | None = None,
              keep_completed: bool = False) -> str:
    """A new execution of the launch plan, workflow or task `original_id` ran, at the same
    version and with the same inputs; its id. With `keep_completed` (Flyte's recover), the
    nodes that completed there (map elements and a dynamic task's nodes too) keep their
    outputs and do not run again: the new execution starts from where that one failed."""
    original = store.execution(original_id)
    if original is None:
        raise InputError(f"execution {original_id!r} does not exist; see `skiff executions list`")
    if execution_id is None:
        execution_id = new_execution_id()
    else:
        check_execution_name(execution_id)
        _check_name_free(store, execution_id)
    nodes = store.nodes(original_id)
    with store.transaction() as cursor:
        store.add_execution(cursor, id=execution_id, project=original.project,
                            domain=original.domain, launch_plan=original.launch_plan,
                            target_kind=original.target_kind, workflow=original.workflow,
                            version=original.version, inputs=original.inputs,
                            node_tasks={n.node_id: n.task for n in nodes})
        if keep_completed:
            for node in nodes:
                if node.state in COMPLETED_STATES:
                    store.copy_node_result(cursor, execution_id, node)
    return execution_id

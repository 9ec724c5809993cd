"""What flyteadmin refuses when a task, workflow or launch plan is created, checked on specs
before anything of a package is created.

flyteadmin checks a package entity by entity as they arrive, so a refusal of the fifth entity
leaves the first four registered. Running its checks on the whole hydrated package first lets
`skiff register` and the local registry refuse such a package whole:

- tasks: flyteadmin's task validator (type, metadata, runtime version, interface, container
  image, resource requests and limits as Kubernetes quantities, each named once, a request not
  above its limit, a GPU count whole and equal in both, and nothing above the platform's
  limits when those are known);
- launch plans: the inputs a launch plan fixes or defaults exist in its workflow with a
  castable type, and every default input is required or has a value;
- workflows: propeller's compiler (sdk.compile.closure), with the tasks and launch plans of
  the package and of the admin.

Each function returns one line per problem naming the entity, node and variable; an empty list
means flyteadmin admits the entity.
"""
from __future__ import annotations

import dataclasses
import math
import re
from fractions import Fraction
from typing import Callable

from flyteidl.core import tasks_pb2

from sdk.compile.castable import castable, describe
from sdk.compile.closure import (LaunchPlanInterface, WorkflowCompileError, compile_closure, key,
                                 required_references)

_CPU, _GPU, _MEMORY, _STORAGE, _EPHEMERAL = (tasks_pb2.Resources.CPU, tasks_pb2.Resources.GPU,
                                             tasks_pb2.Resources.MEMORY,
                                             tasks_pb2.Resources.STORAGE,
                                             tasks_pb2.Resources.EPHEMERAL_STORAGE)
_NAMES = {_CPU: "cpu", _GPU: "gpu", _MEMORY: "memory", _EPHEMERAL: "ephemeral storage",
          _STORAGE: "storage"}
# Kubernetes' names in a pod spec, as flyteadmin maps them onto Flyte's resource names.
_POD_NAMES = {"cpu": _CPU, "memory": _MEMORY, "gpu": _GPU, "ephemeral-storage": _EPHEMERAL,
              "storage": _STORAGE}
_QUANTITY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|"
                       r"[eE][+-]?\d+)?$")
_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
           "n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": 1,
           "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}


def parse_quantity(text: str) -> Fraction:
    """A Kubernetes quantity ('500m', '2Gi', '1e3') as an exact number; ValueError if it is
    not one."""
    match = _QUANTITY.match(text.strip()) if text else None
    if not match:
        raise ValueError(f"{text!r} is not a Kubernetes quantity (e.g. 500m, 2, 1Gi, 512Mi)")
    number, suffix = Fraction(match[1]), match[2] or ""
    if suffix[:1] in ("e", "E"):
        return number * Fraction(10) ** int(suffix[1:])
    return number * _SUFFIX[suffix]


def _whole(quantity: Fraction) -> int:
    """flyteadmin compares quantities by their Value(): rounded up to a whole number."""
    return math.ceil(quantity)


@dataclasses.dataclass
class PlatformLimits:
    """The most a task may ask for, by resource name (missing: no limit), as flyteadmin reads
    them from its TASK_RESOURCE matchable attributes."""

    limits: dict

    @classmethod
    def from_attributes(cls, spec) -> "PlatformLimits":
        """From an admin.TaskResourceSpec (the `limits` of TaskResourceAttributes)."""
        limits = {}
        for name, field in ((_CPU, "cpu"), (_MEMORY, "memory"), (_GPU, "gpu"),
                            (_EPHEMERAL, "ephemeral_storage")):
            text = getattr(spec, field)
            if text:
                try:
                    quantity = parse_quantity(text)
                except ValueError:
                    continue  # flyteadmin ignores a limit it cannot parse
                if quantity:
                    limits[name] = _Quantity(quantity, text)
        return cls(limits)


@dataclasses.dataclass(frozen=True)
class _Quantity:
    value: Fraction
    text: str  # as the user wrote it, for messages


def _entries(where: str, kind: str, entries, problems: list[str]) -> dict:
    """Requests or limits of the resources flyteadmin checks, parsed; problems appended."""
    found = {}
    for entry in entries:
        if entry.name not in (_CPU, _MEMORY, _GPU, _EPHEMERAL):
            continue
        name = _NAMES[entry.name]
        if entry.name in found:
            problems.append(f"{where}: {name} {kind} is given more than once; give it once")
            continue
        try:
            found[entry.name] = _Quantity(parse_quantity(entry.value), entry.value)
        except ValueError as error:
            problems.append(f"{where}: {name} {kind} {error}")
            continue
        if entry.name == _GPU and found[entry.name].value % 1:
            problems.append(f"{where}: gpu {kind} {entry.value!r} must be a whole number")
    return found


def _resource_problems(where: str, requests: dict, limits: dict,
                       platform: PlatformLimits | None) -> list[str]:
    """flyteadmin's validateResource: quantities compared rounded up to whole numbers."""
    problems = []
    ceiling = platform.limits if platform is not None else {}
    for name, request in requests.items():
        label = _NAMES[name]
        limit, top = limits.get(name), ceiling.get(name)
        if name == _GPU:
            if limit is not None and _whole(request.value) != _whole(limit.value):
                problems.append(f"{where}: gpu request {request.text} differs from its limit "
                                f"{limit.text}; ask for the same number in both")
            elif top is not None and _whole(request.value) > _whole(top.value):
                problems.append(f"{where}: gpu request {request.text} is above the admin's "
                                f"platform limit {top.text}; ask for less")
            continue
        if limit is not None and _whole(limit.value) < _whole(request.value):
            problems.append(f"{where}: {label} request {request.text} is greater than its "
                            f"limit {limit.text}; raise the limit or lower the request")
        elif limit is not None and top is not None and _whole(limit.value) > _whole(top.value):
            problems.append(f"{where}: {label} limit {limit.text} is above the admin's "
                            f"platform limit {top.text}; ask for less")
        elif top is not None and _whole(request.value) > _whole(top.value):
            problems.append(f"{where}: {label} request {request.text} is above the admin's "
                            f"platform limit {top.text}; ask for less")
    return problems


def task_problems(where: str, template, platform: PlatformLimits | None = None) -> list[str]:
    """What flyteadmin's task validator refuses in a task template. `where` names the task."""
    problems = []
    if not template.type:
        problems.append(f"{where}: missing task type")
    if not template.HasField("metadata"):
        problems.append(f"{where}: missing metadata")
    elif template.metadata.HasField("runtime") and not template.metadata.runtime.version:
        problems.append(f"{where}: missing runtime version in its metadata")
    if not template.HasField("interface"):
        problems.append(f"{where}: missing interface")
    if problems:
        return problems
    target = template.WhichOneof("target")
    if target == "container":
        if not template.container.image:
            problems.append(f"{where}: missing container image; give the task an image")
        elif template.container.HasField("resources"):
            resources = template.container.resources
            requests = _entries(where, "request", resources.requests, problems)
            limits = _entries(where, "limit", resources.limits, problems)
            if not problems:
                problems += _resource_problems(where, requests, limits, platform)
    elif target == "k8s_pod":
        if not template.k8s_pod.HasField("pod_spec"):
            problems.append(f"{where}: a pod task needs a pod spec")
        elif platform is not None:
            problems += _pod_problems(where, template.k8s_pod.pod_spec, platform)
    return problems


def _pod_problems(where: str, pod_spec, platform: PlatformLimits) -> list[str]:
    """A pod task's containers against the platform limits (flyteadmin checks only those)."""
    from google.protobuf.json_format import MessageToDict

    problems = []
    for container in MessageToDict(pod_spec).get("containers") or []:
        resources = (container or {}).get("resources") or {}
        parsed = []
        for kind in ("requests", "limits"):
            values = {}
            for name, text in (resources.get(kind) or {}).items():
                flyte_name = _POD_NAMES.get(str(name).lower())
                if flyte_name is None:
                    continue
                try:
                    values[flyte_name] = _Quantity(parse_quantity(str(text)), str(text))
                except ValueError as error:
                    problems.append(f"{where}: container {container.get('name')!r} {name} "
                                    f"{error}")
            parsed.append(values)
        problems += _resource_problems(f"{where} container {container.get('name')!r}",
                                       parsed[0], parsed[1], platform)
    return problems


def launch_plan_problems(where: str, spec, workflow_inputs) -> list[str]:
    """What flyteadmin refuses in a launch plan spec (admin.LaunchPlanSpec) whose workflow has
    the input VariableMap `workflow_inputs`."""
    problems = []
    expected = dict(workflow_inputs.variables) if workflow_inputs is not None else {}
    for name, parameter in spec.default_inputs.parameters.items():
        if not parameter.var.HasField("type"):
            problems.append(f"{where}: default input {name!r} has no type")
            continue
        if (not parameter.HasField("default") and not parameter.HasField("artifact_query")
                and not parameter.required):
            problems.append(f"{where}: default input {name!r} has neither a default nor is "
                            "required; give it one")
        if name not in expected:
            problems.append(f"{where}: default input {name!r} is not an input of its workflow")
        elif not castable(parameter.var.type, expected[name].type):
            problems.append(f"{where}: default input {name!r} is {describe(parameter.var.type)}"
                            f", its workflow's input is {describe(expected[name].type)}")
    for name in spec.fixed_inputs.literals:
        if name not in expected:
            problems.append(f"{where}: fixed input {name!r} is not an input of its workflow")
    return problems


def expected_inputs(spec, workflow_inputs):
    """The launch plan's closure.expected_inputs as flyteadmin computes them: its default
    inputs, plus every workflow input it neither defaults nor fixes, as required."""
    from flyteidl.core import interface_pb2

    result = interface_pb2.ParameterMap()
    for name, variable in (workflow_inputs.variables.items() if workflow_inputs is not None
                           else ()):
        if name in spec.default_inputs.parameters:
            result.parameters[name].CopyFrom(spec.default_inputs.parameters[name])
        elif name not in spec.fixed_inputs.literals:
            parameter = result.parameters[name]
            parameter.var.type.CopyFrom(variable.type)
            parameter.var.description = variable.description
            parameter.required = True
    return result


def _node_calling(spec, ident) -> str:
    """The id of the first node (subworkflows, branches and failure nodes included) that calls
    the task or launch plan `ident`."""
    from sdk.compile.idl_walk import template_nodes

    for template in [spec.template, *spec.sub_workflows]:
        for node in template_nodes(template):
            target = node.WhichOneof("target")
            ref = node.task_node.reference_id if target == "task_node" else (
                node.workflow_node.launchplan_ref if target == "workflow_node" else None)
            if ref is not None and key(ref) == key(ident):
                return node.id
    return "?"


def workflow_problems(where: str, spec, task: Callable[[object], object | None],
                      plan: Callable[[object], LaunchPlanInterface | None],
                      scalar_operands: bool = False) -> list[str]:
    """What propeller's compiler, run by flyteadmin's CreateWorkflow, refuses in `spec`.
    `task(id)` gives a task template and `plan(id)` a launch plan's interface, or None when
    neither the package nor the admin holds it."""
    task_ids, plan_ids = required_references(spec)
    tasks, plans, problems = [], {}, []
    for ident in task_ids:
        template = task(ident)
        if template is None:
            problems.append(f"{where}: node {_node_calling(spec, ident)!r} uses task "
                            f"{ident.name!r} version {ident.version!r}, which is neither in the "
                            "package nor registered; add the task to the package")
        else:
            tasks.append(template)
    for ident in plan_ids:
        interface = plan(ident)
        if interface is None:
            problems.append(f"{where}: node {_node_calling(spec, ident)!r} calls launch plan "
                            f"{ident.name!r} version {ident.version!r}, which is neither in the "
                            "package nor registered; add it to the package")
        else:
            plans[key(ident)] = interface
    if problems:
        return problems
    try:
        compile_closure(spec, tasks, plans, scalar_operands)
    except WorkflowCompileError as error:
        own = f"workflow {spec.template.id.name}: "  # the compiler's prefix, said once
        lines = [f"{where}: {problem.removeprefix(own)}" for problem in error.problems]
        return list(dict.fromkeys(lines))  # a node reached twice is reported once
    return []


def package_problems(entities: list, registered_task: Callable, registered_plan: Callable,
                     registered_workflow_interface: Callable,
                     platform: PlatformLimits | None = None,
                     scalar_operands: bool = False, check=None) -> list[str]:
    """Every problem flyteadmin would find in `entities`, (kind, hydrated spec) pairs in the
    order they would be created. References outside the package are looked up with
    `registered_task(id)` (a TaskTemplate), `registered_plan(id)` (a LaunchPlanInterface) and
    `registered_workflow_interface(id)` (a TypedInterface), each None when unknown. `check`, when
    given, limits the checks to the entities whose identifier key it holds (the others are
    registered already and only serve as references)."""
    from sdk.compile.package_reader import LAUNCH_PLAN, TASK, WORKFLOW

    own_tasks, own_workflows, own_plans = {}, {}, {}
    for kind, spec in entities:
        if kind == TASK:
            own_tasks[key(spec.template.id)] = spec.template
        elif kind == WORKFLOW:
            own_workflows[key(spec.template.id)] = spec.template.interface
        else:
            own_plans[key(spec.id)] = spec

    def workflow_interface(ident):
        interface = own_workflows.get(key(ident))
        if interface is not None:
            return interface
        return registered_workflow_interface(ident)

    def task(ident):
        own = own_tasks.get(key(ident))
        return own if own is not None else registered_task(ident)

    def plan(ident):
        own = own_plans.get(key(ident))
        if own is None:
            return registered_plan(ident)
        interface = workflow_interface(own.spec.workflow_id)
        if interface is None:
            return None
        return LaunchPlanInterface(expected_inputs(own.spec, interface.inputs), interface.outputs)

    problems = []
    for kind, spec in entities:
        ident = spec.template.id if kind in (TASK, WORKFLOW) else spec.id
        if check is not None and key(ident) not in check:
            continue
        if kind == TASK:
            problems += task_problems(f"task {ident.name!r}", spec.template, platform)
        elif kind == WORKFLOW:
            problems += workflow_problems(f"workflow {ident.name!r}", spec, task, plan,
                                          scalar_operands)
        else:
            interface = workflow_interface(spec.spec.workflow_id)
            if interface is not None:  # a missing workflow is the reference check's to report
                problems += launch_plan_problems(f"launch plan {ident.name!r}", spec.spec,
                                                 interface.inputs)
    return problems


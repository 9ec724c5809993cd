"""Helpers for the engine tests (no tests here): hand-built packages whose tasks run a short
Python script in the runtime image, Docker's event stream, and a stand-in sandbox used only
until tests/conftest.py provides the `sandbox_home` fixture."""
from __future__ import annotations

import io
import os
import secrets
import subprocess
import tarfile
import threading
import time
from pathlib import Path

import pytest
from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2 as admin_wf_pb2
from flyteidl.core import (
    identifier_pb2, interface_pb2, literals_pb2, tasks_pb2, types_pb2, workflow_pb2,
)

from sandbox.engine.context import EngineContext
from sdk.types.display import literal_map_to_plain
from sandbox.runtime import DockerRunner
from sandbox.storage import ObjectStore
from sandbox.store import open_store

_SIMPLE = {int: types_pb2.SimpleType.INTEGER, float: types_pb2.SimpleType.FLOAT,
           str: types_pb2.SimpleType.STRING, bool: types_pb2.SimpleType.BOOLEAN}

# Runs inside the task container: Flyte's contract (inputs.pb in, outputs.pb / error.pb out)
# with the task's body given as the last argument.
_RUNNER = r'''
import os, sys, traceback
from flyteidl.core import literals_pb2, errors_pb2, execution_pb2
from sdk import io
inputs_uri, prefix, body = sys.argv[1], sys.argv[2], sys.argv[3]
lm = literals_pb2.LiteralMap.FromString(io.read_bytes(inputs_uri))
inp = {}
for k, lit in lm.literals.items():
    scalar = lit.scalar.union.value.scalar if lit.scalar.HasField("union") else lit.scalar
    p = scalar.primitive
    inp[k] = getattr(p, p.WhichOneof("value"))
out = {}
attempt = int(os.environ["FLYTE_ATTEMPT_NUMBER"])
try:
    exec(body, {"inp": inp, "out": out, "attempt": attempt, "os": os, "prefix": prefix})
except Exception as exc:
    doc = errors_pb2.ErrorDocument()
    doc.error.code = type(exc).__name__
    doc.error.message = traceback.format_exc()
    doc.error.origin = execution_pb2.ExecutionError.USER
    # As skiff-execute does: task exceptions are worth a retry, unless the task says not.
    doc.error.kind = (errors_pb2.ContainerError.NON_RECOVERABLE if "NON_RECOVERABLE" in str(exc)
                      else errors_pb2.ContainerError.RECOVERABLE)
    io.write_bytes(prefix + "/error.pb", doc.SerializeToString())
    sys.exit(0)
res = literals_pb2.LiteralMap()
for k, v in out.items():
    p = res.literals[k].scalar.primitive
    if isinstance(v, bool): p.boolean = v
    elif isinstance(v, int): p.integer = v
    elif isinstance(v, float): p.float_value = v
    else: p.string_value = str(v)
io.write_bytes(prefix + "/outputs.pb", res.SerializeToString())
'''


def runtime_image() -> str:
    image = os.environ.get("SKIFF_TEST_IMAGE")
    if image:
        return image
    out = subprocess.run(["docker", "images", "skiff-runtime", "--format",
                          "{{.Repository}}:{{.Tag}}"], capture_output=True, text=True).stdout
    tags = [t for t in out.split() if not t.endswith(":<none>")]
    if not tags:
        pytest.skip("no skiff-runtime image; run `skiff sandbox up`")
    return tags[0]


def _variables(types: dict) -> interface_pb2.VariableMap:
    vm = interface_pb2.VariableMap()
    for name, hint in types.items():
        vm.variables[name].type.simple = _SIMPLE[hint]
        vm.variables[name].description = name
    return vm


def script_task(name, body, inputs, outputs, *, retries=0, timeout=None, memory=None,
                cache=False, cache_version="1", image=None, env=None, cache_ignore=()):
    spec = task_pb2.TaskSpec()
    t = spec.template
    t.id.resource_type = identifier_pb2.TASK
    t.id.name = name
    t.type = "python-task"
    t.metadata.runtime.type = tasks_pb2.RuntimeMetadata.FLYTE_SDK
    t.metadata.runtime.version = "1.0.0"  # flyteadmin refuses a runtime without a version
    t.metadata.retries.retries = retries
    if timeout:
        t.metadata.timeout.seconds = timeout
    if cache:
        t.metadata.discoverable = True
        t.metadata.discovery_version = cache_version
        t.metadata.cache_ignore_input_vars.extend(cache_ignore)
    t.interface.inputs.CopyFrom(_variables(inputs))
    t.interface.outputs.CopyFrom(_variables(outputs))
    c = t.container
    c.image = image or runtime_image()
    c.command.extend(["python3", "-c", _RUNNER])
    c.args.extend(["{{.input}}", "{{.outputPrefix}}", body])
    for k, v in (env or {}).items():
        c.env.add(key=k, value=v)
    if memory:
        c.resources.limits.add(name=tasks_pb2.Resources.MEMORY, value=memory)
    return spec


def _binding_data(ref) -> literals_pb2.BindingData:
    data = literals_pb2.BindingData()
    if isinstance(ref, str):
        node, var = ref.split(".", 1)
        data.promise.node_id, data.promise.var = node, var
    else:
        data.scalar.primitive.integer = ref
    return data


def workflow_package(tmp_path, wf_name, tasks, *, inputs, outputs, nodes, output_bindings,
                     defaults=None, fixed=None, extra_entries=()) -> Path:
    """A package laid out as `pyflyte package` does: tasks, the workflow, its launch plan.

    nodes: [(node id, task name, {input: "node.var" | int literal})]."""
    wf = admin_wf_pb2.WorkflowSpec()
    tmpl = wf.template
    tmpl.id.resource_type = identifier_pb2.WORKFLOW
    tmpl.id.name = wf_name
    tmpl.interface.inputs.CopyFrom(_variables(inputs))
    tmpl.interface.outputs.CopyFrom(_variables(outputs))
    for node_id, task_name, bindings in nodes:
        node = tmpl.nodes.add(id=node_id)
        node.metadata.name = task_name
        node.task_node.reference_id.resource_type = identifier_pb2.TASK
        node.task_node.reference_id.name = task_name
        for var, ref in bindings.items():
            node.inputs.add(var=var).binding.CopyFrom(_binding_data(ref))
    for var, ref in output_bindings.items():
        tmpl.outputs.add(var=var).binding.CopyFrom(_binding_data(ref))
    lp = launch_plan_pb2.LaunchPlan()
    lp.id.resource_type = identifier_pb2.LAUNCH_PLAN
    lp.id.name = wf_name
    lp.spec.workflow_id.CopyFrom(tmpl.id)
    for name, hint in inputs.items():
        param = lp.spec.default_inputs.parameters[name]
        param.var.type.simple = _SIMPLE[hint]
        if defaults and name in defaults:
            param.default.scalar.primitive.integer = defaults[name]
        elif not (fixed and name in fixed):
            param.required = True
    for name, value in (fixed or {}).items():
        lp.spec.fixed_inputs.literals[name].scalar.primitive.integer = value
    entries = [(f"{i}_{t.template.id.name}_1.pb", t.SerializeToString())
               for i, t in enumerate(tasks)]
    entries.append((f"{len(tasks)}_{wf_name}_2.pb", wf.SerializeToString()))
    entries.append((f"{len(tasks) + 1}_{wf_name}_3.pb", lp.SerializeToString()))
    entries.extend(extra_entries)
    path = Path(tmp_path) / f"{wf_name}-{secrets.token_hex(3)}.tgz"
    write_tgz(path, entries)
    return path


def write_tgz(path, entries) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def ints(values: dict) -> literals_pb2.LiteralMap:
    lm = literals_pb2.LiteralMap()
    for k, v in values.items():
        lm.literals[k].scalar.primitive.integer = v
    return lm


def plain(literal_map) -> dict:
    return literal_map_to_plain(literal_map)


def engine_context(state, **overrides) -> EngineContext:
    args = dict(store=open_store(state.database_url), objects=ObjectStore.from_state(state),
                runner=DockerRunner(), storage_env=state.storage_env(), parallelism=8)
    args.update(overrides)
    return EngineContext(**args)


class docker_events:
    """Collect Docker's own `start` events for containers labelled by Skiff while in scope."""

    def __init__(self, label="skiff.execution"):
        self.label = label
        self.starts: list[dict] = []

    def __enter__(self):
        import docker

        self._client = docker.from_env()
        self._stream = self._client.events(decode=True, filters={
            "type": "container", "event": "start", "label": self.label})
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        time.sleep(0.2)  # the subscription must be live before the code under test runs
        return self

    def _pump(self):
        try:
            for event in self._stream:
                self.starts.append(event)
        except Exception:  # noqa: BLE001 - the stream closes on exit
            pass

    def __exit__(self, *exc):
        time.sleep(0.5)  # let events of the last containers arrive
        self._stream.close()

    def of(self, execution_id: str) -> list[dict]:
        """Starts of this execution's containers only (other test sessions share the engine)."""
        return [e for e in self.starts
                if e["Actor"]["Attributes"].get("skiff.execution") == execution_id]


class ContainerEvents:
    """Docker's `start` and `die` events (or `actions`) of containers labelled
    `skiff.execution`, while in scope."""

    def __init__(self, actions=("start", "die")):
        self.actions = list(actions)

    def __enter__(self):
        import docker

        self.events: list[dict] = []
        self._client = docker.from_env()
        self._stream = self._client.events(decode=True, filters={
            "type": "container", "event": self.actions, "label": "skiff.execution"})
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        time.sleep(0.2)  # the subscription must be live before the run starts
        return self

    def _pump(self):
        try:
            for event in self._stream:
                self.events.append(event)
        except Exception:  # noqa: BLE001 - the stream is closed on exit
            pass

    def __exit__(self, *exc):
        time.sleep(0.5)  # the last die events
        self._stream.close()
        self._client.close()

    def sequence(self, execution_id: str) -> list[tuple[str, str, dict]]:
        """(action, node, attributes) of the execution's containers, in the order they came."""
        return [(e["Action"], e["Actor"]["Attributes"]["skiff.node"], e["Actor"]["Attributes"])
                for e in self.events
                if e["Actor"]["Attributes"].get("skiff.execution") == execution_id]

    def of(self, execution_id: str, action: str) -> list[dict]:
        return [e for e in self.events if e["Action"] == action
                and e["Actor"]["Attributes"].get("skiff.execution") == execution_id]

    def first(self, execution_id: str, action: str) -> dict[str, int]:
        """Node -> when (Docker's clock) its first container had `action`."""
        when: dict[str, int] = {}
        for e in self.of(execution_id, action):
            when.setdefault(e["Actor"]["Attributes"]["skiff.node"], e["timeNano"])
        return when

    def peak_running(self, execution_id: str) -> int:
        """The most containers of the execution running at one time, by Docker's clock."""
        changes = sorted((e["timeNano"], -1 if e["Action"] == "die" else 1)
                         for e in self.of(execution_id, "start") + self.of(execution_id, "die"))
        running = peak = 0
        for _, change in changes:  # at equal times a die sorts first: it freed the slot
            running += change
            peak = max(peak, running)
        return peak


# ---- building blocks for workflows with subworkflow, launch plan, branch, map and gate nodes --


def binding(ref) -> literals_pb2.BindingData:
    """"node.var" -> a promise ("start-node.x" for a workflow input), int -> a literal,
    list -> a collection of bindings."""
    if isinstance(ref, list):
        data = literals_pb2.BindingData()
        data.collection.SetInParent()
        for item in ref:
            data.collection.bindings.add().CopyFrom(binding(item))
        return data
    return _binding_data(ref)


def task_node(node_id, task_name, bindings, upstream=()) -> workflow_pb2.Node:
    node = workflow_pb2.Node(id=node_id)
    node.task_node.reference_id.resource_type = identifier_pb2.TASK
    node.task_node.reference_id.name = task_name
    for var, ref in bindings.items():
        node.inputs.add(var=var).binding.CopyFrom(binding(ref))
    node.upstream_node_ids.extend(upstream)
    return node


def workflow_node(node_id, name, bindings, launch_plan=False) -> workflow_pb2.Node:
    node = workflow_pb2.Node(id=node_id)
    ref = (node.workflow_node.launchplan_ref if launch_plan
           else node.workflow_node.sub_workflow_ref)
    ref.resource_type = identifier_pb2.LAUNCH_PLAN if launch_plan else identifier_pb2.WORKFLOW
    ref.name = name
    for var, value in bindings.items():
        node.inputs.add(var=var).binding.CopyFrom(binding(value))
    return node


def template(name, inputs, outputs, nodes, output_bindings) -> workflow_pb2.WorkflowTemplate:
    tmpl = workflow_pb2.WorkflowTemplate()
    tmpl.id.resource_type = identifier_pb2.WORKFLOW
    tmpl.id.name = name
    tmpl.interface.inputs.CopyFrom(_variables(inputs))
    tmpl.interface.outputs.CopyFrom(_variables(outputs))
    tmpl.nodes.extend(nodes)
    for var, ref in output_bindings.items():
        tmpl.outputs.add(var=var).binding.CopyFrom(binding(ref))
    return tmpl


def launch_plan(name, workflow_name, inputs, defaults=None, fixed=None):
    lp = launch_plan_pb2.LaunchPlan()
    lp.id.resource_type = identifier_pb2.LAUNCH_PLAN
    lp.id.name = name
    lp.spec.workflow_id.resource_type = identifier_pb2.WORKFLOW
    lp.spec.workflow_id.name = workflow_name
    for var, hint in inputs.items():
        param = lp.spec.default_inputs.parameters[var]
        param.var.type.simple = _SIMPLE[hint]
        if defaults and var in defaults:
            param.default.scalar.primitive.integer = defaults[var]
        elif not (fixed and var in fixed):
            param.required = True
    for var, value in (fixed or {}).items():
        lp.spec.fixed_inputs.literals[var].scalar.primitive.integer = value
    return lp


def package(tmp_path, tasks, workflows, launch_plans=(), sub_workflows=None) -> Path:
    """workflows: [WorkflowTemplate]; sub_workflows: {workflow name: [WorkflowTemplate]}."""
    entries, n = [], 0
    for task in tasks:
        entries.append((f"{n}_{task.template.id.name}_1.pb", task.SerializeToString()))
        n += 1
    for tmpl in workflows:
        spec = admin_wf_pb2.WorkflowSpec(template=tmpl)
        spec.sub_workflows.extend((sub_workflows or {}).get(tmpl.id.name, []))
        entries.append((f"{n}_{tmpl.id.name}_2.pb", spec.SerializeToString()))
        n += 1
    for lp in launch_plans:
        entries.append((f"{n}_{lp.id.name}_3.pb", lp.SerializeToString()))
        n += 1
    path = Path(tmp_path) / f"pkg-{secrets.token_hex(3)}.tgz"
    write_tgz(path, entries)
    return path

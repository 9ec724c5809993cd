"""`write_package`: compile workflow files into a package laid out as `pyflyte package --copy`
lays one out: the specs, and the code bundle `copy` chooses (sdk.compile.bundle) unless `none`.

Everything is compiled and validated in memory first; the .tgz is written to a temporary file
next to the output and renamed at the end, so a failed compile leaves no file behind.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable

from google.protobuf.message import Message

from sdk.atomic_file import write_atomically
from sdk.authoring.naming import source_root
from sdk.compile.bundle import COPY_ALL, COPY_MODES, COPY_NONE, Bundle, build_bundle, deterministic_tgz
from sdk.compile.entities import PackageEntities
from sdk.compile.identifiers import LAUNCH_PLAN, TASK, WORKFLOW
from sdk.compile.launch_plan_spec import launch_plan_spec
from sdk.compile.task_spec import task_spec
from sdk.compile.validate import validate_workflow
from sdk.compile.workflow_spec import workflow_spec
from sdk.errors import PackageError


@dataclass
class PackageContents:
    """What was written: the .pb entry names in order, the code bundle's file name (None with
    `--copy none`) and the bundle itself (its files, sizes and digests)."""

    output: str
    entries: list[str]
    bundle: str | None
    bundle_contents: Bundle | None = None


def _in_definition_order(module, found) -> list:
    """The module's tasks, workflows and launch plans as its source defines them; launch plans
    made without a name in the module come last."""
    workflows = {id(w) for w in found.workflows}
    # A launch plan of an earlier load of a same-named workflow is not this module's.
    plans = [p for p in found.launch_plans if id(p.workflow) in workflows]
    mine = {id(e) for e in [*found.tasks, *found.workflows, *plans]}
    ordered, seen = [], set()
    for value in [*vars(module).values(), *plans]:
        if id(value) in mine and id(value) not in seen:
            seen.add(id(value))
            ordered.append(value)
    return ordered


def gather_entities(files: Iterable[str]) -> PackageEntities:
    """Load each file (or dotted module) and collect what it defines and calls, in pyflyte's
    order (see sdk.compile.entities)."""
    from sdk.authoring.launch_plan import LaunchPlan
    from sdk.authoring.workflow import WorkflowEntity
    from sdk.loader import entities_in, load_module

    entities = PackageEntities()
    for target in files:
        module = load_module(target)
        for entity in _in_definition_order(module, entities_in(module)):
            if isinstance(entity, WorkflowEntity):
                entities.add_workflow(entity, default_plan=True)
            elif isinstance(entity, LaunchPlan):
                entities.add_launch_plan(entity)
            else:
                entities.add_task(entity)
    entities.finish()
    return entities


def compile_entities(entities: PackageEntities, image: str,
                     fast: bool = True) -> list[tuple[str, Message]]:
    """(entry name, spec) for every entity, numbered in registration order; validates workflows
    first. `fast`: tasks fetch a code bundle (False: the image holds the code, `--copy none`)."""
    for workflow in entities.workflows.values():
        validate_workflow(workflow)
    specs: list[tuple[str, int, Message]] = []
    for kind, entity in entities.order:
        if kind == "task":
            specs.append((entity.name, TASK, task_spec(entity, image, fast)))
        elif kind == "workflow":
            specs.append((entity.name, WORKFLOW, workflow_spec(entity)))
        else:
            specs.append((entity.name, LAUNCH_PLAN, launch_plan_spec(entity)))
    # Zero-padded to the width of the last index, as pyflyte does, so names sort in order.
    width = len(str(max(len(specs) - 1, 0)))
    return [(f"{str(n).zfill(width)}_{name}_{kind}.pb", spec) for n, (name, kind, spec) in enumerate(specs)]


def _bundle_root(files: Iterable[str]) -> str:
    import importlib.util

    roots = set()
    for target in files:
        path = target
        if not os.path.exists(target):
            spec = importlib.util.find_spec(target)
            path = spec.origin if spec and spec.origin else target
        roots.add(source_root(path))
    if len(roots) != 1:
        raise PackageError(
            f"the files come from {len(roots)} source roots ({', '.join(sorted(roots))}); "
            "package files from one source tree at a time"
        )
    return roots.pop()


def write_package(files: list[str], image: str, output: str, copy: str = COPY_ALL) -> PackageContents:
    """Compile `files` (paths or dotted modules) for container `image` into the .tgz `output`,
    with the code bundle `copy` (auto, all or none) makes. With `auto`, the bundle holds the
    modules that importing `files` loaded, so the files are imported before it is built."""
    if not files:
        raise PackageError("no workflow files given; name at least one .py file to package")
    if not image:
        raise PackageError("no image given; pass the container image the tasks run in")
    if copy not in COPY_MODES:
        raise PackageError(f"--copy {copy!r} is not one of {', '.join(COPY_MODES)}")
    fast = copy != COPY_NONE
    specs = compile_entities(gather_entities(files), image, fast)
    entries = [(name, spec.SerializeToString(deterministic=True)) for name, spec in specs]
    output = os.path.abspath(output)
    bundle = build_bundle(_bundle_root(files), copy, exclude=[output]) if fast else None
    members = entries + ([(bundle.name, bundle.data)] if bundle is not None else [])
    data = deterministic_tgz(members)
    os.makedirs(os.path.dirname(output), exist_ok=True)
    write_atomically(output, data, mode=0o644)
    return PackageContents(output, [name for name, _ in entries], bundle.name if bundle else None, bundle)

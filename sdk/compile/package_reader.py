"""Reading a package .tgz as `pyflyte package` lays it out, with errors that name the entry."""
from __future__ import annotations

import dataclasses
import re
import tarfile
from pathlib import Path

from sdk.compile.identifiers import KIND_NAMES, LAUNCH_PLAN, TASK, WORKFLOW, kind_name, spec_identifier
from sdk.errors import PackageError
from sdk.secret_names import check_template_secrets
from sdk.sha256 import sha256

__all__ = ["LAUNCH_PLAN", "TASK", "WORKFLOW", "Package", "PackagedEntity", "kind_name",
           "parse_spec", "read_package", "spec_identifier"]
_ENTITY_ENTRY = re.compile(r"^(\d+)_(.+)_([123])\.pb$")
_BUNDLE_ENTRY = re.compile(r"^fast[0-9a-f]+\.tar\.gz$")


@dataclasses.dataclass
class PackagedEntity:
    order: int
    kind: int  # core.ResourceType value: 1 task, 2 workflow, 3 launch plan
    name: str
    entry: str  # the file name inside the package, for messages
    spec: object  # admin.TaskSpec | admin.WorkflowSpec | admin.LaunchPlan


@dataclasses.dataclass
class Package:
    path: str
    entities: list[PackagedEntity]
    bundle_name: str | None
    bundle: bytes | None
    digest: str  # over entity bytes and the bundle's name (which carries its content hash)

    def find(self, name: str) -> PackagedEntity | None:
        # A launch plan shares its workflow's name; prefer it, as `pyflyte run` does.
        matches = [e for e in self.entities if e.name == name]
        return max(matches, key=lambda e: e.kind) if matches else None


def parse_spec(kind: int, data: bytes):
    from flyteidl.admin import launch_plan_pb2, task_pb2, workflow_pb2

    message = {TASK: task_pb2.TaskSpec, WORKFLOW: workflow_pb2.WorkflowSpec,
               LAUNCH_PLAN: launch_plan_pb2.LaunchPlan}[kind]()
    message.ParseFromString(data)
    return message


def read_package(path: str | Path) -> Package:
    path = Path(path)
    if not path.is_file():
        raise PackageError(f"package {path} does not exist; build it with `skiff package`")
    try:
        archive = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError) as exc:
        raise PackageError(f"package {path} is not a gzip tar archive ({exc}); "
                           "build it with `skiff package`") from None
    entities: list[PackagedEntity] = []
    bundle_name = bundle = None
    digest = sha256()
    with archive:
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            entry = member.name.removeprefix("./")
            if member.isdir() or not entry:
                continue
            if not member.isfile():
                raise PackageError(f"package {path}: entry {entry!r} is not a regular file; "
                                   "rebuild the package with `skiff package`")
            data = archive.extractfile(member).read()
            if _BUNDLE_ENTRY.match(entry):
                bundle_name, bundle = entry, data
                digest.update(entry.encode())
                continue
            match = _ENTITY_ENTRY.match(entry)
            if not match:
                raise PackageError(
                    f"package {path}: unexpected entry {entry!r}; expected "
                    "'<n>_<name>_<kind>.pb' (kind 1 task, 2 workflow, 3 launch plan) or "
                    "'fast<hash>.tar.gz'; rebuild the package with `skiff package`")
            order, name, kind = int(match[1]), match[2], int(match[3])
            try:
                spec = parse_spec(kind, data)
            except Exception as exc:  # noqa: BLE001 - protobuf raises DecodeError and others
                raise PackageError(f"package {path}: entry {entry!r} is not a valid "
                                   f"{KIND_NAMES[kind]} spec ({exc}); rebuild the package") from None
            ident = spec_identifier(kind, spec)
            if ident.name != name:
                raise PackageError(f"package {path}: entry {entry!r} holds {KIND_NAMES[kind]} "
                                   f"{ident.name!r}, not {name!r}; rebuild the package")
            if kind == TASK:
                check_template_secrets(f"package {path}: task {name!r} ({entry})",
                                       spec.template, error=PackageError)
            entities.append(PackagedEntity(order, kind, name, entry, spec))
            digest.update(entry.encode() + b"\0" + data)
    if not entities:
        raise PackageError(f"package {path} holds no task, workflow or launch plan; "
                           "build it with `skiff package`")
    entities.sort(key=lambda e: (e.order, e.kind, e.name))
    return Package(str(path), entities, bundle_name, bundle, digest.hexdigest())

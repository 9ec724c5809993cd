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


# Limits on what a package may hold, checked from each entry's header before it is read, so
# that a small archive that inflates to gigabytes (or a corrupt one) costs neither memory nor
# time. A spec is kilobytes; the code bundle is the source tree.
MAX_SPEC_BYTES = 16 << 20
MAX_BUNDLE_BYTES = 512 << 20
MAX_TOTAL_BYTES = 1 << 30
MAX_ENTRIES = 20_000
_READ_CHUNK = 1 << 20


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _read_member(archive, member, limit: int) -> bytes:
    """The entry's bytes, read in chunks (the header's size is what tar reads)."""
    source = archive.extractfile(member)
    chunks, total = [], 0
    while True:
        chunk = source.read(min(_READ_CHUNK, limit + 1 - total))
        if not chunk:
            break
        total += len(chunk)
        chunks.append(chunk)
        if total > limit:
            raise PackageError(f"entry {member.name!r} is larger than {_size(limit)}")
    return b"".join(chunks)


def read_package(path: str | Path) -> Package:
    """Read and check a package; PackageError (one line, naming the package and entry) for
    anything that is not a complete, well-formed package within the size limits."""
    import zlib

    path = Path(path)
    if not path.is_file():
        raise PackageError(f"package {path} does not exist; build it with `skiff package`")
    rebuild = "rebuild it with `skiff package`"
    try:
        # Streaming ("r|*"): entries are read once, in archive order, never all in memory.
        archive = tarfile.open(path, "r|*")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise PackageError(f"package {path} is not a gzip tar archive ({_one_line(exc)}); "
                           f"{rebuild}") from None
    entries: list[tuple[str, bytes]] = []
    total = count = 0
    try:
        with archive:
            for member in archive:
                entry = member.name.removeprefix("./")
                count += 1
                if count > MAX_ENTRIES:
                    raise PackageError(f"package {path} has more than {MAX_ENTRIES} entries; "
                                       f"{rebuild}")
                if member.isdir() or not entry:
                    continue
                if not member.isfile():
                    raise PackageError(f"package {path}: entry {entry!r} is not a regular "
                                       f"file; {rebuild}")
                limit = MAX_BUNDLE_BYTES if _BUNDLE_ENTRY.match(entry) else MAX_SPEC_BYTES
                if member.size > limit:
                    raise PackageError(
                        f"package {path}: entry {entry!r} holds {_size(member.size)}, more "
                        f"than the {_size(limit)} a package entry may; {rebuild} (keep large "
                        "data out of the source tree)")
                total += member.size
                if total > MAX_TOTAL_BYTES:
                    raise PackageError(f"package {path} unpacks to more than "
                                       f"{_size(MAX_TOTAL_BYTES)}; {rebuild}")
                entries.append((entry, _read_member(archive, member, limit)))
    except PackageError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise PackageError(f"package {path} is truncated or corrupt ({_one_line(exc)}); "
                           f"{rebuild}") from None
    return _parse_entries(path, entries)


def _parse_entries(path: Path, entries: list[tuple[str, bytes]]) -> Package:
    parsed: list[PackagedEntity] = []
    bundle_name = bundle = None
    digest = sha256()
    names = [entry for entry, _ in entries]
    twice = sorted({n for n in names if names.count(n) > 1}) if len(set(names)) < len(names) else []
    if twice:
        raise PackageError(f"package {path}: entry {twice[0]!r} appears more than once; "
                           "rebuild the package with `skiff package`")
    for entry, data in sorted(entries, key=lambda item: item[0]):
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
                               f"{KIND_NAMES[kind]} spec ({_one_line(exc)}); rebuild the "
                               "package") from None
        ident = spec_identifier(kind, spec)
        if ident.name != name:
            raise PackageError(f"package {path}: entry {entry!r} holds {KIND_NAMES[kind]} "
                               f"{ident.name!r}, not {name!r}; rebuild the package")
        if kind == TASK:
            check_template_secrets(f"package {path}: task {name!r} ({entry})",
                                   spec.template, error=PackageError)
        parsed.append(PackagedEntity(order, kind, name, entry, spec))
        digest.update(entry.encode() + b"\0" + data)
    if not parsed:
        raise PackageError(f"package {path} holds no task, workflow or launch plan; "
                           "build it with `skiff package`")
    parsed.sort(key=lambda e: (e.order, e.kind, e.name))
    return Package(str(path), parsed, bundle_name, bundle, digest.hexdigest())


"""A package that an admin would refuse only mid-registration: the good entities of
tests/flyteadmin/workflows/admitted.py plus workflows propeller's compiler refuses (a cycle, an
unbound input, a type mismatch) and a task flyteadmin's validator refuses (a cpu request above
its limit). Used against flyteadmin, Skiff's admin and the local registry alike."""
from __future__ import annotations

import io
import tarfile
from pathlib import Path

from flyteidl.core import tasks_pb2, types_pb2

from sdk.compile.package import write_package
from sdk.compile.package_reader import LAUNCH_PLAN, TASK, WORKFLOW, read_package

ADMITTED = Path(__file__).parent / "flyteadmin" / "workflows" / "admitted.py"
IMAGE = "conformance:1"
# What the one error line must say about each refused entity.
EXPECTED = [
    "workflow 'bad.cycle': nodes depend on each other in a cycle (n0 > n1 > n0)",
    "workflow 'bad.unbound': node n1: input 'x' is not bound",
    "workflow 'bad.mismatch': node n0: input 'x' expects INTEGER but is bound to 'a' of "
    "start-node, which is STRING",
    "task 'bad.greedy': cpu request 2 is greater than its limit 1",
]


def good_package(directory: Path) -> Path:
    path = directory / "admitted.tgz"
    if not path.exists():
        write_package([str(ADMITTED)], IMAGE, str(path))
    return path


def bad_entities(package: Path) -> list[tuple[int, object]]:
    """(kind, unhydrated spec) of the refused entities, built from the package's own."""
    contents = read_package(package)
    halve = next(e.spec for e in contents.entities
                 if e.name == "admitted.halve" and e.kind == WORKFLOW)  # n0 double, n1 neg
    double = next(e.spec for e in contents.entities if e.name == "admitted.double")

    def renamed(spec, name):
        copy = type(spec).FromString(spec.SerializeToString())
        copy.template.id.name = name
        return copy

    cycle = renamed(halve, "bad.cycle")
    cycle.template.nodes[0].upstream_node_ids.append(cycle.template.nodes[-1].id)
    unbound = renamed(halve, "bad.unbound")
    del unbound.template.nodes[-1].inputs[:]
    mismatch = renamed(halve, "bad.mismatch")  # its input is text; double takes an int
    mismatch.template.interface.inputs.variables["a"].type.simple = types_pb2.STRING
    greedy = renamed(double, "bad.greedy")
    greedy.template.container.resources.requests.add(name=tasks_pb2.Resources.CPU, value="2")
    greedy.template.container.resources.limits.add(name=tasks_pb2.Resources.CPU, value="1")
    return [(WORKFLOW, cycle), (WORKFLOW, unbound), (WORKFLOW, mismatch), (TASK, greedy)]


def refused_package(directory: Path) -> Path:
    """The good package with the refused entities appended to its entries."""
    good = good_package(directory)
    path = directory / "refused.tgz"
    with tarfile.open(good) as source, tarfile.open(path, "w:gz") as target:
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member))
        for number, (kind, spec) in enumerate(bad_entities(good), start=90):
            name = spec.id.name if kind == LAUNCH_PLAN else spec.template.id.name
            data = spec.SerializeToString()
            info = tarfile.TarInfo(f"{number}_{name}_{kind}.pb")
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    return path

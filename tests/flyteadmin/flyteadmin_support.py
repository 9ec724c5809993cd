"""Helpers for the tests against Flyte's own flyteadmin: paths, the CLI, pyflyte packages."""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

from sandbox.cli import main

HERE = Path(__file__).parent
CONFORMANCE = HERE.parent / "sdk" / "conformance"
EXAMPLES = HERE.parents[1] / "examples"
IMAGE = "conformance:1"
PROJECT = "flytesnacks"
# The twins flyteadmin admits as flytekit packages too; meta (a 2Gi memory limit above this
# admin's 1Gi) and branches (`is_none()`, which its compiler refuses) are in admitted.py instead.
TWINS = ["chain", "fan", "multi", "alltypes", "nested", "mapping", "dynamic_wf", "policy", "gates"]


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def pyflyte_package(directory: Path, modules: list[str], output: Path) -> Path:
    """`pyflyte package --fast` of flytekit modules in `directory`."""
    pkgs = [arg for module in modules for arg in ("--pkgs", module)]
    subprocess.run([sys.executable, "-m", "flytekit.clis.sdk_in_container.pyflyte", *pkgs,
                    "package", "--image", IMAGE, "--fast", "-o", str(output), "--force"],
                   cwd=directory, check=True, capture_output=True,
                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    return output


def entry_names(package: Path) -> list[str]:
    """The package's .pb entries in its own order (their numbers)."""
    with tarfile.open(package) as tar:
        names = [m.name.removeprefix("./") for m in tar.getmembers() if m.name.endswith(".pb")]
    return sorted(names, key=lambda n: int(n.split("_", 1)[0]))


def cleared(message, fields=("domain",)):
    """A copy of `message` with `fields` cleared in every core.Identifier inside it."""
    copy = type(message).FromString(message.SerializeToString())
    _clear(copy, fields)
    return copy


def _clear(message, fields) -> None:
    if message.DESCRIPTOR.full_name == "flyteidl.core.Identifier":
        for field in fields:
            setattr(message, field, "")
        return
    for descriptor, value in message.ListFields():
        if descriptor.type != descriptor.TYPE_MESSAGE:
            continue
        if hasattr(value, "DESCRIPTOR"):  # a single message
            items = [value]
        elif hasattr(value, "values"):  # a map
            items = list(value.values())
        else:  # a repeated field
            items = list(value)
        for item in items:
            if hasattr(item, "DESCRIPTOR"):
                _clear(item, fields)

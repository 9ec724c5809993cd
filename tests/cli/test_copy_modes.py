"""`--copy auto|all|none`: which files the code bundle holds, against pyflyte as the oracle.

`auto` must bundle exactly the modules under the source root that importing the workflow file
loaded, as `pyflyte package --copy auto` selects them for a flytekit twin of the same tree;
`all` the whole tree (data files included); `none` no bundle at all. Large unrelated files are
sparse (they take no disk) and are never read with `auto`.
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

SKIFF_WF = textwrap.dedent('''
    from sdk import task, workflow

    import lib
    from helpers.util import double


    @task
    def twice(x: int) -> int:
        return double(x) + lib.OFFSET


    @workflow
    def pipe(x: int = 1) -> int:
        return twice(x=x)
''')
FLYTEKIT_WF = SKIFF_WF.replace("from sdk import", "from flytekit import")


def make_tree(root: Path, workflow: str, big_bytes: int = 0) -> Path:
    """A source tree: the workflow, the modules it imports, and files it does not."""
    (root / "helpers").mkdir(parents=True)
    (root / "wf.py").write_text(workflow)
    (root / "lib.py").write_text("import helpers\nOFFSET = 1\n")
    (root / "helpers" / "__init__.py").write_text("")
    (root / "helpers" / "util.py").write_text("def double(x):\n    return 2 * x\n")
    (root / "helpers" / "unused.py").write_text("raise RuntimeError('never imported')\n")
    (root / "unused_top.py").write_text("X = 1\n")
    (root / "data.csv").write_text("a,b\n1,2\n")
    (root / "notebooks").mkdir()
    (root / "notebooks" / "explore.ipynb").write_text("{}")
    if big_bytes:
        (root / "build").mkdir()
        for n in range(8):  # sparse: no disk used, but 8 * big_bytes if anything reads them
            with open(root / "build" / f"blob{n}.bin", "wb") as handle:
                handle.truncate(big_bytes)
    return root / "wf.py"


def members(tgz: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(tgz)) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def bundle_in(package: Path) -> tuple[str | None, dict[str, bytes]]:
    entries = members(package.read_bytes())
    names = [n for n in entries if n.startswith("fast") and n.endswith(".tar.gz")]
    assert len(names) <= 1
    return (names[0], members(entries[names[0]])) if names else (None, {})


def skiff_package(root: Path, *args: str) -> subprocess.CompletedProcess:
    skiff = str(Path(sys.executable).with_name("skiff"))
    return subprocess.run([skiff, "package", "wf.py", "--image", "img:1", *args], cwd=root,
                          capture_output=True, text=True, timeout=300)


def test_auto_bundles_exactly_what_pyflyte_copy_auto_bundles(tmp_path):
    ours = make_tree(tmp_path / "skiff", SKIFF_WF).parent
    twin = make_tree(tmp_path / "flytekit", FLYTEKIT_WF).parent
    pyflyte = str(Path(sys.executable).with_name("pyflyte"))
    oracle = subprocess.run([pyflyte, "--pkgs", "wf", "package", "--image", "img:1", "--copy", "auto",
                             "-o", str(tmp_path / "flytekit.tgz"), "--force"], cwd=twin,
                            capture_output=True, text=True, timeout=300)
    assert oracle.returncode == 0, oracle.stderr + oracle.stdout
    _, theirs = bundle_in(tmp_path / "flytekit.tgz")
    done = skiff_package(ours, "--copy", "auto", "-o", str(tmp_path / "skiff.tgz"))
    assert done.returncode == 0, done.stderr
    _, bundled = bundle_in(tmp_path / "skiff.tgz")
    assert sorted(bundled) == sorted(theirs) == ["helpers/__init__.py", "helpers/util.py", "lib.py", "wf.py"]
    assert bundled["helpers/util.py"] == theirs["helpers/util.py"]
    assert "Code bundle fast" in done.stderr and ": 4 files," in done.stderr and "--copy auto" in done.stderr


def test_all_bundles_the_tree_and_none_no_bundle(tmp_path):
    root = make_tree(tmp_path / "src", SKIFF_WF).parent
    (root / ".gitignore").write_text("notebooks/\n")
    assert skiff_package(root, "-o", str(tmp_path / "all.tgz")).returncode == 0  # --copy all: the default
    _, bundled = bundle_in(tmp_path / "all.tgz")
    assert sorted(bundled) == [".gitignore", "data.csv", "helpers/__init__.py", "helpers/unused.py",
                               "helpers/util.py", "lib.py", "unused_top.py", "wf.py"]
    done = skiff_package(root, "--copy", "none", "-o", str(tmp_path / "none.tgz"))
    assert done.returncode == 0, done.stderr
    name, bundled = bundle_in(tmp_path / "none.tgz")
    assert name is None and "No code bundle (--copy none)" in done.stderr
    from flyteidl.admin import task_pb2

    spec = next(task_pb2.TaskSpec.FromString(data) for entry, data in members((tmp_path / "none.tgz").read_bytes()).items()
                if entry.endswith("_1.pb"))
    args = list(spec.template.container.args)
    assert "--code-bundle" not in args and "--dest-dir" not in args and args[0] == "skiff-execute"
    bad = skiff_package(root, "--copy", "some", "-o", str(tmp_path / "x.tgz"))
    assert bad.returncode == 2 and "'some' is not one of" in bad.stderr


def test_auto_never_reads_large_unrelated_files(tmp_path):
    """The issue's case: 400 MB of unrelated files beside a two-task workflow. With auto the
    bundle is the same as in an empty folder (sparse files: nothing is written to disk)."""
    big = make_tree(tmp_path / "big", SKIFF_WF, big_bytes=50 * 1024 * 1024).parent
    small = make_tree(tmp_path / "small", SKIFF_WF).parent
    assert sum(f.stat().st_size for f in (big / "build").iterdir()) == 400 * 1024 * 1024
    for root, out in ((big, tmp_path / "big.tgz"), (small, tmp_path / "small.tgz")):
        done = skiff_package(root, "--copy", "auto", "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert "Warning" not in done.stderr
    assert bundle_in(tmp_path / "big.tgz") == bundle_in(tmp_path / "small.tgz")  # same name, same files


def test_a_large_bundle_is_announced_with_its_largest_files(tmp_path):
    root = make_tree(tmp_path / "src", SKIFF_WF).parent
    with open(root / "model.bin", "wb") as handle:
        handle.truncate(60 * 1024 * 1024)
    done = skiff_package(root, "--copy", "all", "-o", str(tmp_path / "all.tgz"))
    assert done.returncode == 0, done.stderr
    assert "Warning: the code bundle holds 62.9 MB; largest: model.bin (62.9 MB)" in done.stderr
    assert "--copy auto" in done.stderr  # what to do about it


def test_auto_leaves_out_installed_packages_and_skiff(tmp_path, monkeypatch):
    from sdk.compile.bundle import loaded_module_files

    root = tmp_path / "src"
    (root / "site-packages" / "dep").mkdir(parents=True)
    (root / "mine.py").write_text("")
    (root / "site-packages" / "dep" / "__init__.py").write_text("")
    fake = [type("M", (), {"__file__": str(root / "mine.py")}),
            type("M", (), {"__file__": str(root / "site-packages" / "dep" / "__init__.py")}),
            type("M", (), {"__file__": None}), os]
    monkeypatch.setattr("site.getsitepackages", lambda: [str(root / "site-packages")])
    assert loaded_module_files(str(root), modules=fake) == ["mine.py"]

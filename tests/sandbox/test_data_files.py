"""File and Directory between SDK tasks in the sandbox: each task in its container, the bytes in
MinIO under the raw output prefix, downloaded lazily by the task that reads them.

The 1 GiB case measures memory where it matters: the engine (the `skiff` process, which reports
its own peak RSS) and the reading task (which reports its container's), both far below the file;
both tasks also run under a 256 MiB Docker memory limit, which an in-memory copy would break.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.sandbox

MIB = 1024 * 1024

WORKFLOW = textwrap.dedent('''
    import hashlib
    import os
    import tempfile
    import typing

    from sdk import Directory, File, Resources, task, workflow


    @task
    def write_report(text: str) -> File:
        path = os.path.join(tempfile.mkdtemp(), "report.txt")
        with open(path, "w") as handle:
            handle.write(text)
        return File(path)


    @task
    def where(report: File) -> str:
        # str() never downloads: an input the task does not read stays in storage.
        return str(report)


    @task
    def read_report(report: File) -> str:
        with open(report) as handle:
            return handle.read()


    @task
    def make_tree(n: int) -> Directory:
        root = os.path.join(tempfile.mkdtemp(), "tree")
        for relative in ["top.txt", "sub/mid.txt", "sub/deeper/low.txt"]:
            os.makedirs(os.path.dirname(os.path.join(root, relative)), exist_ok=True)
            with open(os.path.join(root, relative), "w") as handle:
                handle.write(relative * n)
        return Directory(root)


    @task
    def list_tree(tree: Directory) -> list[str]:
        found = []
        for base, _dirs, names in os.walk(tree.path):
            for name in names:
                path = os.path.join(base, name)
                with open(path) as handle:
                    found.append(os.path.relpath(path, tree.path) + "=" + handle.read())
        return sorted(found)


    @workflow
    def files(text: str, n: int) -> typing.Tuple[str, str, list[str]]:
        report = write_report(text=text)
        return where(report=report), read_report(report=report), list_tree(tree=make_tree(n=n))


    def _peak_kib() -> int:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


    @task(limits=Resources(mem="256Mi"))
    def make_big(mib: int) -> typing.Tuple[File, str]:
        path = os.path.join(tempfile.mkdtemp(), "big.bin")
        digest = hashlib.sha256()
        block = os.urandom(1024 * 1024)
        with open(path, "wb") as handle:
            for i in range(mib):
                chunk = i.to_bytes(8, "little") + block[8:]
                handle.write(chunk)
                digest.update(chunk)
        return File(path), digest.hexdigest()


    @task(limits=Resources(mem="256Mi"))
    def digest_big(big: File) -> typing.Tuple[str, int, int]:
        digest = hashlib.sha256()
        with open(big, "rb") as handle:  # the download happens here, on first access
            while block := handle.read(1024 * 1024):
                digest.update(block)
        return digest.hexdigest(), os.path.getsize(big.path), _peak_kib()


    @workflow
    def big(mib: int) -> typing.Tuple[str, str, int, int]:
        made, made_digest = make_big(mib=mib)
        read_digest, size, peak = digest_big(big=made)
        return made_digest, read_digest, size, peak
''')

# Runs the skiff CLI and, on exit, prints this process's peak RSS (VmHWM) to stderr.
_MEASURED_CLI = textwrap.dedent('''
    import atexit, sys
    def _report():
        with open("/proc/self/status") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        sys.stderr.write(f"\\nSKIFF-PEAK-KIB {peak}\\n")
    atexit.register(_report)
    from sandbox.cli import main
    sys.argv = ["skiff"] + sys.argv[1:]
    main()
''')


@pytest.fixture(scope="module")
def package(sandbox_home, tmp_path_factory):
    source_dir = tmp_path_factory.mktemp("datawf")
    (source_dir / "datawf.py").write_text(WORKFLOW)
    out = source_dir / "datawf.tgz"
    subprocess.run(["skiff", "package", "datawf.py", "-o", str(out)], cwd=source_dir, check=True,
                   capture_output=True, env={**os.environ, "SKIFF_HOME": sandbox_home.home})
    return out


def _run(home, package, entity, *inputs, timeout=600):
    run = subprocess.run(
        [sys.executable, "-c", _MEASURED_CLI, "sandbox", "run", str(package), entity, *inputs, "--json"],
        capture_output=True, text=True, env={**os.environ, "SKIFF_HOME": home.home}, timeout=timeout,
    )
    assert run.returncode == 0, run.stderr
    peak = next(int(line.split()[1]) for line in run.stderr.splitlines() if line.startswith("SKIFF-PEAK-KIB"))
    return json.loads(run.stdout), peak


def test_file_and_directory_pass_between_containers_through_minio(sandbox_home, package):
    outputs, _ = _run(sandbox_home, package, "datawf.files", "--text", "hello, blob", "--n", "2")
    location, text, tree = outputs["o0"], outputs["o1"], outputs["o2"]
    assert text == "hello, blob"
    # The file went up under the raw output prefix of this project and domain, and the task that
    # only passed it on never downloaded it.
    assert location.startswith("s3://skiff/raw/default/development/")
    assert location.endswith("/report.txt")
    # The directory kept its structure through storage.
    assert tree == ["sub/deeper/low.txt=sub/deeper/low.txtsub/deeper/low.txt",
                    "sub/mid.txt=sub/mid.txtsub/mid.txt", "top.txt=top.txttop.txt"]


def test_one_gib_file_between_tasks_keeps_engine_and_task_memory_flat(sandbox_home, package):
    outputs, engine_peak_kib = _run(sandbox_home, package, "datawf.big", "--mib", "1024")
    made_digest, read_digest, size, task_peak_kib = outputs["o0"], outputs["o1"], outputs["o2"], outputs["o3"]
    assert size == 1024 * MIB
    assert read_digest == made_digest
    print(f"1 GiB through MinIO: engine peak RSS {engine_peak_kib // 1024} MiB, "
          f"reading task peak RSS {task_peak_kib // 1024} MiB")
    assert task_peak_kib < 200 * 1024
    assert engine_peak_kib < 200 * 1024

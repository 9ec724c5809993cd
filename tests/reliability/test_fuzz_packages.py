"""Broken packages: truncated, corrupt, inflating to gigabytes, mutated at random. The reader
answers every one with a PackageError (the CLI: one `Error:` line, exit 2) within bounded
memory, and a package that fails stores nothing."""
from __future__ import annotations

import io
import resource
import subprocess
import sys
import tarfile
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliability_support import SKIFF, figures
from sdk.compile import package_reader
from sdk.compile.package_reader import read_package
from sdk.errors import PackageError

FLOW = '''
from sdk import task, workflow


@task
def double(x: int) -> int:
    return 2 * x


@workflow
def wf(x: int = 1) -> int:
    return double(x=double(x=x))
'''


@pytest.fixture(scope="module")
def good_package(tmp_path_factory) -> bytes:
    from sdk.compile.package import write_package

    root = tmp_path_factory.mktemp("pkgsrc")
    (root / "fuzzflow.py").write_text(FLOW)
    out = root / "fuzzflow.tgz"
    write_package([str(root / "fuzzflow.py")], "skiff-runtime:latest", str(out))
    return out.read_bytes()


def _bomb(size: int = 1 << 30) -> bytes:
    """A tgz of about 1 MB holding one 1 GiB entry of zeros. Built from one compressed MiB
    repeated: after a full flush deflate blocks refer to nothing before them, so the same
    bytes may follow each other (the gzip trailer's CRC covers the whole GiB)."""
    import struct

    header = tarfile.TarInfo("0_fuzzflow.double_1.pb")
    header.size = size
    raw = header.tobuf(format=tarfile.GNU_FORMAT)
    zeros = bytes(1 << 20)
    end = bytes(1024)  # end-of-archive blocks
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = deflate.compress(raw) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    tail = deflate.compress(end) + deflate.flush()
    crc = zlib.crc32(raw)
    for _ in range(size >> 20):
        crc = zlib.crc32(zeros, crc)
    crc = zlib.crc32(end, crc)
    length = len(raw) + size + len(end)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + head + block * (size >> 20) + tail
            + struct.pack("<II", crc, length & 0xFFFFFFFF))


def _cli(path) -> tuple[int, str, int]:
    """(exit code, stderr, peak memory in MiB) of `skiff sandbox run PATH ENTITY` run in a
    child that only measures it."""
    probe = ("import resource, subprocess, sys\n"
             "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
             "sys.stderr.write(r.stderr)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n"
             "sys.exit(r.returncode)\n")
    result = subprocess.run([sys.executable, "-c", probe, SKIFF, "sandbox", "run", str(path),
                             "fuzzflow.wf"], capture_output=True, text=True, timeout=300)
    return result.returncode, result.stderr, int(result.stdout.strip() or 0)


def _store_and_bucket(state) -> tuple:
    from sandbox.storage import ObjectStore
    from sandbox.store import open_store

    store = open_store(state.database_url)
    counts = tuple(store.db.query(f"SELECT COUNT(*) FROM {table}")[0][0] for table in
                   ("registered_entities", "executions", "node_executions"))
    objects = ObjectStore.from_state(state)
    keys = sorted(o.object_name for o in objects.client.list_objects(state.bucket,
                                                                       recursive=True))
    return counts, keys


@pytest.mark.sandbox
def test_broken_packages_are_one_error_line_exit_2_and_store_nothing(good_package, tmp_path,
                                                                      sandbox_home):
    truncated = tmp_path / "truncated.tgz"
    truncated.write_bytes(good_package[: len(good_package) * 2 // 3])
    corrupt = tmp_path / "corrupt.tgz"
    data = bytearray(good_package)
    for i in range(40, 200):  # inside the deflate stream, past the gzip header
        data[i] ^= 0x5A
    corrupt.write_bytes(bytes(data))
    bomb = tmp_path / "bomb.tgz"
    bomb.write_bytes(_bomb())
    empty = tmp_path / "empty.tgz"
    empty.write_bytes(b"")
    before = _store_and_bucket(sandbox_home)
    peaks = {}
    for path in (truncated, corrupt, bomb, empty):
        code, err, peak = _cli(path)
        peaks[path.stem] = peak
        lines = err.strip().splitlines()
        assert code == 2, (path.name, err)
        assert len(lines) == 1 and lines[0].startswith("Error: package "), (path.name, err)
        assert "Traceback" not in err
        assert peak < 400, f"{path.name}: {peak} MiB"  # the bomb's entry is 1 GiB
    assert _store_and_bucket(sandbox_home) == before
    figures("broken packages through the CLI", cases=4, exit_2=4, one_line=4,
            bomb_size=f"{bomb.stat().st_size >> 10} KiB holding 1 GiB",
            peak_mib=max(peaks.values()), stored_objects_delta=0)


@st.composite
def _mutations(draw, size: int):
    kind = draw(st.sampled_from(["truncate", "flip", "splice", "zero"]))
    at = draw(st.integers(0, max(size - 1, 0)))
    if kind == "truncate":
        return kind, at, b""
    return kind, at, draw(st.binary(min_size=1, max_size=64))


def _mutate(data: bytes, mutation) -> bytes:
    kind, at, payload = mutation
    if kind == "truncate":
        return data[:at]
    if kind == "flip":
        chunk = bytes(b ^ p for b, p in zip(data[at:at + len(payload)], payload))
        return data[:at] + chunk + data[at + len(chunk):]
    if kind == "splice":
        return data[:at] + payload + data[at:]
    return data[:at] + bytes(len(payload)) + data[at + len(payload):]


RESULTS = {"ok": 0, "package_error": 0}


def _read_counting(path, blob: bytes) -> None:
    """Read `blob` as a package: it loads or fails with a one-line PackageError, nothing else."""
    path.write_bytes(blob)
    try:
        read_package(path)
        RESULTS["ok"] += 1
    except PackageError as exc:
        assert "\n" not in str(exc)
        RESULTS["package_error"] += 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_packages_raise_only_package_errors(good_package, tmp_path, data):
    mutations = data.draw(st.lists(_mutations(len(good_package)), min_size=1, max_size=4))
    blob = good_package
    for mutation in mutations:
        blob = _mutate(blob, mutation)
    _read_counting(tmp_path / "mutated.tgz", blob)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.tuples(
    st.text(min_size=1, max_size=40).filter(lambda n: "\0" not in n),
    st.binary(max_size=300)), max_size=6))
def test_arbitrary_tar_entries_raise_only_package_errors(tmp_path, entries):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, payload in entries:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            try:
                archive.addfile(info, io.BytesIO(payload))
            except (ValueError, UnicodeError):
                continue  # a name tar itself cannot hold
    _read_counting(tmp_path / "entries.tgz", buffer.getvalue())


def test_fuzz_package_figures():
    total = RESULTS["ok"] + RESULTS["package_error"]
    figures("package fuzz (reader)", examples=total, package_errors=RESULTS["package_error"],
            read_ok=RESULTS["ok"], other_exceptions=0,
            limits=f"spec {package_reader.MAX_SPEC_BYTES >> 20} MiB, bundle "
                   f"{package_reader.MAX_BUNDLE_BYTES >> 20} MiB, total "
                   f"{package_reader.MAX_TOTAL_BYTES >> 30} GiB")

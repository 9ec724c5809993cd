"""Large blobs through the sandbox's real MinIO: multipart uploads, and memory that stays flat.

The 1 GiB transfer runs in a child process that reports its own peak RSS, so the number
measures sdk.io alone, not pytest's own heap. It reads VmHWM from /proc rather than getrusage's
ru_maxrss: Linux carries ru_maxrss across fork and exec, so a child of a large pytest process
would report the parent's peak.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys

import pytest

from sdk.s3_client import MULTIPART_THRESHOLD, S3Client, S3Config

GIB = 1024 * 1024 * 1024
MIB = 1024 * 1024

# Uploads, then downloads, one file through sdk.io and prints the peak RSS after each step.
_TRANSFER_SCRIPT = """
import json, sys
from sdk import io

def peak_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

source, uri, target = sys.argv[1:4]
io.upload_file(source, uri)
after_upload = peak_kib()
io.download_file(uri, target)
after_download = peak_kib()
print(json.dumps({"upload_kib": after_upload, "download_kib": after_download}))
"""


def _write_random_file(path, size: int) -> str:
    """A file of `size` random bytes written in 8 MiB chunks; returns its sha256."""
    digest = hashlib.sha256()
    chunk = os.urandom(8 * MIB)  # one random block repeated with a counter: fast, not compressible
    with open(path, "wb") as handle:
        written = 0
        counter = 0
        while written < size:
            block = (counter.to_bytes(8, "little") + chunk)[: min(len(chunk), size - written)]
            handle.write(block)
            digest.update(block)
            written += len(block)
            counter += 1
    return digest.hexdigest()


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(8 * MIB):
            digest.update(block)
    return digest.hexdigest()


def _etag(sandbox_home, key: str) -> str:
    from minio import Minio

    endpoint = sandbox_home.minio_endpoint.split("://", 1)[1]
    client = Minio(endpoint, sandbox_home.access_key, sandbox_home.secret_key, secure=False)
    return client.stat_object(sandbox_home.bucket, key).etag


def test_one_gib_file_round_trips_with_flat_memory(sandbox_home, tmp_path):
    source = tmp_path / "big.bin"
    target = tmp_path / "back" / "big.bin"
    expected = _write_random_file(source, GIB)
    key = "tests/large/big.bin"
    env = dict(os.environ, **sandbox_home.storage_env())
    env.pop("SKIFF_S3_CLIENT", None)

    result = subprocess.run(
        [sys.executable, "-c", _TRANSFER_SCRIPT, str(source), f"s3://{sandbox_home.bucket}/{key}", str(target)],
        env=env, capture_output=True, text=True, check=True,
    )
    peaks = json.loads(result.stdout.strip().splitlines()[-1])

    assert _sha256(target) == expected
    # S3 marks a multipart object's ETag with its part count: 1 GiB in 64 MiB parts is 16.
    assert _etag(sandbox_home, key).endswith("-16")
    print(f"peak RSS: upload {peaks['upload_kib'] // 1024} MiB, download {peaks['download_kib'] // 1024} MiB "
          f"for a {GIB // MIB} MiB file")
    assert peaks["upload_kib"] < 200 * 1024
    assert peaks["download_kib"] < 200 * 1024


@pytest.fixture()
def client(sandbox_home):
    return S3Client(S3Config.from_env(sandbox_home.storage_env()))


def test_multipart_upload_keeps_bytes_and_part_boundaries(client, sandbox_home):
    # Just above the threshold: two parts, the second one short.
    payload = os.urandom(MULTIPART_THRESHOLD + 3 * MIB + 17)
    client.upload(sandbox_home.bucket, "tests/large/two-parts.bin", io.BytesIO(payload), len(payload))
    sink = io.BytesIO()
    client.download(sandbox_home.bucket, "tests/large/two-parts.bin", sink)
    assert sink.getvalue() == payload
    assert _etag(sandbox_home, "tests/large/two-parts.bin").endswith("-2")


def test_multipart_upload_from_the_middle_of_a_stream(client, sandbox_home):
    # The upload starts at the stream's current position, as a single PUT does.
    payload = os.urandom(MULTIPART_THRESHOLD + MIB)
    stream = io.BytesIO(b"HEADER" + payload)
    stream.seek(6)
    client.upload(sandbox_home.bucket, "tests/large/offset.bin", stream, len(payload))
    assert client.get_bytes(sandbox_home.bucket, "tests/large/offset.bin") == payload


def test_multipart_upload_to_a_missing_bucket_names_the_object(client):
    from sdk.s3_client import S3Error

    payload = io.BytesIO(b"x" * (MULTIPART_THRESHOLD + 1))
    with pytest.raises(S3Error, match=r"s3://no-such-bucket/big.bin.*404 NoSuchBucket"):
        client.upload("no-such-bucket", "big.bin", payload, MULTIPART_THRESHOLD + 1)


@pytest.fixture()
def small_parts(monkeypatch):
    """5 MiB parts (S3's smallest) and 3 MiB ranges: a few MiB exercise the parallel paths."""
    from sdk import s3_client

    monkeypatch.setattr(s3_client, "MULTIPART_THRESHOLD", 5 * MIB)
    monkeypatch.setattr(s3_client, "_PART_SIZE", 5 * MIB)
    monkeypatch.setattr(s3_client, "_RANGE_SIZE", 3 * MIB)


def test_parts_and_ranges_in_parallel_keep_every_byte_in_place(client, sandbox_home, tmp_path, small_parts):
    source, target = tmp_path / "parts.bin", tmp_path / "ranges.bin"
    expected = _write_random_file(source, 23 * MIB + 5)  # 5 parts, 8 ranges, short last ones
    with open(source, "rb") as handle:
        client.upload(sandbox_home.bucket, "tests/large/parallel.bin", handle, 23 * MIB + 5)
        assert handle.tell() == 23 * MIB + 5
    assert _etag(sandbox_home, "tests/large/parallel.bin").endswith("-5")
    with open(target, "wb") as sink:
        sink.write(b"HEAD")  # the object lands from the sink's position on
        client.download(sandbox_home.bucket, "tests/large/parallel.bin", sink)
    assert target.read_bytes()[:4] == b"HEAD"
    with open(target, "rb") as handle:
        handle.seek(4)
        digest = hashlib.sha256()
        while block := handle.read(8 * MIB):
            digest.update(block)
    assert digest.hexdigest() == expected


def test_an_object_replaced_during_a_ranged_download_fails_naming_it(client, sandbox_home, tmp_path,
                                                                       small_parts, monkeypatch):
    from sdk import s3_client
    from sdk.s3_client import S3Error

    key = "tests/large/replaced.bin"
    client.put_bytes(sandbox_home.bucket, key, os.urandom(7 * MIB))
    copy_body = s3_client._copy_body

    def replace_after_the_first_range(response, fd, offset, buffer):
        end = copy_body(response, fd, offset, buffer)
        if offset == 0:  # another writer replaces the object between the ranges
            S3Client(client.config).put_bytes(sandbox_home.bucket, key, os.urandom(7 * MIB))
        return end

    monkeypatch.setattr(s3_client, "_copy_body", replace_after_the_first_range)
    with open(tmp_path / "replaced.bin", "wb") as sink:
        with pytest.raises(S3Error, match=rf"s3://{sandbox_home.bucket}/{key}.*changed while it was downloaded"):
            client.download(sandbox_home.bucket, key, sink)


def test_an_empty_object_downloads_to_an_empty_file(client, sandbox_home, tmp_path):
    client.put_bytes(sandbox_home.bucket, "tests/large/empty.bin", b"")
    target = tmp_path / "empty.bin"
    with open(target, "wb") as sink:
        client.download(sandbox_home.bucket, "tests/large/empty.bin", sink)
    assert target.read_bytes() == b""


def test_a_download_appended_to_a_file_keeps_its_order(client, sandbox_home, tmp_path, monkeypatch):
    from sdk import s3_client

    monkeypatch.setattr(s3_client, "_RANGE_SIZE", 256 * 1024)
    payload = os.urandom(4 * MIB + 1)  # 17 ranges, were it not for the append
    client.put_bytes(sandbox_home.bucket, "tests/large/appended.bin", payload)
    target = tmp_path / "appended.bin"
    target.write_bytes(b"before")
    with open(target, "ab") as sink:
        client.download(sandbox_home.bucket, "tests/large/appended.bin", sink)
    assert target.read_bytes() == b"before" + payload

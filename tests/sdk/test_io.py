"""sdk.io: plain paths and file:// URIs here; s3:// against the sandbox's real MinIO."""

from __future__ import annotations

import os
import uuid

import pytest

from sdk import io
from sdk.io import StorageError


def _file_uri(path) -> str:
    return "file://" + os.path.abspath(path)


def test_bytes_round_trip_through_file_uri_creates_parents(tmp_path):
    uri = _file_uri(tmp_path / "a" / "b" / "outputs.pb")
    io.write_bytes(uri, b"\x00\x01payload")
    assert io.read_bytes(uri) == b"\x00\x01payload"
    assert (tmp_path / "a" / "b" / "outputs.pb").read_bytes() == b"\x00\x01payload"
    assert io.exists(uri)
    assert not io.exists(_file_uri(tmp_path / "missing.pb"))


def test_plain_paths_work_like_file_uris(tmp_path):
    path = str(tmp_path / "x.bin")
    io.write_bytes(path, b"abc")
    assert io.read_bytes(_file_uri(path)) == b"abc"


def test_file_copy_both_ways(tmp_path):
    source = tmp_path / "src.txt"
    source.write_text("hello")
    remote = _file_uri(tmp_path / "store" / "deep" / "copy.txt")
    io.upload_file(str(source), remote)
    back = tmp_path / "back" / "again.txt"
    io.download_file(remote, str(back))
    assert back.read_text() == "hello"


def test_directory_copy_both_ways_keeps_the_tree(tmp_path):
    source = tmp_path / "tree"
    (source / "sub").mkdir(parents=True)
    (source / "top.txt").write_text("1")
    (source / "sub" / "leaf.txt").write_text("2")
    remote = _file_uri(tmp_path / "store" / "tree")
    io.upload_directory(str(source), remote)
    target = tmp_path / "out"
    io.download_directory(remote, str(target))
    assert (target / "top.txt").read_text() == "1"
    assert (target / "sub" / "leaf.txt").read_text() == "2"


def test_errors_name_the_uri(tmp_path):
    missing = _file_uri(tmp_path / "nope" / "inputs.pb")
    with pytest.raises(StorageError, match="nope/inputs.pb"):
        io.read_bytes(missing)
    with pytest.raises(StorageError, match="nope/inputs.pb"):
        io.download_file(missing, str(tmp_path / "x"))
    with pytest.raises(StorageError, match="no such file"):
        io.upload_file(str(tmp_path / "absent.txt"), _file_uri(tmp_path / "y"))
    with pytest.raises(StorageError, match="gs://bucket/key"):
        io.read_bytes("gs://bucket/key")


def test_s3_without_endpoint_says_which_variable_to_set(monkeypatch):
    monkeypatch.delenv("FLYTE_AWS_ENDPOINT", raising=False)
    with pytest.raises(StorageError, match=r"s3://skiff/x.*FLYTE_AWS_ENDPOINT"):
        io.read_bytes("s3://skiff/x")


def test_join_keeps_the_scheme():
    assert io.join("s3://skiff/raw/", "/a/", "b.txt") == "s3://skiff/raw/a/b.txt"
    assert io.join("file:///tmp/x", "y") == "file:///tmp/x/y"


def test_prefix_transfer_uploads_under_its_prefix_and_downloads(tmp_path):
    prefix = _file_uri(tmp_path / "raw")
    transfer = io.PrefixTransfer(prefix)
    data = tmp_path / "data.csv"
    data.write_text("a,b\n")
    uri = transfer.upload(str(data), is_directory=False)
    assert uri.startswith(prefix + "/") and uri.endswith("/data.csv")
    second = transfer.upload(str(data), is_directory=False)
    assert second != uri  # two uploads of the same name never overwrite each other
    target = tmp_path / "fetched.csv"
    transfer.download(uri, str(target), is_directory=False)
    assert target.read_text() == "a,b\n"


# ---- s3:// against a real MinIO (the sandbox_home fixture brings one up) --------------------


@pytest.fixture
def s3_env(request, monkeypatch):
    try:
        state = request.getfixturevalue("sandbox_home")
    except pytest.FixtureLookupError:
        pytest.skip("the sandbox_home fixture (tests/conftest.py) is not defined yet")
    for key, value in state.storage_env().items():
        monkeypatch.setenv(key, value)
    return state


@pytest.mark.sandbox
@pytest.mark.parametrize("client", ["stdlib", "minio"])
def test_s3_round_trips(s3_env, tmp_path, monkeypatch, client):
    monkeypatch.setenv("SKIFF_S3_CLIENT", client)
    base = f"s3://{s3_env.bucket}/tests/io-{uuid.uuid4().hex[:8]}"
    io.write_bytes(f"{base}/doc.pb", b"literal bytes")
    assert io.read_bytes(f"{base}/doc.pb") == b"literal bytes"
    assert io.exists(f"{base}/doc.pb") and not io.exists(f"{base}/other.pb")

    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    io.upload_file(str(big), f"{base}/files/big.bin")
    io.download_file(f"{base}/files/big.bin", str(tmp_path / "big.copy"))
    assert (tmp_path / "big.copy").read_bytes() == big.read_bytes()

    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("A")
    (tree / "sub" / "b.txt").write_text("B")
    io.upload_directory(str(tree), f"{base}/tree")
    io.download_directory(f"{base}/tree", str(tmp_path / "tree-copy"))
    assert (tmp_path / "tree-copy" / "a.txt").read_text() == "A"
    assert (tmp_path / "tree-copy" / "sub" / "b.txt").read_text() == "B"

    with pytest.raises(StorageError, match=f"{base}/missing.pb"):
        io.read_bytes(f"{base}/missing.pb")


@pytest.mark.sandbox
def test_s3_wrong_credentials_name_the_uri(s3_env, monkeypatch):
    monkeypatch.setenv("FLYTE_AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(StorageError, match=f"s3://{s3_env.bucket}/tests/x.pb"):
        io.read_bytes(f"s3://{s3_env.bucket}/tests/x.pb")


# ---- what a cluster gives a container: region, temporary credentials ------------------------


def test_s3_settings_come_from_the_environment_as_a_cluster_sets_them():
    from sdk.s3_client import S3Config, sign_v4

    base = {"FLYTE_AWS_ENDPOINT": "http://127.0.0.1:9", "FLYTE_AWS_ACCESS_KEY_ID": "AK",
            "FLYTE_AWS_SECRET_ACCESS_KEY": "SK"}
    assert S3Config.from_env(base).region == "us-east-1" and not S3Config.from_env(base).session_token
    assert S3Config.from_env({**base, "AWS_DEFAULT_REGION": "eu-west-1"}).region == "eu-west-1"
    config = S3Config.from_env({**base, "AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "ap-south-1",
                                "AWS_SESSION_TOKEN": "TOKEN"})
    assert (config.region, config.session_token) == ("ap-south-1", "TOKEN")
    headers = sign_v4(config, "s3", "GET", "/b/k", "", {"host": "127.0.0.1:9"}, "UNSIGNED-PAYLOAD")
    assert "/ap-south-1/s3/aws4_request" in headers["authorization"]
    assert headers["x-amz-security-token"] == "TOKEN"
    assert "x-amz-security-token" in headers["authorization"].split("SignedHeaders=")[1]


@pytest.mark.sandbox
@pytest.mark.parametrize("client", ["stdlib", "minio"])
def test_s3_with_temporary_credentials_from_sts(s3_env, monkeypatch, client):
    """Credentials from MinIO's STS AssumeRole, as a cluster hands them to a pod: the access key,
    secret and AWS_SESSION_TOKEN; without the token the same keys are refused."""
    from sdk.s3_client import S3Config, assume_role, credentials_env

    temporary = assume_role(S3Config.from_env(os.environ), duration_seconds=900)
    assert temporary.session_token and temporary.access_key != os.environ["FLYTE_AWS_ACCESS_KEY_ID"]
    for key, value in credentials_env(temporary).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SKIFF_S3_CLIENT", client)
    base = f"s3://{s3_env.bucket}/tests/sts-{uuid.uuid4().hex[:8]}"
    io.write_bytes(f"{base}/doc.pb", b"temporary")
    assert io.read_bytes(f"{base}/doc.pb") == b"temporary"
    assert io.exists(f"{base}/doc.pb")

    monkeypatch.delenv("AWS_SESSION_TOKEN")
    with pytest.raises(StorageError, match=f"{base}/doc.pb"):
        io.read_bytes(f"{base}/doc.pb")

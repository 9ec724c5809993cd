"""The entrypoint's S3 client against the sandbox's real MinIO."""

import io

import pytest

from sdk.s3_client import S3Client, S3Config, S3Error, split_s3_uri


@pytest.fixture()
def client(sandbox_home):
    return S3Client(S3Config.from_env(sandbox_home.storage_env()))


def test_put_get_list_and_stream(client, sandbox_home):
    bucket = sandbox_home.bucket
    client.put_bytes(bucket, "s3client/a b+c.pb", b"hello")
    assert client.get_bytes(bucket, "s3client/a b+c.pb") == b"hello"

    payload = bytes(range(256)) * 9000  # crosses the 1 MiB streaming chunk
    client.upload(bucket, "s3client/big.bin", io.BytesIO(payload), len(payload))
    sink = io.BytesIO()
    client.download(bucket, "s3client/big.bin", sink)
    assert sink.getvalue() == payload

    assert sorted(client.list_keys(bucket, "s3client/")) == ["s3client/a b+c.pb", "s3client/big.bin"]


def test_objects_written_are_readable_by_minio_client(client, sandbox_home):
    from minio import Minio

    client.put_bytes(sandbox_home.bucket, "s3client/interop.txt", b"interop")
    endpoint = sandbox_home.minio_endpoint.split("://", 1)[1]
    minio = Minio(endpoint, sandbox_home.access_key, sandbox_home.secret_key, secure=False)
    assert minio.get_object(sandbox_home.bucket, "s3client/interop.txt").read() == b"interop"


def test_missing_object_and_wrong_secret_name_the_object(client, sandbox_home):
    with pytest.raises(S3Error, match=r"s3://skiff/s3client/nothing-here.*404 NoSuchKey"):
        client.get_bytes(sandbox_home.bucket, "s3client/nothing-here")
    wrong = S3Client(S3Config(sandbox_home.minio_endpoint, sandbox_home.access_key, "not-the-secret"))
    with pytest.raises(S3Error, match="403"):
        wrong.get_bytes(sandbox_home.bucket, "s3client/a b+c.pb")


def test_split_s3_uri_rejects_other_schemes():
    assert split_s3_uri("s3://bkt/a/b.pb") == ("bkt", "a/b.pb")
    with pytest.raises(S3Error, match="not an s3:// URI"):
        split_s3_uri("file:///tmp/x")

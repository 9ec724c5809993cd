"""Reading data an admin points at: inline literal maps, offloaded literals and blobs behind
URLs (presigned http(s), or s3:// read through the data proxy or the configured storage)."""
from __future__ import annotations

import base64
import hashlib
import urllib.error
import urllib.request

import grpc
from flyteidl.core import literals_pb2
from flyteidl.service import dataproxy_pb2

from sdk.remote.errors import RemoteError


def _http_get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=300) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise RemoteError(f"cannot download {url.split('?')[0]} ({exc}); check that the admin's "
                          "storage is reachable from here") from None


class _CountingReader:
    """`data` read in chunks, telling `progress(sent, total)` after each one (urllib streams a
    file-like body when Content-Length is given)."""

    CHUNK = 1 << 20

    def __init__(self, data: bytes, progress):
        self._view, self._sent, self._progress = memoryview(data), 0, progress

    def read(self, size: int = -1) -> bytes:
        size = self.CHUNK if size is None or size < 0 else min(size, self.CHUNK)
        chunk = bytes(self._view[self._sent:self._sent + size])
        self._sent += len(chunk)
        if chunk:
            self._progress(self._sent, len(self._view))
        return chunk


def put_presigned(location, data: bytes, name: str, progress=None) -> None:
    """PUT `data` to an upload location handed out by the data proxy; `progress(sent, total)`
    is told as the bytes go out."""
    # The admin's headers were signed with the URL (Content-MD5 among them) and go as they are,
    # except Content-Length: flyteadmin's presigner reports the length of the base64 MD5 there,
    # not of the body, and the length of what is sent is the only one that can be right.
    headers = {key: value for key, value in location.headers.items()
               if key.lower() != "content-length"}
    if not any(key.lower() == "content-md5" for key in headers):
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(data).digest()).decode()
    headers["Content-Length"] = str(len(data))
    body = data if progress is None else _CountingReader(data, progress)
    request = urllib.request.Request(location.signed_url, data=body, method="PUT", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise RemoteError(f"cannot upload {name} to {location.native_url} ({exc}); "
                          "check that the admin's storage is reachable") from None


def read_uri(conn, uri: str) -> bytes:
    if uri.startswith(("http://", "https://")):
        return _http_get(uri)
    answer = conn.data.call("CreateDownloadLocation",
                            dataproxy_pb2.CreateDownloadLocationRequest(native_url=uri),
                            f"get a download link for {uri}",
                            allow=(grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.NOT_FOUND,
                                   grpc.StatusCode.INVALID_ARGUMENT))
    if not isinstance(answer, grpc.RpcError) and answer.signed_url:
        return _http_get(answer.signed_url)
    env = conn.config.storage_env()
    if uri.startswith("s3://") and env:
        from sdk.s3_client import S3Client, S3Config, S3Error, split_s3_uri

        try:
            return S3Client(S3Config.from_env(env)).get_bytes(*split_s3_uri(uri))
        except S3Error as exc:
            raise RemoteError(f"cannot read {uri} from {env['FLYTE_AWS_ENDPOINT']} ({exc})") from None
    raise RemoteError(f"cannot read {uri}: the admin at {conn.config.endpoint} gives no download "
                      "link; set storage.connection (endpoint, access-key, secret-key) in the config")


def resolve_literal(conn, literal: literals_pb2.Literal) -> literals_pb2.Literal:
    """`literal` with offloaded parts read back in, recursively."""
    kind = literal.WhichOneof("value")
    if kind == "offloaded_metadata":
        loaded = literals_pb2.Literal.FromString(read_uri(conn, literal.offloaded_metadata.uri))
        return resolve_literal(conn, loaded)
    if kind == "collection":
        out = literals_pb2.Literal()
        out.CopyFrom(literal)
        del out.collection.literals[:]
        for item in literal.collection.literals:
            out.collection.literals.add().CopyFrom(resolve_literal(conn, item))
        return out
    if kind == "map":
        out = literals_pb2.Literal()
        out.CopyFrom(literal)
        for name, item in literal.map.literals.items():
            out.map.literals[name].CopyFrom(resolve_literal(conn, item))
        return out
    return literal


def literal_map(conn, full: literals_pb2.LiteralMap, blob) -> literals_pb2.LiteralMap:
    """The inline map when the admin sent one, else the one its UrlBlob points at; offloaded
    literals resolved."""
    if not full.literals and blob.url:
        full = literals_pb2.LiteralMap.FromString(read_uri(conn, blob.url))
    out = literals_pb2.LiteralMap()
    for name, literal in full.literals.items():
        out.literals[name].CopyFrom(resolve_literal(conn, literal))
    return out


class DataProxyTransfer:
    """The type engine's Transfer for a remote admin: local files and directories go up through
    the data proxy (presigned PUTs), as flytekit uploads inputs for a remote run."""

    def __init__(self, conn, project: str, domain: str):
        self._conn, self._project, self._domain = conn, project, domain

    def _put(self, path: str, filename: str, root: str | None) -> str:
        with open(path, "rb") as handle:
            data = handle.read()
        request = dataproxy_pb2.CreateUploadLocationRequest(
            project=self._project, domain=self._domain, filename=filename,
            content_md5=hashlib.md5(data).digest(), filename_root=root or "")
        location = self._conn.data.call("CreateUploadLocation", request,
                                        f"get an upload location for input file {path}")
        put_presigned(location, data, path)
        return location.native_url

    def upload(self, local_path: str, is_directory: bool) -> str:
        import os
        import secrets

        if not is_directory:
            return self._put(local_path, os.path.basename(local_path), None)
        root = "inputs-" + secrets.token_hex(8)
        name = os.path.basename(os.path.normpath(local_path))
        prefix = None
        for folder, _dirs, files in os.walk(local_path):
            for file in sorted(files):
                full = os.path.join(folder, file)
                relative = os.path.relpath(full, local_path).replace(os.sep, "/")
                uri = self._put(full, f"{name}/{relative}", root)
                prefix = uri[: -len(relative)]
        if prefix is None:
            raise RemoteError(f"input directory {local_path} is empty; put a file in it")
        return prefix

    def download(self, uri: str, local_path: str, is_directory: bool) -> None:
        if is_directory:
            raise RemoteError(f"cannot download directory {uri} from the admin; read it where "
                              "it is stored")
        with open(local_path, "wb") as handle:
            handle.write(read_uri(self._conn, uri))


def list_remote_directory(conn, uri: str) -> list[str]:
    """The object URIs under a directory URI in the admin's storage; needs storage.connection
    (the data proxy lists nothing)."""
    env = conn.config.storage_env()
    if not uri.startswith("s3://") or not env:
        raise RemoteError(f"cannot list directory {uri}: the data proxy gives no listing; set "
                          "storage.connection (endpoint, access-key, secret-key) in the config")
    from sdk.s3_client import S3Client, S3Config, S3Error, split_s3_uri

    bucket, prefix = split_s3_uri(uri.rstrip("/") + "/")
    try:
        return [f"s3://{bucket}/{key}" for key in S3Client(S3Config.from_env(env)).list_keys(
            bucket, prefix)]
    except S3Error as exc:
        raise RemoteError(f"cannot list {uri} in {env['FLYTE_AWS_ENDPOINT']} ({exc})") from None

"""Reading data an admin points at: inline literal maps, offloaded literals and blobs behind
URLs (presigned http(s), or s3:// read through the data proxy or the configured storage)."""
from __future__ import annotations

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

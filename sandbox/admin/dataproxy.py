"""DataProxyService: MinIO presigned URLs for fast registration uploads and for reading data."""
from __future__ import annotations

import datetime as dt

from flyteidl.service import dataproxy_pb2, dataproxy_pb2_grpc
from google.protobuf import timestamp_pb2

from sandbox.admin.errors import invalid, not_found, rpc
from sandbox.storage.layout import content_folder, fast_key, split_s3_uri

DEFAULT_EXPIRY = dt.timedelta(hours=1)
MAX_EXPIRY = dt.timedelta(days=7)  # the S3 presigning limit


def _expiry(request) -> dt.timedelta:
    if request.HasField("expires_in"):
        return min(max(request.expires_in.ToTimedelta(), dt.timedelta(seconds=1)), MAX_EXPIRY)
    return DEFAULT_EXPIRY


def _expires_at(expiry: dt.timedelta) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(dt.datetime.now(dt.timezone.utc) + expiry)
    return stamp


def upload_key(request) -> str:
    """Where an upload goes, laid out as flyteadmin lays it out under the fast/ prefix:
    fast/<project>/<domain>/<filename_root or base32 of the MD5>/<filename>."""
    if not request.project or not request.domain:
        raise invalid("an upload location needs a project and a domain")
    if not request.filename:
        raise invalid("an upload location needs a file name")
    root = request.filename_root
    if not root:
        if not request.content_md5:
            raise invalid(f"upload of {request.filename!r}: give content_md5 or filename_root")
        # The same key the local registry stores a code bundle under (i16-bundles).
        root = content_folder(request.content_md5)
    return fast_key(request.project, request.domain, root, request.filename)


class DataProxy(dataproxy_pb2_grpc.DataProxyServiceServicer):
    def __init__(self, objects, bucket: str, admin):
        self.objects = objects
        self.bucket = bucket
        self.admin = admin  # the AdminService, for node execution outputs

    @rpc
    def CreateUploadLocation(self, request, context):
        key = upload_key(request)
        expiry = _expiry(request)
        url = self.objects.client.presigned_put_object(self.bucket, key, expires=expiry)
        return dataproxy_pb2.CreateUploadLocationResponse(
            signed_url=url, native_url=f"s3://{self.bucket}/{key}",
            expires_at=_expires_at(expiry))

    def _signed_get(self, uri: str, expiry: dt.timedelta) -> str:
        try:
            bucket, key = split_s3_uri(uri)
        except ValueError as exc:
            raise invalid(str(exc)) from None
        if not self.objects.exists(uri):
            raise not_found(f"{uri} does not exist in the sandbox's storage")
        return self.objects.client.presigned_get_object(bucket, key, expires=expiry)

    @rpc
    def CreateDownloadLocation(self, request, context):
        expiry = _expiry(request)
        return dataproxy_pb2.CreateDownloadLocationResponse(
            signed_url=self._signed_get(request.native_url, expiry),
            expires_at=_expires_at(expiry))

    @rpc
    def CreateDownloadLink(self, request, context):
        """Links to a node execution's outputs document (ARTIFACT_TYPE_DECK has none here)."""
        if request.artifact_type == dataproxy_pb2.ARTIFACT_TYPE_DECK:
            raise not_found("the sandbox does not render decks")
        ident = request.node_execution_id
        _, node, _ = self.admin._node(ident)
        if not node.output_uri:
            raise not_found(f"node {ident.node_id!r} of execution {ident.execution_id.name} "
                            "has no outputs yet")
        expiry = _expiry(request)
        url = self._signed_get(f"{node.output_uri}/outputs.pb", expiry)
        return dataproxy_pb2.CreateDownloadLinkResponse(
            signed_url=[url], expires_at=_expires_at(expiry),
            pre_signed_urls=dataproxy_pb2.PreSignedURLs(signed_url=[url],
                                                        expires_at=_expires_at(expiry)))

    @rpc
    def GetData(self, request, context):
        raise invalid(f"flyte:// URLs ({request.flyte_url}) are not served by the sandbox; "
                      "read outputs with GetExecutionData or GetNodeExecutionData")

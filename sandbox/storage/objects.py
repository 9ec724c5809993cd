"""A thin MinIO client: one round trip per document, misses reported as None."""
from __future__ import annotations

import io
from urllib.parse import urlparse

from sandbox.storage.layout import split_s3_uri
from sdk.errors import SandboxError


class ObjectStore:
    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str = "skiff"):
        self.endpoint = endpoint
        self.bucket = bucket
        self._access_key = access_key
        self._secret_key = secret_key
        self._client = None  # created on first use: the cached path never needs MinIO

    @classmethod
    def from_state(cls, state) -> "ObjectStore":
        if not state.minio_endpoint:
            raise SandboxError("the sandbox has no MinIO endpoint; run `skiff sandbox up`")
        return cls(state.minio_endpoint, state.access_key, state.secret_key, state.bucket)

    @property
    def client(self):
        if self._client is None:
            from minio import Minio  # lazy: heavy import, not needed on cached runs

            url = urlparse(self.endpoint)
            self._client = Minio(url.netloc, access_key=self._access_key,
                                 secret_key=self._secret_key, secure=url.scheme == "https")
        return self._client

    def put_bytes(self, uri: str, data: bytes) -> None:
        bucket, key = split_s3_uri(uri)
        try:
            self.client.put_object(bucket, key, io.BytesIO(data), len(data))
        except Exception as exc:  # noqa: BLE001 - any client failure is a storage failure
            raise SandboxError(f"cannot write {uri} to MinIO at {self.endpoint}: {exc}; "
                               "check `skiff sandbox status`") from exc

    def get_bytes(self, uri: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""
        from minio.error import S3Error

        bucket, key = split_s3_uri(uri)
        try:
            response = self.client.get_object(bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return None
            raise SandboxError(f"cannot read {uri} from MinIO: {exc}") from exc
        except Exception as exc:  # noqa: BLE001
            raise SandboxError(f"cannot read {uri} from MinIO at {self.endpoint}: {exc}; "
                               "check `skiff sandbox status`") from exc
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def exists(self, uri: str) -> bool:
        from minio.error import S3Error

        bucket, key = split_s3_uri(uri)
        try:
            self.client.stat_object(bucket, key)
            return True
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return False
            raise SandboxError(f"cannot stat {uri} in MinIO: {exc}") from exc

    def list_uris(self, prefix_uri: str, limit: int = 1000) -> list[tuple[str, int]]:
        """(uri, size) of the objects under a prefix (a Directory's or a DataFrame's files),
        at most `limit` of them."""
        bucket, key = split_s3_uri(prefix_uri)
        prefix = key.rstrip("/") + "/" if key else ""
        found = []
        try:
            for item in self.client.list_objects(bucket, prefix=prefix, recursive=True):
                found.append((f"s3://{bucket}/{item.object_name}", item.size or 0))
                if len(found) >= limit:
                    break
        except Exception as exc:  # noqa: BLE001
            raise SandboxError(f"cannot list {prefix_uri} in MinIO at {self.endpoint}: "
                               f"{exc}; check `skiff sandbox status`") from exc
        return found

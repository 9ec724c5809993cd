"""A thin MinIO client: one round trip per document, misses reported as None.

A storage outage (MinIO restarting, killed and brought back by `skiff sandbox up`) is waited
out: a request that cannot reach MinIO is tried again with growing pauses for up to
OUTAGE_WAIT_S, and the process says so once, on one line, rather than letting urllib3 log a
warning per retry (its own retries are switched off). An answer from MinIO (an S3 error) is
never retried: it is the answer.
"""
from __future__ import annotations

import io
import logging
import os
import threading
import time
from urllib.parse import urlparse

from sandbox.storage.layout import split_s3_uri
from sdk.errors import SandboxError

log = logging.getLogger(__name__)
OUTAGE_WAIT_S = float(os.environ.get("SKIFF_STORAGE_OUTAGE_WAIT_S", "90"))
_FIRST_PAUSE_S = 0.25
_MAX_PAUSE_S = 4.0
_outage = threading.Lock()
_outage_reported: set[str] = set()  # endpoints whose current outage was reported


class ObjectStore:
    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str = "skiff"):
        self.endpoint = endpoint
        self.bucket = bucket
        self._access_key = access_key
        self._secret_key = secret_key
        self._client = None  # created on first use: the cached path never needs MinIO
        self.outage_wait_s = OUTAGE_WAIT_S

    @classmethod
    def from_state(cls, state) -> "ObjectStore":
        if not state.minio_endpoint:
            raise SandboxError("the sandbox has no MinIO endpoint; run `skiff sandbox up`")
        return cls(state.minio_endpoint, state.access_key, state.secret_key, state.bucket)

    @property
    def client(self):
        if self._client is None:
            import urllib3
            from minio import Minio  # lazy: heavy import, not needed on cached runs

            url = urlparse(self.endpoint)
            # No urllib3 retries (each would log a warning): _retrying waits outages out.
            http = urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=5, read=300), maxsize=32,
                retries=urllib3.Retry(total=0, connect=0, read=0, redirect=3, status=0,
                                      raise_on_status=False))
            self._client = Minio(url.netloc, access_key=self._access_key,
                                 secret_key=self._secret_key, secure=url.scheme == "https",
                                 http_client=http)
        return self._client

    def _retrying(self, what: str, call):
        """`call()`, tried again while MinIO cannot be reached, for up to outage_wait_s."""
        return wait_out_outage(self.endpoint, what, call, self.outage_wait_s)

    def put_bytes(self, uri: str, data: bytes, progress=None) -> None:
        """Store `data` at `uri`; `progress(sent, total)`, when given, follows the upload
        (from the start again when an outage makes it start again)."""
        bucket, key = split_s3_uri(uri)
        try:
            self._retrying(f"writing {uri}", lambda: self.client.put_object(
                bucket, key, io.BytesIO(data), len(data),
                progress=_Progress(progress) if progress else None))
        except Exception as exc:  # noqa: BLE001 - any client failure is a storage failure
            raise SandboxError(f"cannot write {uri} to MinIO at {self.endpoint}: "
                               f"{_one_line(exc)}; check `skiff sandbox status`") from exc

    def get_bytes(self, uri: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""
        from minio.error import S3Error

        bucket, key = split_s3_uri(uri)

        def read() -> bytes:
            response = self.client.get_object(bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        try:
            return self._retrying(f"reading {uri}", read)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return None
            raise SandboxError(f"cannot read {uri} from MinIO: {_one_line(exc)}") from exc
        except Exception as exc:  # noqa: BLE001
            raise SandboxError(f"cannot read {uri} from MinIO at {self.endpoint}: "
                               f"{_one_line(exc)}; check `skiff sandbox status`") from exc

    def exists(self, uri: str) -> bool:
        from minio.error import S3Error

        bucket, key = split_s3_uri(uri)
        try:
            self._retrying(f"checking {uri}", lambda: self.client.stat_object(bucket, key))
            return True
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject"):
                return False
            raise SandboxError(f"cannot stat {uri} in MinIO: {_one_line(exc)}") from exc
        except Exception as exc:  # noqa: BLE001
            raise SandboxError(f"cannot stat {uri} in MinIO at {self.endpoint}: "
                               f"{_one_line(exc)}; check `skiff sandbox status`") from exc

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
                               f"{_one_line(exc)}; check `skiff sandbox status`") from exc
        return found


def wait_out_outage(endpoint: str, what: str, call, wait_s: float = OUTAGE_WAIT_S,
                    unreachable=None):
    """`call()`, tried again with growing pauses while MinIO at `endpoint` cannot be reached
    (`unreachable(exc)`, by default: no connection, or a 5xx while it starts), for up to
    `wait_s`. The outage is logged once per endpoint, not once per try; any other failure
    (an answer from MinIO) is raised at once."""
    unreachable = unreachable or is_unreachable
    deadline = time.monotonic() + wait_s
    pause = _FIRST_PAUSE_S
    while True:
        try:
            result = call()
        except Exception as exc:  # noqa: BLE001 - connection refused, reset, timed out
            if not unreachable(exc) or time.monotonic() + pause > deadline:
                raise
            _report_outage(endpoint, what, wait_s)
            time.sleep(pause)
            pause = min(pause * 2, _MAX_PAUSE_S)
            continue
        _end_outage(endpoint)
        return result


def _report_outage(endpoint: str, what: str, wait_s: float) -> None:
    with _outage:
        if endpoint in _outage_reported:
            return
        _outage_reported.add(endpoint)
    log.warning("MinIO at %s does not answer (%s); waiting up to %.0f s for it to come "
                "back (`skiff sandbox up` restarts it)", endpoint, what, wait_s)


def _end_outage(endpoint: str) -> None:
    if endpoint in _outage_reported:
        with _outage:
            if endpoint in _outage_reported:
                _outage_reported.discard(endpoint)
                log.info("MinIO at %s answers again", endpoint)


def is_unreachable(exc: BaseException) -> bool:
    """A failure to reach MinIO at all (worth waiting out), not an answer from it."""
    import urllib3.exceptions
    from minio.error import ServerError

    if isinstance(exc, ServerError):  # 5xx without an S3 answer: MinIO is starting
        return exc.status_code >= 500
    return isinstance(exc, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError,
                            OSError))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


class _Progress:
    """minio's progress protocol (set_meta, then update per part read) -> progress(sent, total)."""

    def __init__(self, callback):
        self.callback, self.sent, self.total = callback, 0, 0

    def set_meta(self, object_name: str, total_length: int) -> None:
        self.total = total_length

    def update(self, size: int) -> None:
        self.sent += size
        self.callback(self.sent, self.total)

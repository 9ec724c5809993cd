"""A small S3 client on the standard library, for the in-container entrypoint.

Every task container reads its inputs and writes its outputs through S3, once per container, so
start-up time matters more than features: importing the `minio` package costs more than a bare
container start. This client signs requests with AWS Signature Version 4 and supports only what
the entrypoint needs: get, put and list of objects, streaming to and from files. Files above
`MULTIPART_THRESHOLD` go up as an S3 multipart upload, one part at a time read straight from the
file, so memory stays flat whatever the file's size.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from sdk.http_connection import IDEMPOTENT_METHODS, ConnectionClosed, HTTPConnection, RequestNotSent
from sdk.sha256 import sha256

_UNSIGNED = "UNSIGNED-PAYLOAD"
_CHUNK = 1024 * 1024
MULTIPART_THRESHOLD = 64 * 1024 * 1024
_PART_SIZE = 64 * 1024 * 1024
_MAX_PARTS = 10000  # S3's limit; larger files get larger parts
# How long a request waits for storage that refuses connections (restarting) before failing.
OUTAGE_WAIT_S = float(os.environ.get("SKIFF_STORAGE_OUTAGE_WAIT_S", "90"))


class S3Error(Exception):
    """An S3 request that failed; the message names the method, the object and the server's code."""

    def __init__(self, message: str, status: int = 0, code: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class S3Config:
    endpoint: str  # e.g. http://127.0.0.1:9000
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    session_token: str = ""  # temporary (STS) credentials: signed as x-amz-security-token

    @classmethod
    def from_env(cls, env=os.environ) -> "S3Config":
        """Read Flyte's S3 settings, as flytekit does inside a task container."""
        endpoint = env.get("FLYTE_AWS_ENDPOINT") or env.get("AWS_ENDPOINT_URL") or ""
        if not endpoint:
            raise S3Error("no S3 endpoint: set FLYTE_AWS_ENDPOINT (e.g. http://127.0.0.1:9000)")
        return cls(
            endpoint=endpoint,
            access_key=env.get("FLYTE_AWS_ACCESS_KEY_ID") or env.get("AWS_ACCESS_KEY_ID", ""),
            secret_key=env.get("FLYTE_AWS_SECRET_ACCESS_KEY") or env.get("AWS_SECRET_ACCESS_KEY", ""),
            region=env.get("AWS_REGION", "us-east-1"),
            session_token=session_token_from_env(env),
        )


def session_token_from_env(env=os.environ) -> str:
    """The STS session token that goes with temporary credentials, as AWS's SDKs read it."""
    return env.get("AWS_SESSION_TOKEN", "")


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/key` -> ("bucket", "some/key")."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise S3Error(f"not an s3:// URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def _xml_text(document: bytes, tag: str) -> str:
    """The text of the first element named `tag` in an S3 XML answer, whatever its namespace."""
    from xml.etree import ElementTree  # only errors, listings and multipart answers are XML

    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError:
        return ""
    for element in root.iter():
        if element.tag == tag or element.tag.endswith("}" + tag):
            return element.text or ""
    return ""


class _Window:
    """`size` bytes of an open file from its current position, read in blocks as it is sent."""

    def __init__(self, source: BinaryIO, size: int):
        self._source = source
        self._start = source.tell()
        self._size = size
        self._left = size

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._source.read(n)
        self._left -= len(data)
        return data

    def tell(self) -> int:
        return self._size - self._left

    def seek(self, position: int) -> None:
        self._source.seek(self._start + position)
        self._left = self._size - position


_INNER_PAD = bytes(x ^ 0x36 for x in range(256))
_OUTER_PAD = bytes(x ^ 0x5C for x in range(256))


def _hmac(key: bytes, text: str) -> bytes:
    """HMAC-SHA256 (RFC 2104) on the built-in SHA-256; sdk tests check it against `hmac`."""
    if len(key) > 64:
        key = sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = sha256(key.translate(_INNER_PAD) + text.encode()).digest()
    return sha256(key.translate(_OUTER_PAD) + inner).digest()


def _may_send_again(method: str, exc: Exception, body, start) -> bool:
    """A failed request is sent once more only when that cannot do it twice: the method is
    idempotent, or the request provably never reached the server (a multipart upload's POSTs
    would otherwise start a second upload); and the body can be sent again from its start."""
    if method not in IDEMPOTENT_METHODS and not isinstance(exc, RequestNotSent):
        return False
    return body is None or isinstance(body, (bytes, bytearray)) or start is not None


class S3Client:
    """Path-style S3 requests over one kept-alive connection."""

    def __init__(self, config: S3Config):
        self.config = config
        parsed = urllib.parse.urlparse(config.endpoint)
        self._secure = parsed.scheme == "https"
        self._host = parsed.netloc
        self._conn: HTTPConnection | None = None

    # -- public API -----------------------------------------------------------------------------

    def get_bytes(self, bucket: str, key: str) -> bytes:
        response = self._request("GET", bucket, key)
        return response.read()

    def download(self, bucket: str, key: str, sink: BinaryIO) -> None:
        response = self._request("GET", bucket, key)
        while chunk := response.read(_CHUNK):
            sink.write(chunk)

    def put_bytes(self, bucket: str, key: str, data: bytes) -> None:
        self._request("PUT", bucket, key, body=data, length=len(data)).read()

    def upload(self, bucket: str, key: str, source: BinaryIO, length: int) -> None:
        """Stream `length` bytes from `source` (an open binary file) into one object."""
        if length > MULTIPART_THRESHOLD:
            self._upload_multipart(bucket, key, source, length)
            return
        self._request("PUT", bucket, key, body=source, length=length).read()

    def _upload_multipart(self, bucket: str, key: str, source: BinaryIO, length: int) -> None:
        part_size = max(_PART_SIZE, -(-length // _MAX_PARTS))
        body = self._request("POST", bucket, key, query={"uploads": ""}, body=b"", length=0).read()
        upload_id = _xml_text(body, "UploadId")
        if not upload_id:
            raise S3Error(f"S3 POST s3://{bucket}/{key}?uploads returned no UploadId")
        try:
            etags = []
            start = source.tell()
            for number, offset in enumerate(range(0, length, part_size), start=1):
                size = min(part_size, length - offset)
                source.seek(start + offset)
                response = self._request(
                    "PUT", bucket, key, body=_Window(source, size), length=size,
                    query={"partNumber": str(number), "uploadId": upload_id},
                )
                response.read()
                etags.append(response.getheader("ETag", ""))
            manifest = "".join(
                f"<Part><PartNumber>{n}</PartNumber><ETag>{tag}</ETag></Part>"
                for n, tag in enumerate(etags, start=1)
            )
            document = f"<CompleteMultipartUpload>{manifest}</CompleteMultipartUpload>".encode()
            result = self._request("POST", bucket, key, query={"uploadId": upload_id}, body=document,
                                   length=len(document)).read()
            # S3 may answer 200 and still report an error in the body of a completion.
            if b"<Error>" in result:
                code = _xml_text(result, "Code")
                raise S3Error(f"S3 completing the upload of s3://{bucket}/{key} failed: {code}", code=code)
        except BaseException:
            # Drop the parts already stored rather than leave them billed and invisible.
            try:
                self._request("DELETE", bucket, key, query={"uploadId": upload_id}).read()
            except Exception:
                pass
            raise

    def list_keys(self, bucket: str, prefix: str) -> Iterator[str]:
        token = None
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if token:
                query["continuation-token"] = token
            body = self._request("GET", bucket, "", query=query).read()
            from xml.etree import ElementTree

            root = ElementTree.fromstring(body)
            ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
            for element in root.iter(f"{ns}Contents"):
                yield element.findtext(f"{ns}Key")
            if root.findtext(f"{ns}IsTruncated") != "true":
                return
            token = root.findtext(f"{ns}NextContinuationToken")

    # -- signing and transport ----------------------------------------------------------------

    def _connection(self) -> HTTPConnection:
        if self._conn is None:
            self._conn = HTTPConnection(self._host, secure=self._secure, timeout=300,
                                        blocksize=_CHUNK)
        return self._conn

    def _request(self, method, bucket, key, body=None, length=0, query=None):
        path = "/" + urllib.parse.quote(f"{bucket}/{key}" if key else bucket, safe="/~")
        query_string = "&".join(
            f"{urllib.parse.quote(k, safe='~')}={urllib.parse.quote(v, safe='~')}"
            for k, v in sorted((query or {}).items())
        )
        headers = self._signed_headers(method, path, query_string, length if body is not None else None)
        target = path + (f"?{query_string}" if query_string else "")
        # A stream body can be sent again only if it can be rewound to where it started.
        start = body.tell() if hasattr(body, "tell") and hasattr(body, "seek") else None
        rewindable = body is None or isinstance(body, bytes) or start is not None
        # A storage outage (MinIO restarting) is waited out for up to OUTAGE_WAIT_S: a refused
        # connection sent nothing, so the request is sent again after a growing pause.
        deadline = time.monotonic() + OUTAGE_WAIT_S
        pause = 0.25
        attempt = 0
        while True:
            conn = self._connection()
            try:
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                break
            except ConnectionRefusedError:
                # nothing was sent: wait the outage out with a growing pause
                conn.close()
                self._conn = None
                if not rewindable or time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 4.0)
            except (ConnectionClosed, BrokenPipeError, ConnectionResetError) as exc:
                # a kept-alive connection the server closed is retried once, if that cannot
                # do the request twice
                conn.close()
                self._conn = None
                if attempt or not _may_send_again(method, exc, body, start):
                    raise
                attempt += 1
            if start is not None:
                body.seek(start)
            headers = self._signed_headers(method, path, query_string,
                                           length if body is not None else None)
        if response.status >= 300:
            detail = response.read()
            code = _xml_text(detail, "Code")
            raise S3Error(
                f"S3 {method} s3://{bucket}/{key} failed: HTTP {response.status} {code}".rstrip(),
                status=response.status,
                code=code,
            )
        return response

    def _signed_headers(self, method, path, query_string, length):
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        day = amz_date[:8]
        headers = {"host": self._host, "x-amz-content-sha256": _UNSIGNED, "x-amz-date": amz_date}
        if self.config.session_token:
            headers["x-amz-security-token"] = self.config.session_token
        if length is not None:
            headers["content-length"] = str(length)
        signed = sorted(headers)
        canonical = "\n".join(
            [
                method,
                path,
                query_string,
                "".join(f"{name}:{headers[name]}\n" for name in signed),
                ";".join(signed),
                _UNSIGNED,
            ]
        )
        scope = f"{day}/{self.config.region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", amz_date, scope, sha256(canonical.encode()).hexdigest()]
        )
        key = _hmac(("AWS4" + self.config.secret_key).encode(), day)
        for part in (self.config.region, "s3", "aws4_request"):
            key = _hmac(key, part)
        signature = _hmac(key, to_sign).hex()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.config.access_key}/{scope}, "
            f"SignedHeaders={';'.join(signed)}, Signature={signature}"
        )
        return headers

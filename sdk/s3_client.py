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
    session_token: str = ""  # temporary credentials (STS) sign with it as X-Amz-Security-Token

    @classmethod
    def from_env(cls, env=os.environ) -> "S3Config":
        """Read the S3 settings a Flyte cluster gives a task container: Flyte's endpoint and
        keys (FLYTE_AWS_*, as flytekit), else AWS's; the region and session token as AWS's SDKs
        read them (AWS_REGION, AWS_DEFAULT_REGION; AWS_SESSION_TOKEN)."""
        endpoint = env.get("FLYTE_AWS_ENDPOINT") or env.get("AWS_ENDPOINT_URL") or ""
        if not endpoint:
            raise S3Error("no S3 endpoint: set FLYTE_AWS_ENDPOINT (e.g. http://127.0.0.1:9000)")
        return cls(
            endpoint=endpoint,
            access_key=env.get("FLYTE_AWS_ACCESS_KEY_ID") or env.get("AWS_ACCESS_KEY_ID", ""),
            secret_key=env.get("FLYTE_AWS_SECRET_ACCESS_KEY") or env.get("AWS_SECRET_ACCESS_KEY", ""),
            region=region_from_env(env),
            session_token=env.get("AWS_SESSION_TOKEN", ""),
        )


def region_from_env(env=os.environ) -> str:
    """The bucket's region as AWS's SDKs find it; us-east-1 (MinIO's default) when unset."""
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"


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

    def connect(self) -> None:
        """Open the connection ahead of the first request."""
        self._connection().open()

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
        headers = {"host": self._host, "x-amz-content-sha256": _UNSIGNED}
        if length is not None:
            headers["content-length"] = str(length)
        return sign_v4(self.config, "s3", method, path, query_string, headers, _UNSIGNED)


def sign_v4(config: S3Config, service: str, method: str, path: str, query_string: str,
            headers: dict, payload_hash: str) -> dict:
    """`headers` (lower-case names, `host` among them) with x-amz-date, the session token when
    the credentials are temporary, and the AWS Signature Version 4 authorization added."""
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    day = amz_date[:8]
    headers = {**headers, "x-amz-date": amz_date}
    if config.session_token:
        headers["x-amz-security-token"] = config.session_token
    signed = sorted(headers)
    canonical = "\n".join([
        method, path, query_string,
        "".join(f"{name}:{headers[name]}\n" for name in signed),
        ";".join(signed), payload_hash,
    ])
    scope = f"{day}/{config.region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, sha256(canonical.encode()).hexdigest()])
    key = _hmac(("AWS4" + config.secret_key).encode(), day)
    for part in (config.region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = _hmac(key, to_sign).hex()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={config.access_key}/{scope}, "
        f"SignedHeaders={';'.join(signed)}, Signature={signature}"
    )
    return headers


# ---- temporary credentials ----------------------------------------------------------------


def assume_role(config: S3Config, duration_seconds: int = 900, policy: str = "") -> S3Config:
    """Temporary credentials from the endpoint's STS AssumeRole (MinIO and AWS answer it), as
    a copy of `config` carrying them: access key, secret key and session token. `policy`, a
    JSON IAM policy, narrows what they may do below what `config`'s user may."""
    from http.client import HTTPConnection as _Http, HTTPSConnection as _Https

    form = {"Action": "AssumeRole", "Version": "2011-06-15",
            "DurationSeconds": str(duration_seconds)}
    if policy:
        form["Policy"] = policy
    body = urllib.parse.urlencode(sorted(form.items())).encode()
    parsed = urllib.parse.urlparse(config.endpoint)
    headers = sign_v4(config, "sts", "POST", "/", "", {
        "host": parsed.netloc, "content-type": "application/x-www-form-urlencoded",
    }, sha256(body).hexdigest())
    conn = (_Https if parsed.scheme == "https" else _Http)(parsed.netloc, timeout=60)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read()
    finally:
        conn.close()
    if response.status >= 300:
        code = _xml_text(answer, "Code")
        raise S3Error(f"STS AssumeRole at {config.endpoint} failed: HTTP {response.status} "
                      f"{code} {_xml_text(answer, 'Message')}".rstrip(), response.status, code)
    return S3Config(config.endpoint, _xml_text(answer, "AccessKeyId"),
                    _xml_text(answer, "SecretAccessKey"), config.region,
                    _xml_text(answer, "SessionToken"))


def credentials_env(config: S3Config) -> dict[str, str]:
    """The environment a task container reads `config` from (S3Config.from_env's inverse)."""
    env = {"FLYTE_AWS_ENDPOINT": config.endpoint, "FLYTE_AWS_ACCESS_KEY_ID": config.access_key,
           "FLYTE_AWS_SECRET_ACCESS_KEY": config.secret_key, "AWS_REGION": config.region}
    if config.session_token:
        env["AWS_SESSION_TOKEN"] = config.session_token
    return env

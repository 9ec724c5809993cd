"""A small S3 client on the standard library, for the in-container entrypoint.

Every task container reads its inputs and writes its outputs through S3, once per container, so
start-up time matters more than features: importing the `minio` package costs more than a bare
container start. This client signs requests with AWS Signature Version 4 and supports only what
the entrypoint needs: get, put and list of objects, streaming to and from files. Files above
`MULTIPART_THRESHOLD` go up as an S3 multipart upload, and files come down as ranged GETs,
`TRANSFER_STREAMS` parts at once, each on its own connection: one stream leaves a core idle while
the server hashes (the ETag's MD5) what the client sends. Parts are sent from the file with
sendfile(2) and ranges written to it at their offsets, through one 1 MiB buffer per stream, so
memory stays flat whatever the file's size.
"""

from __future__ import annotations

import os
import stat
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
_RANGE_SIZE = 32 * 1024 * 1024  # a download's ranges (the first one tells the object's size)
# Parts and ranges of one object in flight at once.
TRANSFER_STREAMS = max(1, int(os.environ.get("SKIFF_S3_STREAMS", "4")))
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
    """`size` bytes of an open binary file from `start`, with a position of their own: several
    windows on one file can be sent at once. A file with a descriptor is read at offsets
    (pread) and offers its range to sendfile(2); another stream (BytesIO) is read under `lock`."""

    def __init__(self, source: BinaryIO, start: int, size: int, lock=None):
        self._source = source
        self._start = start
        self._size = size
        self._position = 0
        self._lock = lock
        self._fd = _descriptor(source)

    def read(self, n: int = -1) -> bytes:
        left = self._size - self._position
        if left <= 0:
            return b""
        n = left if n is None or n < 0 else min(n, left)
        if self._fd is not None:
            data = os.pread(self._fd, n, self._start + self._position)
        elif self._lock is None:
            self._source.seek(self._start + self._position)
            data = self._source.read(n)
        else:
            with self._lock:
                self._source.seek(self._start + self._position)
                data = self._source.read(n)
        if not data:
            raise S3Error(f"the file ended {left} bytes before the length being uploaded")
        self._position += len(data)
        return data

    def tell(self) -> int:
        return self._position

    def seek(self, position: int) -> None:
        self._position = position

    def file_range(self) -> tuple[int, int, int] | None:
        """(descriptor, offset, count) of what is left, for sendfile; None for other streams."""
        if self._fd is None:
            return None
        return self._fd, self._start + self._position, self._size - self._position


def _descriptor(stream) -> int | None:
    """The descriptor of the regular file under a file object, which can be read and written
    at offsets; None for other streams (BytesIO, pipes)."""
    try:
        fd = stream.fileno()
        return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return None


def _write_at(fd: int, data, offset: int) -> None:
    """All of `data` into the file `fd` at `offset` (pwrite may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


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
        self._read_buffer: bytearray | None = None

    # -- public API -----------------------------------------------------------------------------

    def get_bytes(self, bucket: str, key: str) -> bytes:
        response = self._request("GET", bucket, key)
        return response.read()

    def download(self, bucket: str, key: str, sink: BinaryIO) -> None:
        """Write the object into `sink` from its current position. Into a file: in ranges of
        `_RANGE_SIZE`, `TRANSFER_STREAMS` at once, each written at its offset; the ranges after
        the first must come from the same version of the object (If-Match its ETag)."""
        fd = _descriptor(sink)
        if fd is None or "a" in getattr(sink, "mode", ""):  # O_APPEND would ignore the offsets
            response = self._request("GET", bucket, key)
            while chunk := response.read(_CHUNK):
                sink.write(chunk)
            return
        sink.flush()
        base = sink.tell()
        try:
            first = self._request("GET", bucket, key, headers={"range": f"bytes=0-{_RANGE_SIZE - 1}"})
        except S3Error as exc:
            if exc.status != 416:  # 416: an empty object has no byte 0
                raise
            first = self._request("GET", bucket, key)
        end = _copy_body(first, fd, base, self._buffer()) - base
        total = _object_size(first.getheader("content-range", "")) if first.status == 206 else end
        etag = first.getheader("etag", "")

        def fetch(client: "S3Client", offset: int) -> None:
            last = min(offset + _RANGE_SIZE, total) - 1
            headers = {"range": f"bytes={offset}-{last}"}
            if etag:
                headers["if-match"] = etag
            try:
                response = client._request("GET", bucket, key, headers=headers)
            except S3Error as exc:
                if exc.status == 412:
                    raise S3Error(f"S3 GET s3://{bucket}/{key} failed: the object changed while it "
                                  "was downloaded; download it again", exc.status, exc.code) from None
                raise
            _copy_body(response, fd, base + offset, client._buffer())

        self._in_parallel(range(end, total, _RANGE_SIZE), fetch)
        sink.seek(base + total)
        sink.truncate()

    def put_bytes(self, bucket: str, key: str, data: bytes) -> None:
        self._request("PUT", bucket, key, body=data, length=len(data)).read()

    def upload(self, bucket: str, key: str, source: BinaryIO, length: int) -> None:
        """Stream `length` bytes from `source` (an open binary file), from its current
        position, into one object; `source` is left at the end of them."""
        if hasattr(source, "flush"):
            source.flush()  # what a writer still buffers would not be read at offsets
        start = source.tell()
        if length > MULTIPART_THRESHOLD:
            self._upload_multipart(bucket, key, source, start, length)
        else:
            self._request("PUT", bucket, key, body=_Window(source, start, length), length=length).read()
        source.seek(start + length)

    def _upload_multipart(self, bucket: str, key: str, source: BinaryIO, start: int, length: int) -> None:
        part_size = max(_PART_SIZE, -(-length // _MAX_PARTS))
        body = self._request("POST", bucket, key, query={"uploads": ""}, body=b"", length=0).read()
        upload_id = _xml_text(body, "UploadId")
        if not upload_id:
            raise S3Error(f"S3 POST s3://{bucket}/{key}?uploads returned no UploadId")
        import threading  # only large files pay for it

        lock = threading.Lock()  # windows on a stream without a descriptor share its position
        etags: dict[int, str] = {}

        def send(client: "S3Client", part: tuple[int, int]) -> None:
            number, offset = part
            size = min(part_size, length - offset)
            response = client._request(
                "PUT", bucket, key, body=_Window(source, start + offset, size, lock), length=size,
                query={"partNumber": str(number), "uploadId": upload_id},
            )
            response.read()
            etags[number] = response.getheader("ETag", "")

        try:
            self._in_parallel(list(enumerate(range(0, length, part_size), start=1)), send)
            manifest = "".join(
                f"<Part><PartNumber>{n}</PartNumber><ETag>{etags[n]}</ETag></Part>"
                for n in sorted(etags)
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

    def _in_parallel(self, items, work) -> None:
        """`work(client, item)` for every item, up to TRANSFER_STREAMS at once, each stream a
        client with its own connection (this one among them). The first failure stops the
        streams from taking more items, and is raised once they have all stopped."""
        items = list(items)
        streams = min(TRANSFER_STREAMS, len(items))
        if streams <= 1:
            for item in items:
                work(self, item)
            return
        import threading

        pending = iter(items)
        taking = threading.Lock()
        failures: list[BaseException] = []

        def run(client: "S3Client") -> None:
            try:
                while not failures:
                    with taking:
                        item = next(pending, None)
                    if item is None:
                        return
                    work(client, item)
            except BaseException as exc:  # noqa: B902 - handed to the caller's thread
                failures.append(exc)
            finally:
                if client is not self:
                    client.close()

        helpers = [threading.Thread(target=run, args=(S3Client(self.config),), daemon=True)
                   for _ in range(streams - 1)]
        for thread in helpers:
            thread.start()
        run(self)
        for thread in helpers:
            thread.join()
        if failures:
            raise failures[0]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _buffer(self) -> bytearray:
        """This client's 1 MiB buffer for bodies read into memory on their way to a file."""
        if self._read_buffer is None:
            self._read_buffer = bytearray(_CHUNK)
        return self._read_buffer

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

    def _request(self, method, bucket, key, body=None, length=0, query=None, headers=None):
        path = "/" + urllib.parse.quote(f"{bucket}/{key}" if key else bucket, safe="/~")
        query_string = "&".join(
            f"{urllib.parse.quote(k, safe='~')}={urllib.parse.quote(v, safe='~')}"
            for k, v in sorted((query or {}).items())
        )
        extra = headers or {}
        headers = self._signed_headers(method, path, query_string, length if body is not None else None,
                                       extra)
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
                                           length if body is not None else None, extra)
        if response.status >= 300:
            detail = response.read()
            code = _xml_text(detail, "Code")
            raise S3Error(
                f"S3 {method} s3://{bucket}/{key} failed: HTTP {response.status} {code}".rstrip(),
                status=response.status,
                code=code,
            )
        return response

    def _signed_headers(self, method, path, query_string, length, extra=None):
        headers = {**(extra or {}), "host": self._host, "x-amz-content-sha256": _UNSIGNED}
        if length is not None:
            headers["content-length"] = str(length)
        return sign_v4(self.config, "s3", method, path, query_string, headers, _UNSIGNED)


def _copy_body(response, fd: int, offset: int, buffer: bytearray) -> int:
    """Write the rest of `response`'s body into the file `fd` from `offset`, through `buffer`;
    returns the offset after it."""
    view = memoryview(buffer)
    while n := response.readinto(buffer):
        _write_at(fd, view[:n], offset)
        offset += n
    return offset


def _object_size(content_range: str) -> int:
    """The whole object's size from a Content-Range answer: `bytes 0-99/12345` -> 12345."""
    try:
        return int(content_range.rsplit("/", 1)[1])
    except (IndexError, ValueError):
        raise S3Error(f"a ranged GET answered an unreadable Content-Range {content_range!r}") from None


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

"""Read and write blobs by URI: plain paths, `file://` URIs and `s3://bucket/key`.

The task entrypoint and the type engine's blob transfer go through here, so they never hold a
storage client themselves. S3 settings come from Flyte's environment variables
(`FLYTE_AWS_ENDPOINT`, `FLYTE_AWS_ACCESS_KEY_ID`, `FLYTE_AWS_SECRET_ACCESS_KEY`) and AWS's
(`AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_SESSION_TOKEN`; see sdk.s3_client.S3Config). The `minio`
client is imported only when an s3:// URI is used, because container start-up time matters.
File transfers stream: nothing reads a whole file into memory.
"""

from __future__ import annotations

import io
import os
import shutil
from urllib.parse import unquote, urlparse

from sdk.errors import SkiffError


class StorageError(SkiffError):
    """A URI that cannot be read or written; the message names the URI."""

    exit_code = 1


def is_remote(uri: str) -> bool:
    """True for URIs that need a storage client (anything with a scheme other than file)."""
    scheme = urlparse(str(uri)).scheme
    return len(scheme) > 1 and scheme != "file"


def join(prefix: str, *parts: str) -> str:
    """Join URI or path segments with single slashes (os.path.join would drop the scheme)."""
    result = str(prefix).rstrip("/")
    for part in parts:
        result = f"{result}/{str(part).strip('/')}"
    return result


# ---- local paths ---------------------------------------------------------------------------


def _local_path(uri: str) -> str:
    parsed = urlparse(str(uri))
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise StorageError(f"cannot use {uri}: file:// URIs must name a local path (file:///dir/name)")
        return unquote(parsed.path)
    return str(uri)


def _ensure_parent(path: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)


# ---- s3 ------------------------------------------------------------------------------------

_backend = None
_backend_settings: tuple | None = None


def _split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise StorageError(f"cannot use {uri}: only file://, plain paths and s3://bucket/key are supported")
    return parsed.netloc, parsed.path.lstrip("/")


class _MinioBackend:
    """The operations sdk.io needs, on the `minio` client."""

    def __init__(self, config):
        from minio import Minio  # lazy: it costs ~0.15 s to import

        endpoint = config.endpoint
        parsed = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
        self._client = Minio(
            parsed.netloc,
            access_key=config.access_key or None,
            secret_key=config.secret_key or None,
            session_token=config.session_token or None,
            region=config.region,
            secure=parsed.scheme == "https",
        )

    def get_bytes(self, bucket: str, key: str) -> bytes:
        response = self._client.get_object(bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def put_bytes(self, bucket: str, key: str, data: bytes) -> None:
        self._client.put_object(bucket, key, io.BytesIO(data), length=len(data))

    def download(self, bucket: str, key: str, path: str) -> None:
        self._client.fget_object(bucket, key, path)

    def upload(self, path: str, bucket: str, key: str) -> None:
        self._client.fput_object(bucket, key, path)

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        return [
            obj.object_name
            for obj in self._client.list_objects(bucket, prefix=prefix, recursive=True)
            if not obj.is_dir
        ]


class _StdlibBackend:
    """The same operations on sdk.s3_client, a standard-library S3 client that starts faster."""

    def __init__(self, config):
        from sdk.s3_client import S3Client

        self._client = S3Client(config)

    def connect(self) -> None:
        self._client.connect()

    def get_bytes(self, bucket: str, key: str) -> bytes:
        return self._client.get_bytes(bucket, key)

    def put_bytes(self, bucket: str, key: str, data: bytes) -> None:
        self._client.put_bytes(bucket, key, data)

    def download(self, bucket: str, key: str, path: str) -> None:
        tmp = f"{path}.part-{os.getpid()}"
        try:
            with open(tmp, "wb") as sink:
                self._client.download(bucket, key, sink)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def upload(self, path: str, bucket: str, key: str) -> None:
        with open(path, "rb") as source:
            self._client.upload(bucket, key, source, os.fstat(source.fileno()).st_size)

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        return list(self._client.list_keys(bucket, prefix))


def _pick_backend_class():
    """The stdlib client when this install has it (fast start-up in containers), else minio."""
    if os.environ.get("SKIFF_S3_CLIENT") == "minio":
        return _MinioBackend
    try:
        import sdk.s3_client  # noqa: F401
    except ImportError:
        return _MinioBackend
    return _StdlibBackend


def _s3(uri: str):
    """One backend per process and endpoint settings; created on first s3:// use."""
    global _backend, _backend_settings
    from sdk.s3_client import S3Config, S3Error

    try:
        # Endpoint, keys, region and session token, as a Flyte cluster gives them.
        config = S3Config.from_env(os.environ)
    except S3Error:
        raise StorageError(
            f"cannot reach {uri}: FLYTE_AWS_ENDPOINT is not set; set it to the S3 endpoint "
            "(for a Skiff sandbox, see `skiff sandbox status`)"
        ) from None
    settings = (config, os.environ.get("SKIFF_S3_CLIENT", ""))
    if _backend is None or _backend_settings != settings:
        _backend = _pick_backend_class()(config)
        _backend_settings = settings
    return _backend


def _s3_error(action: str, uri: str, exc: Exception) -> StorageError:
    if isinstance(exc, StorageError):
        return exc
    code = getattr(exc, "code", None)
    detail = f"{code}: {exc}" if code else f"{type(exc).__name__}: {exc}"
    return StorageError(f"cannot {action} {uri}: {detail}")


def _is_missing(exc: Exception) -> bool:
    return getattr(exc, "code", None) in ("NoSuchKey", "NoSuchObject", "NotFound") or getattr(
        exc, "status", None
    ) == 404


def _s3_keys(uri: str) -> list[tuple[str, str]]:
    """(object key, path relative to the prefix) for every object under an s3 'directory'."""
    bucket, key = _split_s3(uri)
    prefix = key.rstrip("/") + "/" if key else ""
    try:
        keys = _s3(uri).list_keys(bucket, prefix)
    except Exception as exc:  # S3 errors and connection errors of a dead endpoint alike
        raise _s3_error("list", uri, exc) from exc
    return [(name, name[len(prefix):]) for name in keys]


# ---- public API ----------------------------------------------------------------------------


def prepare_client(uri: str) -> None:
    """Import and make the storage client `uri` will need, connected, ahead of the first use; a
    failure here is left for that use to report."""
    if is_remote(uri):
        try:
            backend = _s3(uri)
            if hasattr(backend, "connect"):
                backend.connect()
        except (StorageError, OSError):
            pass


def read_bytes(uri: str) -> bytes:
    """The whole content of a small object (protobuf documents, not user data)."""
    if is_remote(uri):
        bucket, key = _split_s3(uri)
        try:
            return _s3(uri).get_bytes(bucket, key)
        except Exception as exc:
            if _is_missing(exc):
                raise StorageError(f"cannot read {uri}: no such object") from exc
            raise _s3_error("read", uri, exc) from exc
    path = _local_path(uri)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise StorageError(f"cannot read {uri}: {exc.strerror or exc}") from exc


def write_bytes(uri: str, data: bytes) -> None:
    """Write a small object, creating parent directories for local paths."""
    if is_remote(uri):
        bucket, key = _split_s3(uri)
        try:
            _s3(uri).put_bytes(bucket, key, bytes(data))
        except Exception as exc:
            raise _s3_error("write", uri, exc) from exc
        return
    path = _local_path(uri)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        _ensure_parent(path)
        # write then rename, so a reader never sees half a document
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageError(f"cannot write {uri}: {exc.strerror or exc}") from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def exists(uri: str) -> bool:
    """True when a file (or an object) exists at uri."""
    if is_remote(uri):
        bucket, key = _split_s3(uri)
        try:
            return key in _s3(uri).list_keys(bucket, key)
        except Exception as exc:
            raise _s3_error("check", uri, exc) from exc
    return os.path.exists(_local_path(uri))


def download_file(uri: str, path: str) -> None:
    """Copy one file from uri to a local path, streaming."""
    if is_remote(uri):
        bucket, key = _split_s3(uri)
        try:
            _ensure_parent(path)
            _s3(uri).download(bucket, key, path)
        except Exception as exc:
            if _is_missing(exc):
                raise StorageError(f"cannot download {uri}: no such object") from exc
            raise _s3_error("download", uri, exc) from exc
        return
    source = _local_path(uri)
    if not os.path.isfile(source):
        raise StorageError(f"cannot download {uri}: no such file")
    try:
        _ensure_parent(path)
        if os.path.abspath(source) != os.path.abspath(path):
            shutil.copyfile(source, path)
    except OSError as exc:
        raise StorageError(f"cannot download {uri} to {path}: {exc.strerror or exc}") from exc


def upload_file(path: str, uri: str) -> None:
    """Copy one local file to uri, streaming."""
    if not os.path.isfile(path):
        raise StorageError(f"cannot upload {path} to {uri}: no such file")
    if is_remote(uri):
        bucket, key = _split_s3(uri)
        try:
            _s3(uri).upload(path, bucket, key)
        except Exception as exc:
            raise _s3_error("upload to", uri, exc) from exc
        return
    target = _local_path(uri)
    try:
        _ensure_parent(target)
        if os.path.abspath(target) != os.path.abspath(path):
            shutil.copyfile(path, target)
    except OSError as exc:
        raise StorageError(f"cannot upload {path} to {uri}: {exc.strerror or exc}") from exc


def download_directory(uri: str, path: str) -> None:
    """Copy every file under uri (a prefix) into the local directory path."""
    if is_remote(uri):
        bucket, _ = _split_s3(uri)
        os.makedirs(path, exist_ok=True)
        for key, relative in _s3_keys(uri):
            target = os.path.join(path, *relative.split("/"))
            try:
                _ensure_parent(target)
                _s3(uri).download(bucket, key, target)
            except Exception as exc:
                raise _s3_error("download", f"s3://{bucket}/{key}", exc) from exc
        return
    source = _local_path(uri)
    if not os.path.isdir(source):
        raise StorageError(f"cannot download {uri}: no such directory")
    try:
        if os.path.abspath(source) != os.path.abspath(path):
            shutil.copytree(source, path, dirs_exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot download {uri} to {path}: {exc}") from exc


def upload_directory(path: str, uri: str) -> None:
    """Copy every file under the local directory path to uri (a prefix)."""
    if not os.path.isdir(path):
        raise StorageError(f"cannot upload {path} to {uri}: no such directory")
    if is_remote(uri):
        for root, _dirs, files in os.walk(path):
            for name in sorted(files):
                local = os.path.join(root, name)
                relative = os.path.relpath(local, path).replace(os.sep, "/")
                upload_file(local, join(uri, relative))
        return
    target = _local_path(uri)
    try:
        if os.path.abspath(target) != os.path.abspath(path):
            shutil.copytree(path, target, dirs_exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot upload {path} to {uri}: {exc}") from exc


class PrefixTransfer:
    """The blob `transfer` the type engine takes: uploads under one prefix, downloads anywhere.

    Each upload gets its own random sub-prefix so two outputs named alike never collide.
    """

    def __init__(self, prefix: str):
        self.prefix = prefix

    def upload(self, local_path: str, is_directory: bool) -> str:
        import uuid

        name = os.path.basename(os.path.normpath(str(local_path))) or "data"
        uri = join(self.prefix, uuid.uuid4().hex[:16], name)
        if is_directory:
            upload_directory(str(local_path), uri)
        else:
            upload_file(str(local_path), uri)
        return uri

    def download(self, uri: str, local_path: str, is_directory: bool) -> None:
        if is_directory:
            download_directory(uri, str(local_path))
        else:
            download_file(uri, str(local_path))

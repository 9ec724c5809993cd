"""File and Directory: what a task author uses for blob inputs and outputs.

They behave like flytekit's FlyteFile / FlyteDirectory to a user: `File("local/path")`,
`os.fspath(f)`, `f.path`, `open(f)`, `f.open()`. A value read from a remote literal (s3://...)
downloads lazily, on first access to its local path, through the transfer object it was given;
until then it only knows its URI, so passing it on to another task never copies the bytes.
"""

from __future__ import annotations

import os
import tempfile
import typing
from urllib.parse import unquote, urlparse


class Transfer(typing.Protocol):
    """Moves blobs between the local disk and storage; `sdk.io` provides the real one."""

    def upload(self, local_path: str, is_directory: bool) -> str: ...

    def download(self, uri: str, local_path: str, is_directory: bool) -> None: ...


def is_remote_uri(path: str) -> bool:
    """True when `path` names storage (s3://, gs://, file://) rather than a local path."""
    scheme = urlparse(str(path)).scheme
    return len(scheme) > 1


def local_path_of(uri: str) -> str:
    """The local path a file:// URI or plain path names."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


class _Blob(os.PathLike):
    _is_directory = False

    def __init__(self, path: typing.Union[str, os.PathLike]):
        path = os.fspath(path)
        self._local_path: typing.Optional[str] = None
        self._remote_uri: typing.Optional[str] = None
        self._transfer: typing.Optional[Transfer] = None
        if is_remote_uri(path):
            self._remote_uri = path
        else:
            self._local_path = path

    @classmethod
    def from_remote(cls, uri: str, transfer: typing.Optional[Transfer]):
        """A value that downloads `uri` through `transfer` when its local path is first needed."""
        blob = cls(uri)
        blob._transfer = transfer
        return blob

    @property
    def remote_source(self) -> typing.Optional[str]:
        """The storage URI this value came from (or was uploaded to), if any."""
        return self._remote_uri

    @property
    def path(self) -> str:
        """The local path, downloading first if the value only lives in storage."""
        return self.download()

    def download(self) -> str:
        if self._local_path is not None:
            return self._local_path
        uri = typing.cast(str, self._remote_uri)
        if urlparse(uri).scheme == "file":
            self._local_path = local_path_of(uri)
            return self._local_path
        if self._transfer is None:
            kind = "Directory" if self._is_directory else "File"
            raise FileNotFoundError(
                f"{kind} {uri} is in remote storage and no transfer was given to download it; "
                "read it inside a task, where Skiff sets up storage access"
            )
        name = os.path.basename(uri.rstrip("/")) or ("dir" if self._is_directory else "file")
        target = os.path.join(tempfile.mkdtemp(prefix="skiff-blob-"), name)
        self._transfer.download(uri, target, self._is_directory)
        self._local_path = target
        return target

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        # No download here: printing a value must not fetch it.
        return self._local_path if self._local_path is not None else typing.cast(str, self._remote_uri)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def _identity(self):
        return self._remote_uri if self._remote_uri is not None else self._local_path

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Blob) or other._is_directory != self._is_directory:
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash((self._is_directory, self._identity()))


class File(_Blob):
    """A single file (a Flyte blob with SINGLE dimensionality)."""

    def open(self, mode: str = "r", **kwargs):
        return open(self.path, mode, **kwargs)


class Directory(_Blob):
    """A directory tree (a Flyte blob with MULTIPART dimensionality)."""

    _is_directory = True

    def listdir(self) -> list[str]:
        return sorted(os.listdir(self.path))

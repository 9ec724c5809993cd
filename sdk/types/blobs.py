"""File and Directory: what a task author uses for blob inputs and outputs.

They behave like flytekit's FlyteFile / FlyteDirectory to a user: `File("local/path")`,
`os.fspath(f)`, `f.path`, `open(f)`, `f.open()`. A value read from a remote literal (s3://...)
downloads lazily, on first access to its local path, through the transfer object it was given;
until then it only knows its URI, so passing it on to another task never copies the bytes.
"""

from __future__ import annotations

import os
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
        import tempfile  # only when a blob is fetched: task containers start faster

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

    # ---- pydantic: a File/Directory field of a model, carried as {"path": uri} as in flytekit ----

    @classmethod
    def __get_pydantic_core_schema__(cls, _source, _handler):
        from pydantic_core import core_schema  # only reached when pydantic builds a model

        def validate(value, info):
            from sdk.types import blob_values

            if isinstance(value, cls):
                return value
            if isinstance(value, dict) and isinstance(value.get("path"), str):
                value = value["path"]
            if not isinstance(value, (str, os.PathLike)):
                raise ValueError(f"expected a {cls.__name__}, a path or {{'path': uri}}")
            return blob_values.value_for(os.fspath(value), cls, _context_transfer(info))

        def serialize(value, info):
            from sdk.types import blob_values

            return {"path": blob_values.uri_for(value, cls, _context_transfer(info))}

        return core_schema.with_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(serialize, info_arg=True),
            ref=_FLYTEKIT_NAMES[cls._is_directory],
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, _core_schema, _handler):
        from sdk.types.json_schema import blob_schema

        schema = blob_schema(cls._is_directory)
        # pydantic titles each property after its name, as it does for flytekit's dataclasses.
        for name, prop in schema["properties"].items():
            prop["title"] = name.capitalize()
            for option in prop.get("anyOf", []):
                option.pop("propertyNames", None)  # mashumaro writes it, pydantic does not
        schema.pop("additionalProperties", None)
        return schema


# flytekit's class names, which name these types in JSON schemas and pydantic's definitions.
_FLYTEKIT_NAMES = {False: "FlyteFile", True: "FlyteDirectory"}
# The key under which sdk.types.pydantic_models hands the blob transfer to pydantic.
PYDANTIC_TRANSFER_KEY = "skiff_transfer"


def _context_transfer(info) -> typing.Optional[Transfer]:
    context = getattr(info, "context", None)
    return context.get(PYDANTIC_TRANSFER_KEY) if isinstance(context, dict) else None


class File(_Blob):
    """A single file (a Flyte blob with SINGLE dimensionality)."""

    def open(self, mode: str = "r", **kwargs):
        return open(self.path, mode, **kwargs)


class Directory(_Blob):
    """A directory tree (a Flyte blob with MULTIPART dimensionality)."""

    _is_directory = True

    def listdir(self) -> list[str]:
        return sorted(os.listdir(self.path))

"""File/Directory values <-> blob URIs, uploading or downloading through an optional transfer."""

from __future__ import annotations

import os
import typing

from sdk.types.blobs import Directory, File, Transfer, _Blob, is_remote_uri, local_path_of
from sdk.types.problems import ValueMismatch, shorten


def uri_for(value: typing.Any, blob_class: type, transfer: typing.Optional[Transfer]) -> str:
    """The URI to put in a literal for a File/Directory value (or a plain path)."""
    is_directory = blob_class is Directory or issubclass(blob_class, Directory)
    if isinstance(value, _Blob):
        if value._is_directory != is_directory:
            raise ValueMismatch(f"expected a {blob_class.__name__}, got a {type(value).__name__}")
        if value.remote_source is not None:
            return value.remote_source  # already in storage: never copy it again
        path = str(value)
    elif isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if isinstance(path, bytes):
            raise ValueMismatch("expected a str path, got bytes")
    else:
        raise ValueMismatch(f"expected a {blob_class.__name__} or a path")
    if transfer is None or is_remote_uri(path):
        return path
    exists = os.path.isdir(path) if is_directory else os.path.isfile(path)
    if not exists:
        kind = "directory" if is_directory else "file"
        raise ValueMismatch(f"{shorten(path)} is not an existing {kind}; write it before returning it")
    return transfer.upload(path, is_directory)


def value_for(uri: str, blob_class: type, transfer: typing.Optional[Transfer]):
    """A File/Directory for a literal's URI; remote URIs download lazily through `transfer`."""
    if not is_remote_uri(uri):
        return blob_class(uri)
    if transfer is None:
        return blob_class(local_path_of(uri)) if uri.startswith("file://") else blob_class(uri)
    return blob_class.from_remote(uri, transfer)


__all__ = ["uri_for", "value_for", "File", "Directory"]

"""Files a user gives the launch form for File and Directory inputs: stored in the sandbox's
bucket under the raw-data prefix, beside what `skiff run` uploads for local paths
(`raw/<project>/<domain>/cli-inputs/...`), and passed to the execution as an s3:// URI.

One upload is one file. The files of a Directory share an upload id, so they land under one
prefix: s3://<bucket>/raw/<project>/<domain>/console-uploads/<id>/<relative path>, and the
Directory's URI is that prefix plus the directory's own name."""
from __future__ import annotations

import re
import secrets

from sdk.errors import SkiffError

MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # per file: the console holds one upload in memory
MAX_PATH_CHARS = 512
_ID = re.compile(r"[0-9a-f]{32}")
_NAME_PART = re.compile(r"[^\x00-\x1f\x7f/\\]+")


class UploadError(SkiffError):
    """An upload the console refuses; the message says what to do instead."""


def too_large_message(name: str, size: int) -> str:
    return (f"file {name!r} is {size / 2**20:.1f} MiB; the console takes uploads up to "
            f"{MAX_UPLOAD_BYTES // 2**20} MiB per file. Give an s3:// URI instead, or pass the "
            "local path to `skiff run --sandbox`, which uploads any size")


def check_path(path: str) -> str:
    """A relative path of plain parts ("a.csv", "dir/sub/a.csv"): no "..", no absolute path,
    no control characters. Returned as given; UploadError otherwise."""
    parts = path.split("/")
    if (not path or len(path) > MAX_PATH_CHARS or any(p in ("", ".", "..") for p in parts)
            or not all(_NAME_PART.fullmatch(p) for p in parts)):
        raise UploadError(f"upload name {path[:80]!r} is not a plain relative file name")
    return path


def new_upload_id() -> str:
    return secrets.token_hex(16)


def check_upload_id(upload_id: str) -> str:
    if not _ID.fullmatch(upload_id):
        raise UploadError(f"upload id {upload_id[:40]!r} was not given by this console")
    return upload_id


def check_scope(project: str, domain: str) -> tuple[str, str]:
    for what, value in (("project", project), ("domain", domain)):
        if not value or not _NAME_PART.fullmatch(value) or value in (".", ".."):
            raise UploadError(f"upload: {what} {value[:40]!r} is not a plain name")
    return project, domain


def upload_root(bucket: str, project: str, domain: str, upload_id: str) -> str:
    return f"s3://{bucket}/raw/{project}/{domain}/console-uploads/{upload_id}"

"""Where things live in the bucket (docs/contracts.md, "Object storage layout")."""
from __future__ import annotations


def attempt_prefix(bucket: str, project: str, domain: str, execution: str, node: str,
                   attempt: int) -> str:
    """The prefix holding inputs.pb and outputs.pb / error.pb of one node attempt."""
    return f"s3://{bucket}/metadata/{project}/{domain}/{execution}/{node}/{attempt}"


def raw_prefix(bucket: str, project: str, domain: str, execution: str, node: str,
               attempt: int) -> str:
    """Where a task writes raw data (files, directories) of one attempt."""
    return f"s3://{bucket}/raw/{project}/{domain}/{execution}/{node}/{attempt}"


def content_folder(md5_digest: bytes) -> str:
    """The folder an upload given by its content goes to (the data proxy's default
    filename_root): base32 of its MD5, lower case, unpadded."""
    import base64

    return base64.b32encode(md5_digest).decode().rstrip("=").lower()


def fast_key(project: str, domain: str, folder: str, filename: str) -> str:
    """Where an upload goes under the fast/ prefix, laid out as flyteadmin lays it out:
    fast/<project>/<domain>/<folder>/<filename>."""
    return f"fast/{project}/{domain}/{folder}/{filename}"


def fast_uri(bucket: str, project: str, domain: str, bundle_name: str, data: bytes) -> str:
    """Where a code bundle is stored, whichever way it is registered: `skiff run --sandbox`
    (the local registry) and `skiff register` / `skiff run --remote` through the admin's data
    proxy both land on this key, content-addressed twice (MD5 folder, sha256 in the name), so
    the same package registered both ways has the same specs."""
    try:
        from _md5 import md5  # Python's own: hashlib would load OpenSSL, 2-10 ms of a rerun
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import md5

    return f"s3://{bucket}/{fast_key(project, domain, content_folder(md5(data).digest()), bundle_name)}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key

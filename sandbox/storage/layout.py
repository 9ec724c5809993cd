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


def fast_uri(bucket: str, project: str, domain: str, bundle_name: str) -> str:
    return f"s3://{bucket}/fast/{project}/{domain}/{bundle_name}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key

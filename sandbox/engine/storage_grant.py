"""What one task attempt may do in the bucket, as an S3 session policy.

Read: everything its own execution stored (the metadata and raw prefixes of that execution:
inputs, upstream outputs and data, checkpoints), the objects its container arguments name
(the code bundle) and any other object its inputs refer to (a cached result of another
execution, a file uploaded by the CLI). Write: only its own output and raw-data prefixes.
Listing: only under what it may read or write. Nothing else: not another execution's data, not
the bucket's listing, not other buckets. sandbox/runtime/storage_credentials.py turns a grant
into MinIO STS credentials.

The elements of one map node ("<node>-<i>") share one grant (`map_elements_grant`), so that a
map over thousands of elements mints credentials once rather than once per element: each may
read and write under every element's prefixes of that map node, and read what the map node's
inputs name, nothing more of the execution.
"""
from __future__ import annotations

import dataclasses
import json
import re

from flyteidl.core import literals_pb2

_MAX_POLICY = 2048  # MinIO refuses longer session policies
UNTIMED_LIFETIME_S = 12 * 3600  # a task without a timeout: credentials for half a day
MIN_LIFETIME_S = 900  # STS's own minimum
LIFETIME_MARGIN_S = 300  # reading inputs, writing outputs after the timeout's kill


@dataclasses.dataclass(frozen=True)
class StorageGrant:
    bucket: str
    read: tuple[str, ...]  # keys; one ending in "/" is a prefix
    write: tuple[str, ...]  # prefixes, each ending in "/"
    # name prefixes, read and written: every key that starts with one ("<...>/<node>-" for
    # the elements of a map node, not a folder of its own)
    shared: tuple[str, ...] = ()

    def policy(self) -> str:
        """The session policy, compact JSON; prefixes collapse when it would be too long."""
        grant = self
        text = _policy_json(grant)
        if len(text) > _MAX_POLICY:
            grant = dataclasses.replace(self, read=_collapse(self.read, depth=4))
            text = _policy_json(grant)
        if len(text) > _MAX_POLICY:
            grant = dataclasses.replace(self, read=_collapse(self.read, depth=1))
            text = _policy_json(grant)
        return text


def _policy_json(grant: StorageGrant) -> str:
    arn = f"arn:aws:s3:::{grant.bucket}"
    def objects(keys):
        return [f"{arn}/{k}*" if k.endswith("/") else f"{arn}/{k}" for k in keys]
    shared = [f"{arn}/{p}*" for p in grant.shared]
    listable = sorted({k if k.endswith("/") else k + "*" for k in grant.read + grant.write}
                      | {p + "*" for p in grant.shared})
    statements = [
        {"Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": objects(grant.read + grant.write) + shared},
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:AbortMultipartUpload",
                                       "s3:ListMultipartUploadParts"],
         "Resource": objects(grant.write) + shared},
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [arn],
         "Condition": {"StringLike": {"s3:prefix": [
             k + "*" if k.endswith("/") else k for k in listable]}}},
        # flytekit's s3fs asks where the bucket is (cache_regions)
        {"Effect": "Allow", "Action": ["s3:GetBucketLocation"], "Resource": [arn]},
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements},
                      separators=(",", ":"))


def _collapse(keys: tuple[str, ...], depth: int) -> tuple[str, ...]:
    """Keys cut to their first `depth` path parts (raw/<project>/<domain>/<execution>/), for
    inputs naming more objects than a session policy can list one by one."""
    cut = {"/".join(k.split("/")[:depth]) + "/" if k.count("/") >= depth else k for k in keys}
    return tuple(sorted(cut))


def attempt_grant(bucket: str, execution_prefixes: tuple[str, ...], output_prefix: str,
                  raw_prefix: str, args: list[str],
                  inputs: literals_pb2.LiteralMap | None) -> StorageGrant:
    """The grant of one attempt. `execution_prefixes`: its execution's metadata and raw
    prefixes as s3:// URIs; `inputs`: None when not known yet (a container prepared ahead)."""
    own = tuple(_key(bucket, p).rstrip("/") + "/" for p in execution_prefixes)
    named = set()
    for text in args:
        named.update(_uris(bucket, text))
    if inputs is not None:
        for literal in inputs.literals.values():
            named.update(_literal_uris(bucket, literal))
    extra = {k for k in named if not any(k.startswith(p) for p in own)}
    read = own + tuple(sorted(extra | {k.rstrip("/") + "/" for k in extra}))
    write = tuple(_key(bucket, p).rstrip("/") + "/" for p in (output_prefix, raw_prefix))
    return StorageGrant(bucket, read, write)


def map_elements_grant(bucket: str, element_prefixes: tuple[str, ...], args: list[str],
                       named: frozenset[str]) -> StorageGrant:
    """The grant every element of one map node shares. `element_prefixes`: the s3:// name
    prefixes of all its elements' metadata and raw data ("<execution>/<node>-"); `args`: an
    element's container arguments (they differ only under those prefixes); `named`: the keys
    the map node's whole inputs name (`named_objects`)."""
    shared = tuple(_key(bucket, p) for p in element_prefixes)
    found = set(named)
    for text in args:
        found.update(_uris(bucket, text))
    extra = {k for k in found if not any(k.startswith(p) for p in shared)}
    read = tuple(sorted(extra | {k.rstrip("/") + "/" for k in extra}))
    return StorageGrant(bucket, read, (), shared)


def named_objects(bucket: str, inputs: literals_pb2.LiteralMap) -> frozenset[str]:
    """The keys of `bucket` an input document refers to."""
    found: set[str] = set()
    for literal in inputs.literals.values():
        found.update(_literal_uris(bucket, literal))
    return frozenset(found)


def lifetime_seconds(timeout: float | None) -> int:
    """How long an attempt's credentials live: soon after its timeout."""
    if not timeout:
        return UNTIMED_LIFETIME_S
    return max(MIN_LIFETIME_S, int(timeout) + LIFETIME_MARGIN_S)


def _key(bucket: str, uri: str) -> str:
    return uri[len(f"s3://{bucket}/"):] if uri.startswith(f"s3://{bucket}/") else uri


def _uris(bucket: str, text: str) -> set[str]:
    pattern = re.compile(r"s3://" + re.escape(bucket) + r"/([^\s\"'\x00-\x1f,;]+)")
    return {m.group(1) for m in pattern.finditer(text)}


def _literal_uris(bucket: str, literal: literals_pb2.Literal) -> set[str]:
    """Every s3:// object of `bucket` a literal refers to (blobs, datasets, offloaded
    literals, and URIs inside binary values such as pydantic models with files)."""
    found: set[str] = set()
    stack = [literal]
    while stack:
        lit = stack.pop()
        kind = lit.WhichOneof("value")
        if kind == "collection":
            stack.extend(lit.collection.literals)
        elif kind == "map":
            stack.extend(lit.map.literals.values())
        elif kind == "offloaded_metadata":
            found.update(_uris(bucket, lit.offloaded_metadata.uri))
        elif kind == "scalar":
            scalar = lit.scalar
            which = scalar.WhichOneof("value")
            if which == "blob":
                found.update(_uris(bucket, scalar.blob.uri))
            elif which == "structured_dataset":
                found.update(_uris(bucket, scalar.structured_dataset.uri))
            elif which == "union":
                stack.append(scalar.union.value)
            elif which == "binary":
                found.update(_uris(bucket, scalar.binary.value.decode("latin-1")))
            elif which == "generic":
                found.update(_uris(bucket, scalar.generic.SerializeToString().decode("latin-1")))
    return found

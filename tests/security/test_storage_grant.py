"""The session policy of one attempt: what it may read and write, in pure logic (the
container-side proof is test_storage_scope.py)."""
from __future__ import annotations

import json

from flyteidl.core import literals_pb2

from sandbox.engine.storage_grant import (
    attempt_grant, lifetime_seconds, map_elements_grant, named_objects,
)

EXECUTION = ("s3://skiff/metadata/p/d/ex1", "s3://skiff/raw/p/d/ex1")
OUT, RAW = "s3://skiff/metadata/p/d/ex1/n1/0", "s3://skiff/raw/p/d/ex1/n1/0"
ARGS = ["skiff-execute", "--code-bundle", "s3://skiff/fast/p/d/fastabc.tar.gz", "--inputs",
        "s3://skiff/metadata/p/d/ex1/n1/0/inputs.pb"]


def _blob_inputs(*uris):
    inputs = literals_pb2.LiteralMap()
    for i, uri in enumerate(uris):
        inputs.literals[f"f{i}"].scalar.blob.uri = uri
    return inputs


def test_an_attempt_reads_its_execution_and_bundle_and_writes_only_its_prefixes():
    grant = attempt_grant("skiff", EXECUTION, OUT, RAW, ARGS, None)
    assert grant.read == ("metadata/p/d/ex1/", "raw/p/d/ex1/", "fast/p/d/fastabc.tar.gz",
                          "fast/p/d/fastabc.tar.gz/")
    assert grant.write == ("metadata/p/d/ex1/n1/0/", "raw/p/d/ex1/n1/0/")
    policy = json.loads(grant.policy())
    put = next(s for s in policy["Statement"] if "s3:PutObject" in s["Action"])
    assert put["Resource"] == ["arn:aws:s3:::skiff/metadata/p/d/ex1/n1/0/*",
                               "arn:aws:s3:::skiff/raw/p/d/ex1/n1/0/*"]
    listing = next(s for s in policy["Statement"] if s["Action"] == ["s3:ListBucket"])
    assert "*" not in listing["Condition"]["StringLike"]["s3:prefix"]  # never the whole bucket


def test_inputs_from_another_execution_are_granted_one_by_one():
    cached = "s3://skiff/raw/p/d/ex0/n3/0/abcd/data.csv"
    own = "s3://skiff/raw/p/d/ex1/n0/0/x/file"
    grant = attempt_grant("skiff", EXECUTION, OUT, RAW, ARGS, _blob_inputs(cached, own))
    assert "raw/p/d/ex0/n3/0/abcd/data.csv" in grant.read
    assert not any(k.startswith("raw/p/d/ex0/") and k != "raw/p/d/ex0/n3/0/abcd/data.csv"
                   and k != "raw/p/d/ex0/n3/0/abcd/data.csv/" for k in grant.read)
    prepared = attempt_grant("skiff", EXECUTION, OUT, RAW, ARGS, None)
    # inputs within the execution need nothing more than what a container prepared ahead got
    assert attempt_grant("skiff", EXECUTION, OUT, RAW, ARGS, _blob_inputs(own)) == prepared


def test_too_many_inputs_collapse_to_their_executions_and_fit_a_session_policy():
    uris = [f"s3://skiff/raw/p/d/ex{i % 3}/n{i}/0/{'x' * 30}/file" for i in range(200)]
    grant = attempt_grant("skiff", EXECUTION, OUT, RAW, ARGS, _blob_inputs(*uris))
    text = grant.policy()
    assert len(text) <= 2048
    assert "arn:aws:s3:::skiff/raw/p/d/ex0/*" in text and "ex9" not in text


def test_credentials_expire_soon_after_the_timeout():
    assert lifetime_seconds(60) == 900  # STS's minimum
    assert lifetime_seconds(3600) == 3900
    assert lifetime_seconds(None) == 12 * 3600


def test_the_elements_of_a_map_node_share_one_grant_scoped_to_that_node():
    elements = ("s3://skiff/metadata/p/d/ex1/n1-", "s3://skiff/raw/p/d/ex1/n1-")
    cached = "s3://skiff/raw/p/d/ex0/n3/0/abcd/data.csv"
    named = named_objects("skiff", _blob_inputs(cached, "s3://skiff/raw/p/d/ex1/n1-0/0/f"))
    grants = {map_elements_grant("skiff", elements, [
        "skiff-execute", "--code-bundle", "s3://skiff/fast/p/d/fastabc.tar.gz", "--inputs",
        f"s3://skiff/metadata/p/d/ex1/n1-{i}/0/inputs.pb", "--output-prefix",
        f"s3://skiff/metadata/p/d/ex1/n1-{i}/0"], named) for i in range(3)}
    assert len(grants) == 1  # one set of credentials for every element
    grant = grants.pop()
    assert grant.write == () and grant.shared == ("metadata/p/d/ex1/n1-", "raw/p/d/ex1/n1-")
    # what the map node's inputs name from elsewhere, and the bundle; nothing else of ex1
    assert grant.read == ("fast/p/d/fastabc.tar.gz", "fast/p/d/fastabc.tar.gz/",
                          "raw/p/d/ex0/n3/0/abcd/data.csv", "raw/p/d/ex0/n3/0/abcd/data.csv/")
    policy = json.loads(grant.policy())
    put = next(s for s in policy["Statement"] if "s3:PutObject" in s["Action"])
    assert put["Resource"] == ["arn:aws:s3:::skiff/metadata/p/d/ex1/n1-*",
                               "arn:aws:s3:::skiff/raw/p/d/ex1/n1-*"]
    listing = next(s for s in policy["Statement"] if s["Action"] == ["s3:ListBucket"])
    assert "raw/p/d/ex1/n1-*" in listing["Condition"]["StringLike"]["s3:prefix"]
    assert not any(p in ("*", "raw/p/d/ex1/*") for p in listing["Condition"]["StringLike"]["s3:prefix"])

"""The reproduction diff: node by node, values compared, blobs compared by content."""
from flyteidl.core import literals_pb2, types_pb2

from sdk.remote.output_diff import diff_outputs
from sdk.types import TypeEngine


def _map(**values) -> literals_pb2.LiteralMap:
    out = literals_pb2.LiteralMap()
    for name, value in values.items():
        out.literals[name].CopyFrom(TypeEngine.to_literal(value, type(value)))
    return out


def _blob(uri: str) -> literals_pb2.LiteralMap:
    out = literals_pb2.LiteralMap()
    out.literals["o0"].scalar.blob.uri = uri
    out.literals["o0"].scalar.blob.metadata.type.dimensionality = types_pb2.BlobType.SINGLE
    return out


def test_identical_outputs_give_an_empty_diff():
    remote = {"n0": _map(o0=16), "outputs": _map(o0="ada:16")}
    local = {"n0": _map(o0=16), "outputs": _map(o0="ada:16")}
    assert diff_outputs(remote, local, None, None) == []


def test_differing_and_missing_outputs_are_listed_by_node_and_variable():
    remote = {"n0": _map(o0=16), "n1": _map(o0="a"), "outputs": _map(o0="ada:16")}
    local = {"n0": _map(o0=17), "outputs": _map(o0="ada:16")}
    assert diff_outputs(remote, local, None, None) == [
        "- n0.o0: 16", "+ n0.o0: 17",
        '- n1.o0: "a"', '+ n1.o0: "<missing>"',
    ]


def test_blobs_compare_by_content_not_location():
    contents = {"s3://remote/a": b"same", "s3://local/b": b"same", "s3://local/c": b"other"}
    read = contents.__getitem__
    assert diff_outputs({"n0": _blob("s3://remote/a")}, {"n0": _blob("s3://local/b")}, read, read) == []
    lines = diff_outputs({"n0": _blob("s3://remote/a")}, {"n0": _blob("s3://local/c")}, read, read)
    assert len(lines) == 2 and lines[0].startswith("- n0.o0: {\"blob sha256\"")


def _tree(uri: str) -> literals_pb2.LiteralMap:
    out = literals_pb2.LiteralMap()
    out.literals["o0"].scalar.blob.uri = uri
    out.literals["o0"].scalar.blob.metadata.type.dimensionality = types_pb2.BlobType.MULTIPART
    return out


def test_directories_compare_file_by_file_when_both_sides_list():
    contents = {"s3://r/x/a.txt": b"A", "s3://r/x/sub/b.txt": b"B",
                "s3://l/y/a.txt": b"A", "s3://l/y/sub/b.txt": b"B",
                "s3://l/z/a.txt": b"A", "s3://l/z/sub/b.txt": b"changed"}
    read = contents.__getitem__

    def listing(prefix):
        return [uri for uri in contents if uri.startswith(prefix)]

    same = diff_outputs({"n0": _tree("s3://r/x")}, {"n0": _tree("s3://l/y/")}, read, read,
                        listing, listing)
    assert same == []
    changed = diff_outputs({"n0": _tree("s3://r/x")}, {"n0": _tree("s3://l/z")}, read, read,
                           listing, listing)
    assert len(changed) == 2 and '"sub/b.txt"' in changed[0]

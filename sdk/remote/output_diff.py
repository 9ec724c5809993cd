"""Comparing two runs' outputs node by node: plain values as they are, files by the sha256 of
their bytes, directories file by file. Blobs compare by content, never by location, so runs
that stored the same bytes in different buckets are identical."""
from __future__ import annotations

import hashlib
import json

from flyteidl.core import literals_pb2

from sdk.types.display import literal_to_plain


def _comparable(literal, read, listing):
    """A value to compare: plain values as they are, a file by the sha256 of its bytes, a
    directory by its files' relative paths and hashes (by its name alone when it cannot be
    listed)."""
    kind = literal.WhichOneof("value")
    if kind == "scalar" and literal.scalar.WhichOneof("value") == "blob":
        blob = literal.scalar.blob
        if blob.metadata.type.dimensionality == 0:  # SINGLE
            return {"blob sha256": hashlib.sha256(read(blob.uri)).hexdigest()}
        prefix = blob.uri.rstrip("/") + "/"
        if listing is None:
            return {"directory": prefix.rstrip("/").rsplit("/", 1)[-1]}
        return {"directory": {uri[len(prefix):]: hashlib.sha256(read(uri)).hexdigest()
                              for uri in sorted(listing(prefix))}}
    if kind == "collection":
        return [_comparable(item, read, listing) for item in literal.collection.literals]
    if kind == "map":
        return {k: _comparable(v, read, listing) for k, v in sorted(literal.map.literals.items())}
    if kind == "scalar" and literal.scalar.WhichOneof("value") == "structured_dataset":
        return {"structured dataset": literal.scalar.structured_dataset.metadata
                .structured_dataset_type.format}
    return literal_to_plain(literal)


def diff_outputs(remote: dict, local: dict, read_remote, read_local, list_remote=None,
                 list_local=None) -> list[str]:
    """`remote`/`local`: {node id: LiteralMap}; lines for every output that differs.
    Directories are compared file by file when both sides can be listed."""
    listings = (list_remote, list_local) if list_remote and list_local else (None, None)
    lines = []
    for node in sorted(set(remote) | set(local)):
        theirs = remote.get(node, literals_pb2.LiteralMap()).literals
        ours = local.get(node, literals_pb2.LiteralMap()).literals
        for var in sorted(set(theirs) | set(ours)):
            a = (_comparable(theirs[var], read_remote, listings[0]) if var in theirs
                 else "<missing>")
            b = _comparable(ours[var], read_local, listings[1]) if var in ours else "<missing>"
            if a != b:
                lines.append(f"- {node}.{var}: {json.dumps(a, default=str)}")
                lines.append(f"+ {node}.{var}: {json.dumps(b, default=str)}")
    return lines

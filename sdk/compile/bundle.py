"""The code bundle: the source tree as a deterministic .tar.gz named `fast<sha256 prefix>.tar.gz`.

Same sources give the same bytes: entries sorted, owners and mtimes fixed, gzip header without
a timestamp. Caches, VCS metadata and what the root's .gitignore/.flyteignore name are left out.
"""
from __future__ import annotations

import fnmatch
import io
import os
from typing import Iterable

from sdk.sha256 import sha256

_SKIPPED_DIRS = {"__pycache__", ".git", ".hg", ".svn", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv",
                 ".tox", ".skiff", "node_modules", ".ipynb_checkpoints"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
# 1980-01-01, the oldest time a zip can hold; what pyflyte writes too.
FIXED_MTIME = 315532800


def ignore_patterns(root: str) -> list[str]:
    """Patterns from the root's .gitignore and .flyteignore (as pyflyte honours them); no negation."""
    patterns: list[str] = []
    for name in (".gitignore", ".flyteignore"):
        path = os.path.join(root, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                patterns += [line.strip() for line in handle if line.strip() and not line.startswith(("#", "!"))]
    return patterns


def _ignored(relative: str, is_dir: bool, patterns: list[str]) -> bool:
    name = relative.rsplit("/", 1)[-1]
    for pattern in patterns:
        if pattern.endswith("/"):
            if not is_dir:
                continue
            pattern = pattern.rstrip("/")
        if pattern.startswith("/"):
            if fnmatch.fnmatch(relative, pattern.lstrip("/")):
                return True
        elif fnmatch.fnmatch(name, pattern) or fnmatch.fnmatch(relative, pattern):
            return True
    return False


def bundle_files(root: str, exclude: Iterable[str] = ()) -> list[str]:
    """Paths (relative to root, '/'-separated) of the files that go into the bundle, sorted."""
    excluded = {os.path.realpath(p) for p in exclude}
    patterns = ignore_patterns(root)
    found: list[str] = []
    for directory, dirs, files in os.walk(root):
        relative_dir = os.path.relpath(directory, root).replace(os.sep, "/")
        prefix = "" if relative_dir == "." else relative_dir + "/"
        dirs[:] = [
            d for d in dirs
            if d not in _SKIPPED_DIRS and not d.endswith(".egg-info") and not _ignored(prefix + d, True, patterns)
        ]
        for name in files:
            full = os.path.join(directory, name)
            if name.endswith(_SKIPPED_SUFFIXES) or os.path.realpath(full) in excluded or not os.path.isfile(full):
                continue
            if _ignored(prefix + name, False, patterns):
                continue
            found.append(prefix + name)
    return sorted(found)


def _tar_entry(name: str, data: bytes, mode: int = 0o644) -> tuple:
    import tarfile

    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = FIXED_MTIME
    info.mode = mode
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info, io.BytesIO(data)


def deterministic_tgz(entries: list[tuple[str, bytes]]) -> bytes:
    """A gzip tar of (name, bytes) entries, byte-identical for identical input."""
    # Imported here: a compiled-package cache hit lists the bundle's files but writes none.
    import gzip
    import tarfile

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(entries):
            tar.addfile(*_tar_entry(name, data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def code_bundle(root: str, exclude: Iterable[str] = ()) -> tuple[str, bytes]:
    """(file name, bytes) of the code bundle for the source tree at `root`."""
    entries = []
    for relative in bundle_files(root, exclude):
        with open(os.path.join(root, relative), "rb") as handle:
            entries.append((relative, handle.read()))
    data = deterministic_tgz(entries)
    return f"fast{sha256(data).hexdigest()[:32]}.tar.gz", data

"""The code bundle: the source files a task container needs, as a deterministic .tar.gz named
`fast<sha256 prefix>.tar.gz` (so its name changes whenever its content does).

Which files, as pyflyte's `--copy` chooses them:
- `auto`: the Python modules under the source root that importing the workflow's files loaded
  (what `pyflyte run --copy auto` bundles: `sys.modules` entries whose file lies under the root,
  leaving out installed packages, the interpreter's prefixes and Skiff itself);
- `all`: every file under the source root, except caches, VCS metadata and what the root's
  .gitignore/.flyteignore name (data files next to the code included);
- `none`: no bundle; the image must hold the code.

Same files give the same bytes: entries sorted, owners and mtimes fixed, gzip header without
a timestamp.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import io
import os
import sys
from typing import Iterable

from sdk.sha256 import sha256

COPY_AUTO, COPY_ALL, COPY_NONE = "auto", "all", "none"
COPY_MODES = (COPY_AUTO, COPY_ALL, COPY_NONE)
# Above this many bytes (before compression) a bundle's largest entries are named in a warning.
LARGE_BUNDLE_BYTES = 50 * 1024 * 1024

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
    """`--copy all`: paths (relative to root, '/'-separated) of every file under root that is
    not a cache, VCS metadata or ignored, sorted."""
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


def _inside(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:  # different drives
        return False


def _installed_locations() -> list[str]:
    """Where installed code lives (never user files): the interpreter's prefixes, site-packages,
    and Skiff's own packages (sdk, and sandbox beside it in a checkout)."""
    import site

    import sdk

    sdk_dir = os.path.dirname(os.path.abspath(sdk.__file__))
    places = [sys.prefix, sys.base_prefix, sdk_dir, os.path.join(os.path.dirname(sdk_dir), "sandbox")]
    try:
        places += [site.getusersitepackages(), *site.getsitepackages()]
    except AttributeError:  # an old virtualenv's site module
        pass
    return [os.path.realpath(p) for p in places if p]


def loaded_module_files(root: str, exclude: Iterable[str] = (), modules: Iterable = None) -> list[str]:
    """`--copy auto`: paths (relative to root, sorted) of the loaded modules whose file lies
    under root, leaving out installed packages (site-packages, the interpreter's prefixes) and
    Skiff itself, as pyflyte's `--copy auto` selects them."""
    root = os.path.realpath(root)
    excluded = {os.path.realpath(p) for p in exclude}
    installed = _installed_locations()
    found = set()
    for module in list(sys.modules.values()) if modules is None else modules:
        path = getattr(module, "__file__", None)
        if not path:
            continue
        path = os.path.realpath(path)
        if path in excluded or not os.path.isfile(path) or not _inside(path, root):
            continue
        if any(_inside(path, place) for place in installed if not _inside(root, place)):
            continue
        found.add(os.path.relpath(path, root).replace(os.sep, "/"))
    return sorted(found)


def select_files(root: str, copy: str, exclude: Iterable[str] = ()) -> list[str]:
    """The files `copy` puts in the bundle (relative to root, sorted); none for `none`."""
    if copy == COPY_AUTO:
        return loaded_module_files(root, exclude)
    if copy == COPY_ALL:
        return bundle_files(root, exclude)
    if copy == COPY_NONE:
        return []
    raise ValueError(f"unknown copy mode {copy!r}; use one of {', '.join(COPY_MODES)}")


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


@dataclasses.dataclass(frozen=True)
class Bundle:
    """A built code bundle and what it holds."""

    root: str
    copy: str
    name: str  # fast<sha256 prefix of data>.tar.gz
    data: bytes
    digests: dict  # relative path -> sha256 hex of the file's content (what was bundled)
    sizes: dict  # relative path -> bytes

    @property
    def files(self) -> list[str]:
        return sorted(self.digests)

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes.values())

    def largest(self, count: int = 5) -> list[tuple[str, int]]:
        return sorted(self.sizes.items(), key=lambda item: (-item[1], item[0]))[:count]

    def is_large(self) -> bool:
        return self.total_bytes > LARGE_BUNDLE_BYTES


def build_bundle(root: str, copy: str, exclude: Iterable[str] = ()) -> Bundle | None:
    """The bundle `copy` makes of the source tree at `root`; None for `none`."""
    if copy == COPY_NONE:
        return None
    entries, digests, sizes = [], {}, {}
    for relative in select_files(root, copy, exclude):
        with open(os.path.join(root, relative), "rb") as handle:
            content = handle.read()
        entries.append((relative, content))
        digests[relative] = sha256(content).hexdigest()
        sizes[relative] = len(content)
    data = deterministic_tgz(entries)
    return Bundle(root, copy, f"fast{sha256(data).hexdigest()[:32]}.tar.gz", data, digests, sizes)


def code_bundle(root: str, exclude: Iterable[str] = ()) -> tuple[str, bytes]:
    """(file name, bytes) of the `--copy all` bundle of the source tree at `root`."""
    bundle = build_bundle(root, COPY_ALL, exclude)
    return bundle.name, bundle.data


def file_digests(root: str, files: Iterable[str]) -> dict | None:
    """{relative path: sha256 hex} of `files` as they are on disk now; None when one is gone."""
    digests = {}
    for relative in files:
        try:
            with open(os.path.join(root, relative), "rb") as handle:
                digests[relative] = sha256(handle.read()).hexdigest()
        except OSError:
            return None
    return digests


def describe_size(count: int) -> str:
    """Bytes for people: 812 B, 4.2 kB, 37.5 MB, 1.2 GB."""
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"

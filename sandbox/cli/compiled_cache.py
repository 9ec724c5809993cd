"""The compiled-package cache behind `skiff run --sandbox`.

Compiling a file means importing the user's module (and everything it imports), then building
and packaging every spec. When nothing that goes into the package has changed, the package
compiled last time is reused instead, together with a small manifest of what the CLI needs to
build the entity's command (names, help texts, input types and defaults), so a rerun never
imports the user's code.

An entry is found under a key made of the file's absolute path, the image, the `--copy` mode,
Skiff's version and the modification times of its own sources, and the Python version. It is
used only when the files it was compiled from are unchanged: its manifest records the sha256 of
every source file the package depends on, i.e. what the code bundle holds plus the modules
under the source root that compiling loaded, and with `--copy all` the bundle's file list too
(a new data file changes the bundle). So with `--copy auto` an edit to a file the workflow never
imports neither recompiles nor uploads anything. The cache does not see modules imported from
outside the source root (an edited library in site-packages, say), a new module that would now
shadow an installed one, or environment variables the user's module reads at import time:
`--no-compile-cache` compiles afresh.

Entries live in `$SKIFF_HOME/compiled/` as `<key>.tgz` (the package) and `<key>.json` (the
manifest, written last, with the package's sha256); both are written to a temporary file and
renamed. Only the most recently used entries are kept. Anything unreadable is treated as a miss.
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import sys
import typing
from typing import Any

from sdk.atomic_file import write_atomically
from sdk.sha256 import sha256
from sdk.source_tree import source_root

log = logging.getLogger(__name__)

FORMAT = "skiff-compiled-package-3"
KEEP = 20  # entries kept; each is one small package and its manifest


# ---- where and under which key ----------------------------------------------------------------


def cache_directory() -> str:
    from sandbox.home import skiff_home

    return str(skiff_home() / "compiled")


def _skiff_fingerprint(digest) -> None:
    """Skiff's own sources' sizes and mtimes: any install or upgrade writes them anew, and an
    editable install changes the compiler without changing the version. (Not the version
    itself: importlib.metadata would cost every cached rerun 30-50 ms.)"""
    import sdk

    # The compiler lives in sdk; the CLI that drives it in sandbox.cli.
    sdk_dir = os.path.dirname(os.path.abspath(sdk.__file__))
    cli_dir = os.path.dirname(os.path.abspath(__file__))
    for directory, dirs, files in (*os.walk(sdk_dir), *os.walk(cli_dir)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                stat = os.stat(os.path.join(directory, name))
                digest.update(f"{directory}/{name}:{stat.st_size}:{stat.st_mtime_ns}\0".encode())


def cache_key(path: str, image: str, copy: str = "auto") -> str | None:
    """The entry's key, or None when the file cannot be cached: with `--copy all` the cache's
    own files would be part of the code bundle (the cache lies inside the source tree), so
    every entry written would change the bundle."""
    from sdk.compile.bundle import COPY_ALL, bundle_files

    path = os.path.abspath(path)
    if copy == COPY_ALL:
        root = source_root(path)
        inside = os.path.relpath(os.path.realpath(cache_directory()), os.path.realpath(root)).replace(os.sep, "/")
        if not inside.startswith("../") and any(f.startswith(inside + "/") for f in bundle_files(root)):
            log.info("the compiled-package cache is inside source root %s and in its code bundle: not used", root)
            return None
    digest = sha256()
    for part in (FORMAT, sys.version, path, image, copy):
        digest.update(part.encode() + b"\0")
    _skiff_fingerprint(digest)
    return digest.hexdigest()[:40]


def sources_of(path: str, bundle) -> dict:
    """{relative path: sha256} of what a package compiled from `path` depends on: the files
    in its code bundle (sdk.compile.bundle.Bundle, None with `--copy none`) and the modules
    under the source root that compiling loaded."""
    from sdk.compile.bundle import file_digests, loaded_module_files

    root = source_root(os.path.abspath(path))
    sources = dict(bundle.digests) if bundle is not None else {}
    loaded = [f for f in loaded_module_files(root) if f not in sources]
    sources.update(file_digests(root, loaded) or {})
    return sources


def _unchanged(path: str, manifest: dict) -> bool:
    """The sources recorded in `manifest` are as they were (and, with `--copy all`, no file
    was added to or removed from the bundle)."""
    from sdk.compile.bundle import COPY_ALL, bundle_files, file_digests

    root = source_root(os.path.abspath(path))
    sources = manifest["sources"]
    if file_digests(root, sources) != sources:
        return False
    if manifest["copy"] == COPY_ALL and bundle_files(root) != manifest["bundled"]:
        return False
    return True


# ---- what the CLI needs without importing the user's module ------------------------------------


class CachedEntity:
    """An entity as `skiff run` uses it (the attributes of sandbox.cli.entities.Entity that the
    command reads), rebuilt from a manifest; `package` is the compiled package to run.
    (Plain classes here: dataclasses cost start-up time on every cached rerun.)"""

    def __init__(self, short: str, kind: str, name: str, description: str, interface: Any,
                 fixed_inputs: dict, package: str, image: str):
        self.short, self.kind, self.name, self.description = short, kind, name, description
        self.interface, self.fixed_inputs = interface, fixed_inputs
        self.package, self.image = package, image


def _interface(inputs: dict, defaults: dict, input_descriptions: dict):
    """What sandbox.cli.inputs reads of an sdk.authoring Interface."""
    from types import SimpleNamespace

    return SimpleNamespace(inputs=inputs, defaults=defaults,
                           docstring=SimpleNamespace(input_descriptions=input_descriptions))


class NotServable(Exception):
    """An entity the manifest cannot describe exactly; the normal path serves it."""


# The hints a manifest spells out; others are not cached (the file is imported instead).
_SCALARS = {"int": int, "float": float, "str": str, "bool": bool, "datetime": datetime.datetime,
            "timedelta": datetime.timedelta}
_SCALAR_NAMES = {hint: name for name, hint in _SCALARS.items()}


def hint_spec(hint: Any):
    """A JSON spelling of `hint`: a scalar's name, or ["list" | "dict" | "optional", inner]."""
    if isinstance(hint, type) and hint in _SCALAR_NAMES:
        return _SCALAR_NAMES[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is list and len(args) == 1:
        return ["list", hint_spec(args[0])]
    if origin is dict and len(args) == 2 and args[0] is str:
        return ["dict", hint_spec(args[1])]
    if origin is typing.Union and len(args) == 2 and args[1] is type(None):
        return ["optional", hint_spec(args[0])]
    raise NotServable(f"hint {hint!r} is not spelled in a manifest")


def hint_from_spec(spec) -> Any:
    if isinstance(spec, str):
        return _SCALARS[spec]
    kind, inner = spec
    if kind == "list":
        return list[hint_from_spec(inner)]
    if kind == "dict":
        return dict[str, hint_from_spec(inner)]
    if kind == "optional":
        return typing.Optional[hint_from_spec(inner)]
    raise ValueError(f"unknown hint spelling {spec!r}")


def _same_hint(hint: Any) -> Any:
    """The spelling of `hint`, when rebuilding it gives the very same hint and name."""
    from sandbox.cli.inputs import hint_name

    spec = hint_spec(hint)
    rebuilt = hint_from_spec(spec)
    if rebuilt != hint or hint_name(rebuilt) != hint_name(hint):
        raise NotServable(f"hint {hint!r} does not survive its spelling")
    return spec


def _same_default(value: Any, hint: Any) -> Any:
    """The JSON form of a default, when reading it back gives the same value, help text and
    literal."""
    from sandbox.cli.inputs import describe_default, from_jsonable
    from sandbox.cli.outputs import to_jsonable
    from sdk.types import TypeEngine

    data = to_jsonable(value)
    rebuilt = from_jsonable(json.loads(json.dumps(data)), hint)
    if (type(rebuilt) is not type(value) or rebuilt != value
            or describe_default(rebuilt) != describe_default(value)
            or TypeEngine.to_literal(rebuilt, hint) != TypeEngine.to_literal(value, hint)):
        raise NotServable(f"default {value!r} does not survive JSON")
    return data


def _entity_manifest(entity) -> dict | None:
    """What rebuilds `entity`'s command, or None when it cannot be described exactly (then
    the cache serves it not, and the file is imported)."""
    interface = entity.interface
    inputs = []
    try:
        for name, hint in interface.inputs.items():
            item = {"name": name, "hint": _same_hint(hint)}
            if name in interface.defaults:
                item["default"] = _same_default(interface.defaults[name], hint)
            inputs.append(item)
    except Exception as exc:  # noqa: BLE001 - whatever cannot be described is simply not cached
        log.debug("compiled-package cache does not describe %s: %s", entity.name, exc)
        return None
    docstring = getattr(interface, "docstring", None)
    descriptions = dict(getattr(docstring, "input_descriptions", None) or {})
    return {
        "short": entity.short,
        "kind": entity.kind,
        "name": entity.name,
        "description": entity.description,
        "fixed": sorted(entity.fixed_inputs),
        "inputs": inputs,
        "input_descriptions": {k: str(v) for k, v in descriptions.items() if k in interface.inputs},
    }


def _cached_entity(item: dict, package: str, image: str) -> CachedEntity:
    from sandbox.cli.inputs import from_jsonable

    inputs, defaults = {}, {}
    for variable in item["inputs"]:
        name = variable["name"]
        inputs[name] = hint = hint_from_spec(variable["hint"])
        if "default" in variable:
            defaults[name] = from_jsonable(variable["default"], hint)
    interface = _interface(inputs, defaults, dict(item["input_descriptions"]))
    return CachedEntity(item["short"], item["kind"], item["name"], item["description"], interface,
                        {name: None for name in item["fixed"]}, package, image)


# ---- reading and writing entries -----------------------------------------------------------------


def _sha256_file(path: str) -> str:
    with open(path, "rb") as handle:
        return sha256(handle.read()).hexdigest()


class CacheEntry:
    def __init__(self, key: str, package: str, image: str, entities: list[dict]):
        self.key, self.package, self.image, self.entities = key, package, image, entities

    def find(self, name: str) -> CachedEntity | None:
        """The entity `skiff run FILE NAME` means (short name first, then full name), as
        sandbox.cli.entities.find_entity looks it up; None when the manifest does not have it."""
        found = next((i for i in self.entities if i["short"] == name), None) or \
            next((i for i in self.entities if i["name"] == name), None)
        if found is None:
            return None
        try:
            return _cached_entity(found, self.package, self.image)
        except Exception as exc:  # noqa: BLE001 - a damaged description is a miss, not a crash
            log.warning("ignoring damaged compiled-package cache entry %s (%s); compiling again", self.key, exc)
            return None


def lookup(path: str, image: str, copy: str = "auto") -> CacheEntry | None:
    """The entry compiled from the same sources for `image` and `copy`, or None (a miss, also
    when the entry is unreadable or its package does not match what the manifest recorded)."""
    key = cache_key(path, image, copy)
    if key is None:
        return None
    directory = cache_directory()
    manifest_path = os.path.join(directory, f"{key}.json")
    package = os.path.join(directory, f"{key}.tgz")
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
        if manifest.get("format") != FORMAT or manifest.get("key") != key:
            raise ValueError("written for another key or format")
        if _sha256_file(package) != manifest["package_sha256"]:
            raise ValueError("package does not match its manifest")
        if not _unchanged(path, manifest):
            return None
        entities = list(manifest["entities"])
        for item in entities:  # every field a hit reads, checked before the command is built
            for required in ("short", "kind", "name", "description", "fixed", "inputs", "input_descriptions"):
                item[required]
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged entry is a miss; the next compile replaces it
        log.warning("ignoring damaged compiled-package cache entry %s (%s); compiling again", manifest_path, exc)
        return None
    try:
        os.utime(manifest_path)  # recently used: pruned last
    except OSError:  # a read-only cache still serves
        pass
    return CacheEntry(key, package, image, entities)


def store(key: str | None, path: str, image: str, package: str, entities: dict, copy: str = "auto",
          bundle=None, started_ns: int = 0) -> bool:
    """Keep the package just compiled from `path` under `key` (cache_key before compiling,
    compiling having started at time.time_ns() `started_ns`) with a manifest of `entities`
    (sandbox.cli.entities.load_entities) and of the sources it depends on (`bundle`, the
    sdk.compile.bundle.Bundle in it). False when nothing was kept: no key, a source edited
    while compiling (the package may be of either version), or the cache directory cannot be
    written (a warning; the run goes on)."""
    if key is None:
        return False
    root = source_root(os.path.abspath(path))
    sources = sources_of(path, bundle)
    try:
        if any(os.stat(os.path.join(root, f)).st_mtime_ns >= started_ns for f in sources):
            return False
    except OSError:
        return False
    directory = cache_directory()
    try:
        os.makedirs(directory, exist_ok=True)
        with open(package, "rb") as handle:
            data = handle.read()
        write_atomically(os.path.join(directory, f"{key}.tgz"), data)
        manifest = {
            "format": FORMAT,
            "key": key,
            "file": os.path.abspath(path),
            "image": image,
            "package_sha256": sha256(data).hexdigest(),
            "copy": copy,
            "sources": sources,
            "bundled": bundle.files if bundle is not None else [],
            "entities": [m for m in map(_entity_manifest, entities.values()) if m is not None],
        }
        # Written last: a manifest names a complete package.
        write_atomically(os.path.join(directory, f"{key}.json"),
                          json.dumps(manifest, indent=1, sort_keys=True).encode())
        _prune(directory)
    except OSError as exc:
        log.warning("cannot write the compiled-package cache in %s: %s", directory, exc)
        return False
    return True


def _prune(directory: str, keep: int = KEEP) -> None:
    """Remove all but the `keep` most recently used entries."""
    manifests = []
    for name in os.listdir(directory):
        if name.endswith(".json"):
            try:
                manifests.append((os.stat(os.path.join(directory, name)).st_mtime_ns, name))
            except FileNotFoundError:  # pruned by another run meanwhile
                pass
    for _, name in sorted(manifests, reverse=True)[keep:]:
        for stale in (name, name[: -len(".json")] + ".tgz"):
            try:
                os.unlink(os.path.join(directory, stale))
            except FileNotFoundError:
                pass

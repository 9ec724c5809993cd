"""The compiled-package cache's key: it changes with everything that goes into the package
(tests/sandbox/test_compiled_cache.py covers reuse through `skiff run --sandbox`)."""
from __future__ import annotations

import dataclasses
import datetime
import json
import typing

import pytest

from sdk.source_tree import source_root
from sandbox.cli import compiled_cache
from sandbox.cli.entities import Entity


@dataclasses.dataclass
class Point:
    x: int


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setenv("SKIFF_HOME", str(tmp_path / "home"))
    root = tmp_path / "src"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "wf.py").write_text("X = 1\n")
    (root / "other.py").write_text("Y = 1\n")
    return root


def test_source_root_is_the_first_ancestor_that_is_not_a_package(tree):
    for path in (tree / "pkg" / "wf.py", tree / "other.py"):
        assert source_root(str(path)) == str(tree)


def test_key_changes_with_path_image_and_copy_mode_only(tree):
    wf = str(tree / "pkg" / "wf.py")
    key = compiled_cache.cache_key(wf, "img:1")
    assert compiled_cache.cache_key(wf, "img:1", "auto") == key
    assert compiled_cache.cache_key(wf, "img:2") != key
    assert compiled_cache.cache_key(wf, "img:1", "all") != key
    assert compiled_cache.cache_key(str(tree / "other.py"), "img:1") != key
    (tree / "other.py").write_text("Y = 2\n")  # sources are checked against the entry's manifest
    assert compiled_cache.cache_key(wf, "img:1") == key


def test_an_entry_serves_while_what_it_was_compiled_from_is_unchanged(tree):
    """auto: only the recorded sources count; all: the bundle's file list too."""
    wf = str(tree / "pkg" / "wf.py")
    sources = {"pkg/__init__.py": None, "pkg/wf.py": None}
    from sdk.compile.bundle import bundle_files, file_digests

    auto = {"copy": "auto", "sources": file_digests(str(tree), sources), "bundled": sorted(sources)}
    assert compiled_cache._unchanged(wf, auto)
    (tree / "other.py").write_text("Y = 2\n")  # not a source of the package
    (tree / "data.csv").write_text("a,b\n")
    assert compiled_cache._unchanged(wf, auto)
    every = {"copy": "all", "sources": file_digests(str(tree), bundle_files(str(tree))),
             "bundled": bundle_files(str(tree))}
    assert compiled_cache._unchanged(wf, every)
    (tree / "notes.txt").write_text("new")  # a new file changes what --copy all bundles
    assert not compiled_cache._unchanged(wf, every)
    (tree / "pkg" / "wf.py").write_text("X = 2\n")
    assert not compiled_cache._unchanged(wf, auto)
    (tree / "pkg" / "wf.py").unlink()
    assert not compiled_cache._unchanged(wf, auto)


def test_no_key_when_the_cache_would_be_part_of_the_code_bundle(tree, monkeypatch):
    monkeypatch.setenv("SKIFF_HOME", str(tree / "home"))
    assert compiled_cache.cache_key(str(tree / "other.py"), "img:1", "all") is not None  # nothing there yet
    (tree / "home" / "compiled").mkdir(parents=True)
    (tree / "home" / "compiled" / "entry.json").write_text("{}")
    assert compiled_cache.cache_key(str(tree / "other.py"), "img:1", "all") is None
    # --copy auto bundles modules only: the entries are no part of it.
    assert compiled_cache.cache_key(str(tree / "other.py"), "img:1", "auto") is not None
    # A .skiff directory is left out of the bundle, so a project-local home is fine.
    monkeypatch.setenv("SKIFF_HOME", str(tree / ".skiff"))
    (tree / ".skiff" / "compiled").mkdir(parents=True)
    (tree / ".skiff" / "compiled" / "entry.json").write_text("{}")
    assert compiled_cache.cache_key(str(tree / "other.py"), "img:1", "all") is not None


def test_lookup_misses_without_an_entry_and_on_a_damaged_one(tree):
    wf = str(tree / "pkg" / "wf.py")
    assert compiled_cache.lookup(wf, "img:1") is None
    key = compiled_cache.cache_key(wf, "img:1")
    directory = tree.parent / "home" / "compiled"
    directory.mkdir(parents=True)
    (directory / f"{key}.json").write_text("{not json")
    (directory / f"{key}.tgz").write_bytes(b"")
    assert compiled_cache.lookup(wf, "img:1") is None


@pytest.mark.parametrize("hint", [int, float, str, bool, list[int], dict[str, list[float]],
                                  typing.Optional[int], datetime.datetime, datetime.timedelta])
def test_manifest_spells_plain_hints_exactly(hint):
    spec = json.loads(json.dumps(compiled_cache.hint_spec(hint)))
    assert compiled_cache.hint_from_spec(spec) == hint


def test_entities_whose_types_or_defaults_would_change_are_left_to_the_normal_path():
    from sdk import task

    @task
    def plain(a: int, b: float = 1.5, c: typing.Optional[str] = None) -> int:
        return a

    @task
    def legacy_list(a: typing.List[int]) -> int:  # rebuilt it would read list[int] in --help
        return 0

    @task
    def with_dataclass(p: Point) -> int:
        return p.x

    @task
    def int_default_for_float(b: float = 1) -> float:  # --help shows 1, JSON gives back 1.0
        return b

    def manifest(obj):
        return compiled_cache._entity_manifest(Entity(obj.name.rsplit(".", 1)[-1], "task", obj))

    described = manifest(plain)
    assert [i["name"] for i in described["inputs"]] == ["a", "b", "c"]
    assert described["inputs"][1]["default"] == 1.5
    assert manifest(legacy_list) is None
    assert manifest(with_dataclass) is None
    assert manifest(int_default_for_float) is None


@pytest.mark.parametrize("value", [0, -7, 2**53 + 1, 1.5, -0.0, float("inf"), "", "text é", True, False])
def test_primitive_inputs_encode_as_the_type_engine_does(value):
    from sandbox.cli.run_cmd import _primitive_literal
    from sdk.types import TypeEngine

    fast = _primitive_literal(value, type(value))
    assert fast is not None
    assert fast.SerializeToString(deterministic=True) == \
        TypeEngine.to_literal(value, type(value)).SerializeToString(deterministic=True)


def test_other_values_are_left_to_the_type_engine():
    from sandbox.cli.run_cmd import _primitive_literal

    assert _primitive_literal(True, int) is None  # a bool is not an int input's value
    assert _primitive_literal(3, typing.Optional[int]) is None  # a union literal
    assert _primitive_literal([1], list[int]) is None

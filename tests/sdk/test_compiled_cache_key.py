"""The compiled-package cache's key: it changes with everything that goes into the package
(tests/sandbox/test_compiled_cache.py covers reuse through `skiff run --sandbox`)."""
from __future__ import annotations

import pytest

from sdk.authoring.naming import source_root
from sdk.cli import compiled_cache


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setenv("SKIFF_HOME", str(tmp_path / "home"))
    root = tmp_path / "src"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "wf.py").write_text("X = 1\n")
    (root / "other.py").write_text("Y = 1\n")
    return root


def test_source_root_rule_matches_the_compilers(tree):
    for path in (tree / "pkg" / "wf.py", tree / "other.py"):
        assert compiled_cache._source_root(str(path)) == source_root(str(path))


def test_key_changes_with_sources_path_and_image_only(tree):
    wf = str(tree / "pkg" / "wf.py")
    key = compiled_cache.cache_key(wf, "img:1")
    assert compiled_cache.cache_key(wf, "img:1") == key
    assert compiled_cache.cache_key(wf, "img:2") != key
    assert compiled_cache.cache_key(str(tree / "other.py"), "img:1") != key
    (tree / "other.py").write_text("Y = 2\n")  # another file of the same source tree
    changed = compiled_cache.cache_key(wf, "img:1")
    assert changed != key
    (tree / "__pycache__").mkdir()
    (tree / "__pycache__" / "other.cpython-311.pyc").write_bytes(b"\0")  # not in the bundle
    assert compiled_cache.cache_key(wf, "img:1") == changed
    (tree / "data.csv").write_text("a,b\n")  # a data file is in the bundle
    assert compiled_cache.cache_key(wf, "img:1") != changed


def test_no_key_when_the_cache_lives_inside_the_source_tree(tree, monkeypatch):
    monkeypatch.setenv("SKIFF_HOME", str(tree / "home"))
    assert compiled_cache.cache_key(str(tree / "other.py"), "img:1") is None


def test_lookup_misses_without_an_entry_and_on_a_damaged_one(tree):
    wf = str(tree / "pkg" / "wf.py")
    assert compiled_cache.lookup(wf, "img:1") is None
    key = compiled_cache.cache_key(wf, "img:1")
    directory = tree.parent / "home" / "compiled"
    directory.mkdir(parents=True)
    (directory / f"{key}.json").write_text("{not json")
    (directory / f"{key}.tgz").write_bytes(b"")
    assert compiled_cache.lookup(wf, "img:1") is None

"""skiff-execute's use of a bundle the engine unpacked and mounted (sdk.code_bundle): linked
only when the mount holds exactly the bundle the task names, else fetched as Flyte does."""
from __future__ import annotations

import os

import pytest

from sdk import code_bundle

URI = "s3://skiff/fast/p/d/abc/fast123.tar.gz"


@pytest.fixture
def mount(tmp_path, monkeypatch):
    root = tmp_path / "mount"
    (root / "code" / "pkg").mkdir(parents=True)
    (root / "code" / "wf.py").write_text("X = 1\n")
    (root / "code" / "pkg" / "__init__.py").write_text("")
    (root / "bundle-uri").write_text(URI)
    monkeypatch.setenv(code_bundle.SHARED_DIR_ENV, str(root))
    monkeypatch.setenv(code_bundle.SHARED_URI_ENV, URI)
    return root


def test_links_the_mounted_bundle_into_the_working_directory(mount, tmp_path):
    dest = tmp_path / "work"
    assert code_bundle.link_shared(URI, str(dest))
    assert sorted(os.listdir(dest)) == ["pkg", "wf.py"]
    assert (dest / "wf.py").read_text() == "X = 1\n"
    assert os.path.realpath(dest / "wf.py") == str(mount / "code" / "wf.py")


def test_fetches_when_the_mount_is_not_that_bundle(mount, tmp_path, monkeypatch):
    dest = tmp_path / "work"
    assert not code_bundle.link_shared("s3://skiff/fast/p/d/other/fast9.tar.gz", str(dest))
    (mount / "bundle-uri").write_text("s3://elsewhere")  # a directory another bundle filled
    assert not code_bundle.link_shared(URI, str(dest))
    (mount / "bundle-uri").unlink()  # an empty directory Docker made for a missing host path
    assert not code_bundle.link_shared(URI, str(dest))
    monkeypatch.delenv(code_bundle.SHARED_DIR_ENV)
    assert not code_bundle.link_shared(URI, str(dest))
    assert not dest.exists() or not os.listdir(dest)


def test_an_entry_already_in_the_working_directory_means_fetch_over_it(mount, tmp_path):
    dest = tmp_path / "work"
    dest.mkdir()
    (dest / "wf.py").write_text("from the image\n")
    assert not code_bundle.link_shared(URI, str(dest))
    assert sorted(os.listdir(dest)) == ["wf.py"]

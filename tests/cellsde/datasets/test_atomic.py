"""atomic_path / atomic_write_text: the one atomic writer (file or directory)."""

from __future__ import annotations

import os

import pytest

from cellsde.datasets.atomic import atomic_path, atomic_write_text


def test_file_replaces_old_content_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with atomic_path(path) as tmp:
        assert tmp.parent == tmp_path and not tmp.exists()
        tmp.write_text("new")
        assert path.read_text() == "old"  # the real name changes only at the end
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_failure_keeps_old_file_and_removes_the_temporary(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with pytest.raises(OSError, match="disk full"), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise OSError("disk full")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_missing_directory_and_empty_body(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        atomic_write_text(tmp_path / "no" / "a.txt", "x")
    with pytest.raises(FileNotFoundError, match="nothing was written"), atomic_path(tmp_path / "b"):
        pass
    assert list(tmp_path.iterdir()) == []


def test_directory_swap_and_restore_on_failed_rename(tmp_path, monkeypatch):
    path = tmp_path / "store"
    with atomic_path(path, directory=True) as tmp:
        tmp.mkdir()
        (tmp / "v").write_text("1")
    with atomic_path(path, directory=True) as tmp:
        tmp.mkdir()
        (tmp / "v").write_text("2")
    assert (path / "v").read_text() == "2"
    real_rename, calls = os.rename, []

    def flaky(src, dst):
        calls.append(src)
        if len(calls) == 2:  # moving the new directory in fails
            raise OSError("rename failed")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", flaky)
    with pytest.raises(OSError, match="rename failed"), atomic_path(path, directory=True) as tmp:
        tmp.mkdir()
        (tmp / "v").write_text("3")
    monkeypatch.undo()
    assert (path / "v").read_text() == "2"
    assert [p.name for p in tmp_path.iterdir()] == ["store"]

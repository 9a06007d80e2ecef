"""Atomic writes (permissions, nothing left behind on an error) and HTML sniffing."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from stylegan.fileio import atomic_directory, atomic_open, atomic_write_bytes, looks_like_html, new_file_mode


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    try:
        from stylegan import fileio

        fileio._umask.cache_clear()
        yield
    finally:
        os.umask(old)
        fileio._umask.cache_clear()


def test_written_files_get_normal_permissions(tmp_path: Path, umask_027: None) -> None:
    atomic_write_bytes(tmp_path / "a" / "b.bin", b"x")  # the folder is created
    assert _mode(tmp_path / "a" / "b.bin") == 0o640 == new_file_mode()
    with atomic_directory(tmp_path / "d") as folder:
        (folder / "f").write_bytes(b"y")
    assert _mode(tmp_path / "d") == 0o750 == new_file_mode(directory=True)


def test_an_error_leaves_the_target_untouched_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "stats.npz"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_open(target) as f:
        np.savez(f, a=np.zeros(3))
        raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["stats.npz"]
    with pytest.raises(KeyboardInterrupt), atomic_directory(tmp_path / "folder") as folder:
        (folder / "x").write_bytes(b"x")
        raise KeyboardInterrupt
    assert [p.name for p in tmp_path.iterdir()] == ["stats.npz"]


def test_streamed_zip_is_complete(tmp_path: Path) -> None:
    with atomic_open(tmp_path / "d.zip") as f, zipfile.ZipFile(f, "w") as zf:
        zf.writestr("a.txt", "hello")
    with zipfile.ZipFile(tmp_path / "d.zip") as zf:
        assert zf.read("a.txt") == b"hello"


def test_atomic_directory_may_replace_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with atomic_directory(tmp_path / "out") as folder:
        (folder / "f").write_text("z")
    assert (tmp_path / "out" / "f").read_text() == "z"


@pytest.mark.parametrize(
    ("head", "html"),
    [
        (b"<!DOCTYPE html><html>", True),
        (b"\xef\xbb\xbf\r\n  <HTML lang=en>", True),
        (b"<?xml version='1.0'?><Error>", True),
        (b"<!-- comment -->", True),
        (b"\x80\x02}q\x00", False),
        (b"PK\x03\x04", False),
        (b"", False),
    ],
)
def test_looks_like_html(head: bytes, html: bool) -> None:
    assert looks_like_html(head) is html

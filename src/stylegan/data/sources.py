"""Walk the files of a folder, a zip or a tarball in sorted order, without unpacking anything to disk."""

from __future__ import annotations

import contextlib
import functools
import os
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import StyleGANError

#: Folder names created by archivers and operating systems that never hold training images.
_JUNK_DIRS = {"__MACOSX", ".git", ".ipynb_checkpoints", "@eaDir"}


@dataclass(frozen=True)
class SourceFile:
    """One file inside a source: its `/`-separated path relative to the source root, and a reader of its bytes."""

    name: str
    read: Callable[[], bytes]

    @property
    def hidden(self) -> bool:
        """True for dot-files and files inside dot-folders or archiver junk folders (`.DS_Store`, `__MACOSX/...`)."""
        parts = self.name.split("/")
        return any(p.startswith(".") or p in _JUNK_DIRS for p in parts)


def source_kind(path: str | os.PathLike[str]) -> str:
    """'dir', 'zip' or 'tar' for an existing source; a clear error otherwise."""
    p = Path(path)
    if not p.exists():
        raise StyleGANError(f"{p}: no such file or folder")
    if p.is_dir():
        return "dir"
    if zipfile.is_zipfile(p):
        return "zip"
    if tarfile.is_tarfile(p):
        return "tar"
    raise StyleGANError(f"{p}: not a folder, a zip archive or a tarball")


@contextlib.contextmanager
def open_source(path: str | os.PathLike[str]) -> Iterator[list[SourceFile]]:
    """The regular files of a folder (recursive), zip or tarball (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz), sorted
    by relative path so that image indices are reproducible. Their readers work while the context is open."""
    p = Path(path)
    kind = source_kind(p)
    if kind == "dir":
        files = sorted(
            (f.relative_to(p).as_posix(), f) for f in p.rglob("*") if f.is_file() or (f.is_symlink() and f.exists())
        )
        yield [SourceFile(name, f.read_bytes) for name, f in files]
    elif kind == "zip":
        with zipfile.ZipFile(p) as zf:
            infos = sorted((i for i in zf.infolist() if not i.is_dir()), key=lambda i: i.filename)
            yield [SourceFile(i.filename.replace("\\", "/"), functools.partial(zf.read, i)) for i in infos]
    else:
        with tarfile.open(p) as tf:
            members = sorted((m for m in tf.getmembers() if m.isfile()), key=lambda m: m.name)
            yield [SourceFile(_clean_member_name(m.name), functools.partial(_read_member, tf, m)) for m in members]


def _read_member(tf: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    f = tf.extractfile(member)
    if f is None:
        raise OSError(f"cannot read {member.name}")
    with f:
        return f.read()


def _clean_member_name(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")

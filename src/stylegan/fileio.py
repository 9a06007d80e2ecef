"""Writing files safely, and recognising files that are not what they claim to be.

Every file the package writes goes through `atomic_write_bytes` (data in memory), `atomic_open` (a writer that
streams into a file object) or `atomic_directory` (a folder filled file by file): the data goes to a temp file or
folder beside the target and is renamed over it only when complete, so a reader never sees a partial result and an
interrupted write leaves nothing behind. What is written has the permissions of a normally created file (0666, or
0777 for a folder, minus the umask), not the private 0600/0700 of `tempfile`.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> with atomic_open(folder / "a.bin") as f:
...     _ = f.write(b"streamed")
>>> (folder / "a.bin").read_bytes(), sorted(p.name for p in folder.iterdir())
(b'streamed', ['a.bin'])
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

#: How an HTML or XML page starts (after an optional byte-order mark and white space), lower-cased.
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<!--", b"<?xml")


def looks_like_html(head: bytes) -> bool:
    """Whether the first bytes of a file or download are an HTML (or XML) page rather than binary data: what a
    download link that needs a login, or has moved, sends instead of the file.

    >>> looks_like_html(b"\\xef\\xbb\\xbf  <!DOCTYPE html><html>"), looks_like_html(b"PK\\x03\\x04")
    (True, False)
    """
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(_HTML_STARTS)


@functools.cache
def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read the umask is to set it; put it back at once
    os.umask(mask)
    return mask


def new_file_mode(directory: bool = False) -> int:
    """The permission bits a newly created file (0666) or folder (0777) gets under the process's umask."""
    return (0o777 if directory else 0o666) & ~_umask()


def _temp_file_beside(path: Path) -> tuple[int, str]:
    """A new temp file in `path`'s folder (created if needed), with normal permissions: (fd, name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, new_file_mode())
    return fd, tmp


@contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temp file beside `path` for binary writing; when the block ends normally it is flushed, fsynced and
    renamed over `path`. When the block raises, the temp file is deleted and `path` is left as it was.

    For writers that stream (`np.savez`, `torch.save`, `zipfile.ZipFile`); data already in memory can use
    `atomic_write_bytes`.
    """
    fd, tmp = _temp_file_beside(Path(path))
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to a temp file beside `path`, fsync, then rename over it: readers never see a partial file.

    >>> import tempfile, stat
    >>> p = Path(tempfile.mkdtemp()) / "x.bin"
    >>> atomic_write_bytes(p, b"abc")
    >>> p.read_bytes(), stat.S_IMODE(p.stat().st_mode) == new_file_mode()
    (b'abc', True)
    """
    with atomic_open(path) as f:
        f.write(data)


@contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temp folder beside `path` to fill; when the block ends normally it is renamed to `path` (which must not
    exist, or be an empty folder). When the block raises, the temp folder and everything in it are deleted.

    >>> import tempfile
    >>> dest = Path(tempfile.mkdtemp()) / "out"
    >>> with atomic_directory(dest) as tmp:
    ...     _ = (tmp / "a.txt").write_text("hi")
    >>> [p.name for p in dest.iterdir()]
    ['a.txt']
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent)
    try:
        os.chmod(tmp, new_file_mode(directory=True))  # mkdtemp's 0700 would make the finished folder private
        yield Path(tmp)
        if dest.exists():
            dest.rmdir()
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


__all__ = ["atomic_directory", "atomic_open", "atomic_write_bytes", "looks_like_html", "new_file_mode"]

"""Writing files safely, and recognising files that are not what they claim to be.

Every file the package writes goes through `atomic_write_bytes` (data in memory), `atomic_open` (a writer that
streams into a file object) or `atomic_directory` (a folder filled file by file): the data goes to a temp file or
folder beside the target and is renamed over it only when complete, so a reader never sees a partial result and an
interrupted write leaves nothing behind. What is written has the permissions of a normally created file (0666, or
0777 for a folder, minus the umask), not the private 0600/0700 of `tempfile`.

Temp names are `.NAME.sg<pid>@<host>_<random>.tmp`. A process killed outright (SIGKILL, a power cut) cannot remove
its temp file; the first write of a later process into the same folder removes the temp files there except those
of a writer still running on this machine or on another one (see `remove_stale_temp_files`).

A failing write (an output path under a file, an unwritable folder, a read-only file system, a full disk) raises
`OutputError`: one line naming the path, e.g. `out/seed0001.png: no space left on device`.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> with atomic_open(folder / "a.bin") as f:
...     _ = f.write(b"streamed")
>>> (folder / "a.bin").read_bytes(), sorted(p.name for p in folder.iterdir())
(b'streamed', ['a.bin'])
"""

from __future__ import annotations

import errno
import functools
import glob
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from .errors import OutputError

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


#: What a failed write says, by errno (other errors give the system's own text).
_WRITE_ERRORS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied (the folder is not writable)",
    errno.EPERM: "operation not permitted",
    errno.EFBIG: "file too large for this file system",
    errno.ENAMETOOLONG: "file name too long",
    errno.EISDIR: "is a folder, not a file",
}


def _file_on_the_way(path: Path) -> Path | None:
    """The first existing ancestor of `path` (or `path` itself, as a folder to write in) that is not a folder."""
    for p in reversed([path, *path.parents]):
        if p.exists() and not p.is_dir():
            return p
    return None


def output_error(path: str | os.PathLike[str], error: OSError) -> OutputError:
    """The one-line `OutputError` for an OSError raised while writing `path`: `PATH: no space left on device`, ...

    >>> str(output_error("out/a.png", OSError(errno.ENOSPC, "No space left on device")))
    'out/a.png: no space left on device'
    """
    if isinstance(error, OutputError):
        return error
    where = Path(path)
    if error.errno in (errno.ENOTDIR, errno.EEXIST) and (blocker := _file_on_the_way(where.parent)) is not None:
        return OutputError(f"{where}: cannot write there: {blocker} is a file, not a folder", error.errno)
    text = _WRITE_ERRORS.get(error.errno or -1) or (error.strerror or str(error)).lower()
    return OutputError(f"{where}: {text}", error.errno)


#: Errors of the file system being written to (not of some other file a writer may read at the same time).
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})


@contextmanager
def writing(path: str | os.PathLike[str], *, disk_only: bool = False) -> Iterator[None]:
    """Turn an OSError raised in the block into the one-line `OutputError` naming `path` (see `output_error`);
    with `disk_only`, only the errors of a full, read-only or size-limited file system.

    >>> with writing("out/x.png"):
    ...     raise OSError(errno.EROFS, "Read-only file system")
    Traceback (most recent call last):
    stylegan.errors.OutputError: out/x.png: read-only file system
    """
    try:
        yield
    except OutputError:
        raise
    except OSError as e:
        if disk_only and e.errno not in _DISK_ERRNOS:
            raise
        raise output_error(path, e) from None


#: The temp-file pattern of this module: `.NAME.TOKEN.tmp`; the token of a running writer is `sg<pid>@<host>_...`.
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<token>[^.]+)\.tmp$")
_TOKEN = re.compile(r"^sg(?P<pid>\d+)@(?P<host>[^_]*)_")
_swept: set[Path] = set()


@functools.cache
def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40]


def _pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: a process of another user
        return True
    return True


#: Suffixes of the files this package writes: a temp name without this module's token (an older version's) is
#: only taken for stale when it is for one of these, so other programs' temp files in the same folder are left alone.
_OUR_SUFFIXES = frozenset(
    ".png .jpg .jpeg .webp .bmp .gif .mp4 .npz .npy .json .jsonl .csv .safetensors .pt .pkl .zip .txt".split()
)


def _is_stale(name: str, token: str, is_dir: bool) -> bool:
    m = _TOKEN.match(token)
    if m is None:  # an older version's temp file (mkstemp's random token)
        return not is_dir and Path(name).suffix.lower() in _OUR_SUFFIXES
    if m["host"] != _host():
        return False  # another machine's writer on a shared file system: it cannot be checked from here
    pid = int(m["pid"])
    return pid != os.getpid() and not _pid_running(pid)


def remove_stale_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temp files (and temp folders) that a killed writer left in `folder`: every `.NAME.TOKEN.tmp`
    entry of this module except those of a writer still running, and the `.NAME.*.tmp` files of earlier versions
    for the kinds of file this package writes (images, videos, arrays, checkpoints, JSON). Returns what was
    removed; a folder that cannot be read is skipped.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / ".x.png.123.tmp").write_bytes(b"partial"); _ = (d / "x.png").write_bytes(b"kept")
    >>> [p.name for p in remove_stale_temp_files(d)], sorted(p.name for p in d.iterdir())
    (['.x.png.123.tmp'], ['x.png'])
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if m is None:
            continue
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if not _is_stale(m["name"], m["token"], is_dir):
            continue
        try:
            if is_dir:
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(Path(entry.path))
    return removed


def _sweep_once(folder: Path) -> None:
    """`remove_stale_temp_files` on the first write of this process into `folder`."""
    key = folder.absolute()
    if key not in _swept:
        _swept.add(key)
        remove_stale_temp_files(folder)


def _temp_stem(path: Path) -> str:
    """`path`'s name for its temp files: a long name is cut in the middle (its start and suffix kept), so that the
    temp name fits the 255-byte limit of file names whenever `path`'s name does."""
    raw = os.fsencode(path.name)
    return path.name if len(raw) <= 180 else os.fsdecode(raw[:90] + b"~" + raw[-89:])


def _temp_name(path: Path) -> Path:
    return path.parent / f".{_temp_stem(path)}.sg{os.getpid()}@{_host()}_{secrets.token_hex(4)}.tmp"


def _make_parent(path: Path) -> None:
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    _sweep_once(path.parent)


def temp_path_beside(path: str | os.PathLike[str]) -> Path:
    """A fresh temp-file name beside `path` (its folder created, stale temp files there removed) for a writer
    that must open the file itself (an external program): write there, then `os.replace` it over `path`, and
    remove it if anything fails. The file is not created."""
    path = Path(path)
    _make_parent(path)
    return _temp_name(path)


def _temp_file_beside(path: Path) -> tuple[int, str]:
    """A new temp file in `path`'s folder (created if needed), with normal permissions: (fd, name)."""
    _make_parent(path)
    with writing(path):
        while True:
            tmp = _temp_name(path)
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
                break
            except FileExistsError:
                continue
        os.fchmod(fd, new_file_mode())
    return fd, str(tmp)


def check_writable(path: str | os.PathLike[str]) -> None:
    """Fail now, with the one-line `OutputError`, if `path` cannot be written (its folder is made if needed, and a
    temp file is created and removed there): for a writer that writes only at the end of a long computation."""
    if Path(path).is_dir():
        raise output_error(path, OSError(errno.EISDIR, "Is a directory"))
    fd, tmp = _temp_file_beside(Path(path))
    os.close(fd)
    os.unlink(tmp)


@contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temp file beside `path` for binary writing; when the block ends normally it is flushed, fsynced and
    renamed over `path`. When the block raises (or a signal interrupts it), the temp file is deleted and `path` is
    left as it was. An OSError of the file system (full, read-only, not writable) becomes an `OutputError` naming
    `path`.

    For writers that stream (`np.savez`, `torch.save`, `zipfile.ZipFile`); data already in memory can use
    `atomic_write_bytes`.
    """
    try:
        fd, tmp = _temp_file_beside(Path(path))
        with writing(path, disk_only=True), os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        with writing(path):
            os.replace(tmp, path)
    except BaseException:
        # Every temp file of this process for `path`, not only `tmp`: Ctrl-C or SIGTERM may arrive after the file
        # is made but before `tmp` is set.
        target = Path(path)
        with suppress(OSError):  # the folder may not exist, or the name be too long for it
            for own in target.parent.glob(glob.escape(f".{_temp_stem(target)}.sg{os.getpid()}@{_host()}_") + "*.tmp"):
                own.unlink(missing_ok=True)
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
    _make_parent(dest)
    tmp = _temp_name(dest)
    try:  # the folder is made inside: a signal right after mkdir still removes it
        with writing(dest):
            tmp.mkdir(mode=0o700)
        with writing(dest):
            os.chmod(tmp, new_file_mode(directory=True))
        yield tmp
        with writing(dest):
            if dest.exists():
                dest.rmdir()
            os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


__all__ = [
    "OutputError",
    "atomic_directory",
    "atomic_open",
    "atomic_write_bytes",
    "check_writable",
    "looks_like_html",
    "new_file_mode",
    "output_error",
    "remove_stale_temp_files",
    "temp_path_beside",
    "writing",
]

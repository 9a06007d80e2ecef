"""Walk the files of a folder, a zip or a tarball in sorted order, without unpacking anything to disk.

Reading is bounded: a file or archive member larger than `MAX_FILE_BYTES` (by its declared size, checked before
anything is read) or a compressed member whose compression ratio marks a decompression bomb is refused with a
short reason; folders are walked without opening anything but regular files (devices, FIFOs and sockets, and links
to them, are never opened); symlinked folders are followed once each, so links back up the tree do not loop.
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import StyleGANError

#: Folder names created by archivers and operating systems that never hold training images.
_JUNK_DIRS = {"__MACOSX", ".git", ".ipynb_checkpoints", "@eaDir"}

#: The largest file or archive member read (declared size): 512 MiB, far above any training image.
MAX_FILE_BYTES = 512 << 20
#: A compressed member larger than `BOMB_MIN_BYTES` that expands more than this many times is refused.
MAX_COMPRESSION_RATIO = 200
BOMB_MIN_BYTES = 4 << 20


class UnreadableFile(OSError):
    """A file or archive member that is refused or cannot be read; the message says why, in a few words."""


def shown(name: str) -> str:
    """A file name as messages show it: as is, or quoted with escapes when it holds a newline or other control
    character (so that a message stays one line).

    >>> shown("a/b.png"), shown("a\\nb.png")
    ('a/b.png', "'a\\\\nb.png'")
    """
    return name if name.isprintable() else repr(name)


def reason(e: BaseException) -> str:
    """An exception's message on one line (its type name when it has none)."""
    return " ".join(str(e).split()) or type(e).__name__


def format_bytes(n: int) -> str:
    """`1536` -> `1.5 KiB`: a byte count for messages.

    >>> format_bytes(512 << 20), format_bytes(10**13), format_bytes(17)
    ('512 MiB', '9.1 TiB', '17 bytes')
    """
    if n < 1024:
        return f"{n} bytes"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        value /= 1024
        if value < 1024 or unit == "PiB":
            break
    return f"{value:.1f} {unit}".replace(".0 ", " ")


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


def _is_regular(path: str | os.PathLike[str]) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def source_kind(path: str | os.PathLike[str]) -> str:
    """'dir', 'zip' or 'tar' for an existing source; a clear error otherwise (nothing but a folder or a regular
    file is opened)."""
    p = Path(path)
    try:
        mode = os.stat(p).st_mode
    except (FileNotFoundError, ValueError):
        raise StyleGANError(f"{p}: no such file or folder") from None
    except OSError as e:  # a link loop, no permission
        raise StyleGANError(f"{p}: cannot read it ({e.strerror or e})") from None
    if stat.S_ISDIR(mode):
        return "dir"
    if not stat.S_ISREG(mode):
        raise StyleGANError(f"{p}: not a folder, a zip archive or a tarball (not a regular file)")
    try:
        if zipfile.is_zipfile(p):
            return "zip"
        if tarfile.is_tarfile(p):
            return "tar"
    except OSError as e:
        raise StyleGANError(f"{p}: cannot read it ({e.strerror or e})") from None
    except Exception:  # a damaged header the archive readers choke on
        pass
    raise StyleGANError(f"{p}: not a folder, a zip archive or a tarball")


def walk_folder(root: str | os.PathLike[str]) -> tuple[list[tuple[str, Path]], list[str]]:
    """The regular files under `root` as sorted `(relative name, path)` pairs, and the names of the entries that
    are skipped because they are not regular files (devices, FIFOs, sockets, links to them, dangling links).

    Symlinked folders are read through their link's name; each real folder is entered once, so link loops end.
    """
    base = Path(root)
    files: list[tuple[str, Path]] = []
    others: list[str] = []
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[str, str]] = [(os.fspath(base), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as it:
                entries = sorted((e.name, e.path) for e in it)
        except OSError:
            if prefix:
                others.append(prefix.rstrip("/"))
            continue
        subfolders = []
        for name, path in entries:
            rel = prefix + name
            try:
                mode = os.stat(path).st_mode  # follows links: what a link points at decides
            except (OSError, ValueError):  # dangling link, link loop, name too long
                others.append(rel)
                continue
            if stat.S_ISDIR(mode):
                subfolders.append((path, rel + "/"))
            elif stat.S_ISREG(mode):
                files.append((rel, Path(path)))
            else:
                others.append(rel)
        stack.extend(reversed(subfolders))
    files.sort()
    return files, sorted(others)


def read_file(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; anything else (a FIFO or device swapped in since the
    folder was listed, a larger file) raises UnreadableFile without blocking or reading it."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnreadableFile("not a regular file")
        if st.st_size > limit:
            raise UnreadableFile(f"too large: {format_bytes(st.st_size)} (at most {format_bytes(limit)})")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise UnreadableFile(f"too large: over {format_bytes(limit)}")
    return data


def read_file_head(path: str | os.PathLike[str], size: int) -> bytes:
    """At most the first `size` bytes of a regular file (UnreadableFile for anything else, without blocking)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnreadableFile("not a regular file")
        return f.read(size)


def check_zip_member(info: zipfile.ZipInfo, limit: int = MAX_FILE_BYTES) -> None:
    """Refuse (UnreadableFile) a zip member whose declared size is over `limit` or whose compression ratio marks
    a decompression bomb, before anything of it is read."""
    if info.file_size > limit:
        raise UnreadableFile(
            f"too large: declares {format_bytes(info.file_size)} uncompressed (at most {format_bytes(limit)})"
        )
    if (
        info.compress_type != zipfile.ZIP_STORED
        and info.file_size > BOMB_MIN_BYTES
        and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
    ):
        ratio = info.file_size / max(info.compress_size, 1)
        raise UnreadableFile(
            f"a decompression bomb: {format_bytes(info.compress_size)} expand to {format_bytes(info.file_size)} "
            f"({ratio:.0f}:1, at most {MAX_COMPRESSION_RATIO}:1)"
        )


def read_zip_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a zip member, size-checked first (`check_zip_member`); never more than its declared size is
    decompressed, whatever the compressed data holds. Any failure is an UnreadableFile."""
    check_zip_member(info, limit)
    try:
        with zf.open(info) as f:
            data = f.read(info.file_size + 1)
    except Exception as e:  # a damaged archive can make zipfile raise anything
        raise UnreadableFile(f"unreadable zip member ({reason(e)})") from None
    if len(data) != info.file_size:
        raise UnreadableFile(f"truncated zip member ({len(data)} of {info.file_size} bytes)")
    return data


def zip_members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The file members of a zip (no folders, no empty names), sorted by name."""
    return sorted((i for i in zf.infolist() if i.filename and not i.filename.endswith("/")), key=lambda i: i.filename)


def open_zip(path: str | os.PathLike[str]) -> zipfile.ZipFile:
    """A zip file opened for reading; a damaged archive is a one-line StyleGANError."""
    try:
        return zipfile.ZipFile(path)
    except Exception as e:  # a damaged archive can make zipfile raise anything
        raise StyleGANError(f"{path}: damaged zip archive ({reason(e)})") from None


@contextlib.contextmanager
def open_source(path: str | os.PathLike[str]) -> Iterator[list[SourceFile]]:
    """The regular files of a folder (recursive), zip or tarball (.tar, .tar.gz, .tgz, .tar.bz2, .tar.xz), sorted
    by relative path so that image indices are reproducible. Their readers work while the context is open; they
    raise UnreadableFile (an OSError) for files that are refused or unreadable."""
    p = Path(path)
    kind = source_kind(p)
    if kind == "dir":
        files, _ = walk_folder(p)
        yield [SourceFile(name, functools.partial(read_file, f)) for name, f in files]
    elif kind == "zip":
        with open_zip(p) as zf:
            infos = zip_members(zf)
            yield [SourceFile(i.filename.replace("\\", "/"), functools.partial(read_zip_member, zf, i)) for i in infos]
    else:
        try:
            tf = tarfile.open(p)
        except Exception as e:  # a damaged archive can make tarfile raise anything
            raise StyleGANError(f"{p}: damaged tarball ({reason(e)})") from None
        with tf:
            members = _tar_members(tf, p)
            yield [SourceFile(_clean_member_name(m.name), functools.partial(_read_member, tf, m)) for m in members]


def _tar_members(tf: tarfile.TarFile, path: Path) -> list[tarfile.TarInfo]:
    """The regular-file members, sorted by name. A compressed tarball cannot skip a member without decompressing
    it, so one that declares more than MAX_FILE_BYTES is refused as a whole."""
    compressed = type(tf.fileobj).__name__ in ("GzipFile", "BZ2File", "LZMAFile")
    members: list[tarfile.TarInfo] = []
    try:
        while (m := tf.next()) is not None:
            if compressed and m.size > MAX_FILE_BYTES:
                raise StyleGANError(
                    f"{path}: member {m.name!r} declares {format_bytes(m.size)} (at most "
                    f"{format_bytes(MAX_FILE_BYTES)}); extract the tarball and remove it"
                )
            if m.isfile():
                members.append(m)
    except StyleGANError:
        raise
    except Exception as e:  # a damaged archive can make tarfile raise anything
        raise StyleGANError(f"{path}: damaged tarball ({reason(e)})") from None
    return sorted(members, key=lambda m: m.name)


def _read_member(tf: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    if member.size > MAX_FILE_BYTES:
        raise UnreadableFile(
            f"too large: declares {format_bytes(member.size)} (at most {format_bytes(MAX_FILE_BYTES)})"
        )
    try:
        f = tf.extractfile(member)
        if f is None:
            raise UnreadableFile(f"cannot read {member.name}")
        with f:
            return f.read(member.size)
    except UnreadableFile:
        raise
    except Exception as e:  # a damaged archive can make tarfile raise anything
        raise UnreadableFile(f"unreadable tar member ({reason(e)})") from None


def _clean_member_name(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")

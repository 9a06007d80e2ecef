"""Keeping freed activation memory for reuse during CPU inference (glibc Linux).

A generator at 512-1024 px allocates activations of 64-256 MB per layer. glibc's malloc serves every block above
32 MB with a fresh mmap and returns it with munmap when freed, so each layer's output is new memory that the kernel
must fault in and zero page by page: about a quarter of a config-F forward pass on a CPU. Inside
`reuse_freed_memory()` large blocks come from the heap instead (M_MMAP_MAX = 0) and freed heap memory is kept
(M_TRIM_THRESHOLD), so each layer reuses the pages of the last one. When the outermost block exits, the kept memory
is handed back (malloc_trim) and glibc's settings are those its own dynamic thresholds reach once a 32 MB block has
been freed (blocks above 32 MB mapped, the heap trimmed above 64 MB free), which is where any PyTorch process soon
is. A loop of many calls (video frames, metrics) wraps the whole loop to keep the memory between calls. Other
platforms (and other C libraries) are left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# mallopt(3) parameters, and the values glibc's dynamic thresholds settle at (setting any parameter ends them)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
_SETTLED_MMAP_THRESHOLD, _SETTLED_TRIM_THRESHOLD, _DEFAULT_MMAP_MAX = 32 << 20, 64 << 20, 65536
_KEEP = 2**31 - 1  # the largest trim threshold: freed heap memory stays with the process inside the block

_lock = threading.Lock()
_depth = 0
_libc: Any = None


def _glibc() -> Any:
    """glibc's handle when this process runs on it, else None (looked up once)."""
    global _libc
    if _libc is None:
        _libc = False
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                lib.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                lib.mallopt.restype = ctypes.c_int
                _libc = lib
            except (OSError, AttributeError):
                pass
    return _libc or None


def _set(*settings: tuple[int, int]) -> None:
    libc = _glibc()
    if libc is not None:
        for param, value in settings:
            libc.mallopt(param, value)


@contextmanager
def reuse_freed_memory() -> Iterator[None]:
    """Inside this block (nestable, thread-safe) large CPU allocations reuse freed heap memory instead of fresh
    mmaps; the memory is handed back when the outermost block exits (glibc only; elsewhere a no-op). Results are
    unchanged: only where the memory comes from differs."""
    global _depth
    with _lock:
        _depth += 1
        if _depth == 1:
            _set((_M_TRIM_THRESHOLD, _KEEP), (_M_MMAP_MAX, 0))
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _set(
                    (_M_MMAP_MAX, _DEFAULT_MMAP_MAX),
                    (_M_MMAP_THRESHOLD, _SETTLED_MMAP_THRESHOLD),
                    (_M_TRIM_THRESHOLD, _SETTLED_TRIM_THRESHOLD),
                )
                libc = _glibc()
                if libc is not None:
                    libc.malloc_trim(0)


__all__ = ["reuse_freed_memory"]

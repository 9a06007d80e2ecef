"""Image conversion and writing: float [-1, 1] NCHW tensors <-> uint8 NHWC arrays, grids, atomic PNG writes."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor


def to_uint8(img: Tensor) -> np.ndarray:
    """[N, C, H, W] float in [-1, 1] -> [N, H, W, C] uint8, quantised as NVIDIA's tools do: (x * 127.5 + 128)."""
    x = (img.detach().to(torch.float32) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def to_pil(array: np.ndarray) -> Image.Image:
    """[H, W, C] uint8 with 1, 3 or 4 channels -> PIL image (1 channel gives a grayscale 'L' image)."""
    if array.ndim == 3 and array.shape[2] == 1:
        return Image.fromarray(array[:, :, 0], "L")
    if array.ndim == 3 and array.shape[2] == 2:
        return Image.fromarray(array, "LA")
    return Image.fromarray(array)


def make_grid(images: np.ndarray, rows: int, cols: int, *, pad: int = 0, fill: int = 0) -> np.ndarray:
    """Tile up to rows*cols images [N, H, W, C] row-major into one [rows*H, cols*W, C] array (empty cells = fill)."""
    n, h, w, c = images.shape
    if n > rows * cols:
        raise ValueError(f"{n} images do not fit a {rows}x{cols} grid")
    grid = np.full((rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad, c), fill, dtype=images.dtype)
    for i in range(n):
        r, k = divmod(i, cols)
        grid[r * (h + pad) : r * (h + pad) + h, k * (w + pad) : k * (w + pad) + w] = images[i]
    return grid


@functools.cache
def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _new_file_mode() -> int:
    return 0o666 & ~_umask()


def temp_file_beside(path: Path) -> tuple[int, str]:
    """A new temp file in `path`'s folder (created if needed) for an atomic write: (fd, name).

    Its permissions are those of a normally created file (0666 minus the umask), not mkstemp's private 0600, so the
    renamed result is as readable as any other file the user writes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, _new_file_mode())
    return fd, tmp


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to a temp file beside `path`, fsync, then rename over it: readers never see a partial file.

    >>> import tempfile, stat
    >>> p = Path(tempfile.mkdtemp()) / "x.bin"
    >>> atomic_write_bytes(p, b"abc")
    >>> p.read_bytes(), stat.S_IMODE(p.stat().st_mode) == _new_file_mode()
    (b'abc', True)
    """
    path = Path(path)
    fd, tmp = temp_file_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_image(array: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Save an [H, W, C] uint8 array as PNG (or any format PIL knows from the suffix), atomically."""
    import io

    path = Path(path)
    buf = io.BytesIO()
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}.get(path.suffix.lower(), "PNG")
    to_pil(array).save(buf, format=fmt)
    atomic_write_bytes(path, buf.getvalue())
    return path

"""Image conversion and writing: float [-1, 1] NCHW tensors <-> uint8, grids, atomic image writes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from .fileio import atomic_write_bytes

#: File name suffixes read as images (lower case) when a folder of images is given.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp"})


def to_uint8(img: Tensor) -> np.ndarray:
    """[N, C, H, W] float in [-1, 1] -> [N, H, W, C] uint8, quantised as NVIDIA's tools do: (x * 127.5 + 128)."""
    x = (img.detach().to(torch.float32) * 127.5 + 128).clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def from_uint8(img: Tensor) -> Tensor:
    """Pixel values in [0, 255] (uint8 or float) -> float in [-1, 1]: x / 127.5 - 1, the inverse of `to_uint8`'s
    scaling (layout unchanged).

    >>> from_uint8(torch.tensor([0, 255], dtype=torch.uint8)).tolist()
    [-1.0, 1.0]
    """
    return img / 127.5 - 1


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


def save_image(array: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Save an [H, W, C] uint8 array as PNG (or any format PIL knows from the suffix), atomically."""
    import io

    path = Path(path)
    buf = io.BytesIO()
    fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}.get(path.suffix.lower(), "PNG")
    to_pil(array).save(buf, format=fmt)
    atomic_write_bytes(path, buf.getvalue())
    return path

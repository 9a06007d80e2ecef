"""Pure functions on latents: seeds -> z, labels, truncation, style mixing, interpolation."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import Tensor

#: What `np.load` (allow_pickle=False) and reading its arrays raise on a damaged or hostile .npz/.npy file: a
#: header declaring a huge array fails to allocate (MemoryError), a damaged zip fails in zipfile, an empty one at EOF.
NPZ_ERRORS = (KeyError, ValueError, OSError, EOFError, MemoryError, zipfile.BadZipFile)


def _bound(x: int | None, infinite: str) -> str:
    if x is None:
        return infinite
    return f"2**{x.bit_length() - 1}" if x >= 2**16 and x & (x - 1) == 0 else str(x)


def parse_range(
    text: str,
    *,
    lo: int | None = None,
    hi: int | None = None,
    max_count: int | None = 1_000_000,
    what: str = "numbers",
) -> list[int]:
    """Parse `0-3,7,10-12` into [0, 1, 2, 3, 7, 10, 11, 12] (ranges inclusive, order kept).

    Every number must be in [lo, hi) when those are given, and there may be at most `max_count` numbers in all:
    both are checked on the range ends, before any list is made.

    >>> parse_range("0-1000000000", max_count=1000)
    Traceback (most recent call last):
    ValueError: '0-1000000000' holds 1000000001 numbers, more than 1000
    >>> parse_range("7,4294967296", lo=0, hi=2**32, what="seeds")
    Traceback (most recent call last):
    ValueError: 4294967296 is out of range: seeds must be in [0, 2**32)
    """
    pairs: list[tuple[int, int]] = []
    count = 0
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        first, sep, last = part.partition("-")
        if sep and first and last:
            try:
                a, b = int(first), int(last)
            except ValueError:
                raise ValueError(f"not an integer range: {part[:40]!r} (expected e.g. 0-3,7)") from None
            if b < a:
                raise ValueError(f"range {part[:40]!r} runs backwards")
        else:
            try:
                a = b = int(part)
            except ValueError:
                raise ValueError(f"not an integer: {part[:40]!r} (expected e.g. 0-3,7)") from None
        for x in (a, b):
            if (lo is not None and x < lo) or (hi is not None and x >= hi):
                bounds = f"[{_bound(lo, '-inf')}, {_bound(hi, 'inf')})"
                raise ValueError(f"{x} is out of range: {what} must be in {bounds}")
        count += b - a + 1
        if max_count is not None and count > max_count:
            raise ValueError(f"{str(text)[:60]!r} holds {count} {what}, more than {max_count}")
        pairs.append((a, b))
    if not pairs:
        raise ValueError(f"no numbers in {str(text)[:40]!r}")
    return [x for a, b in pairs for x in range(a, b + 1)]


def seed_to_z(seed: int, z_dim: int) -> np.ndarray:
    """z for a seed, exactly as NVIDIA's scripts draw it: `RandomState(seed).randn(1, z_dim)` (float64)."""
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    return np.random.RandomState(seed).randn(1, z_dim)


def seeds_to_z(seeds: Iterable[int], z_dim: int, device: torch.device | str = "cpu") -> Tensor:
    """[N, z_dim] float32 tensor, one row per seed."""
    z = np.concatenate([seed_to_z(int(s), z_dim) for s in seeds], axis=0)
    return torch.from_numpy(z).to(device=device, dtype=torch.float32)


def class_labels(c_dim: int, class_idx: int | None, n: int, device: torch.device | str = "cpu") -> Tensor | None:
    """One-hot labels [n, c_dim] for a conditional network, None for an unconditional one."""
    if c_dim == 0:
        if class_idx is not None:
            raise ValueError("this network is unconditional: do not pass a class")
        return None
    if class_idx is None:
        raise ValueError(f"this network is conditional ({c_dim} classes): pick a class with --class 0..{c_dim - 1}")
    if not 0 <= class_idx < c_dim:
        raise ValueError(f"class {class_idx} is out of range: this network has classes 0..{c_dim - 1}")
    c = torch.zeros(n, c_dim, device=device)
    c[:, class_idx] = 1
    return c


def seed_class_labels(
    c_dim: int, class_idx: int | None, seeds: Sequence[int], device: torch.device | str = "cpu"
) -> Tensor | None:
    """Labels [N, c_dim] for images made from seeds: `class_idx` for all, or, on a conditional network with no class
    given, class `seed % c_dim` for each seed (so a range of seeds shows every class, reproducibly).

    >>> seed_class_labels(3, None, [0, 1, 5]).argmax(1).tolist()
    [0, 1, 2]
    >>> seed_class_labels(0, None, [0]) is None
    True
    """
    if c_dim == 0 or class_idx is not None:
        return class_labels(c_dim, class_idx, len(seeds), device)
    c = torch.zeros(len(seeds), c_dim, device=device)
    c[torch.arange(len(seeds)), torch.tensor([int(s) % c_dim for s in seeds], dtype=torch.long)] = 1
    return c


def truncate(ws: Tensor, w_avg: Tensor, psi: float, cutoff: int | None = None) -> Tensor:
    """w' = w̄ + psi (w - w̄) on layers < cutoff (all layers when cutoff is None). ws: [N, num_ws, w_dim]."""
    out = ws.clone()
    k = ws.shape[1] if cutoff is None else cutoff
    out[:, :k] = w_avg.lerp(ws[:, :k], psi)
    return out


def mix_styles(ws_base: Tensor, ws_other: Tensor, layers: Sequence[int]) -> Tensor:
    """Copy the given layer indices from `ws_other` into a copy of `ws_base` (both [N, num_ws, w_dim])."""
    out = ws_base.clone()
    idx = list(layers)
    if idx:
        bad = [i for i in idx if not 0 <= i < ws_base.shape[1]]
        if bad:
            raise ValueError(f"layer indices {bad} are out of range: this network has layers 0..{ws_base.shape[1] - 1}")
        out[:, idx] = ws_other[:, idx]
    return out


def layer_preset(name: str, num_ws: int) -> list[int]:
    """Named layer ranges: coarse (4-8 px), middle (16-32 px), fine (64 px and up), or a range like `5-8`."""
    coarse = list(range(min(4, num_ws)))
    middle = list(range(min(4, num_ws), min(8, num_ws)))
    fine = list(range(min(8, num_ws), num_ws))
    presets = {"coarse": coarse, "middle": middle, "fine": fine, "all": list(range(num_ws))}
    if name in presets:
        return presets[name]
    try:
        layers = parse_range(name, max_count=10_000)
    except ValueError as e:
        raise ValueError(f"layers {name[:40]!r}: {e}") from None
    bad = sorted({i for i in layers if not 0 <= i < num_ws})
    if bad:
        shown = ", ".join(map(str, bad[:8])) + (", ..." if len(bad) > 8 else "")
        raise ValueError(f"layer indices [{shown}] are out of range: this network has layers 0..{num_ws - 1}")
    return layers


def layer_resolutions(num_ws: int, img_resolution: int, version: int = 2) -> list[int]:
    """The resolution each w index drives (0-based), e.g. to label per-layer controls.

    StyleGAN (version 1) feeds two indices per resolution from 4 px: index i drives 4 * 2^(i // 2). StyleGAN2
    feeds index 0 to the 4 px convolution and then two convolutions per resolution, the ToRGB layer of each block
    sharing the next block's first index: index i drives 4 * 2^((i + 1) // 2), the last index being the final ToRGB.

    >>> layer_resolutions(10, 64, version=1)[5], layer_resolutions(10, 64, version=1)[8]
    (16, 64)
    >>> layer_resolutions(14, 256)
    [4, 8, 8, 16, 16, 32, 32, 64, 64, 128, 128, 256, 256, 256]
    """
    if version == 1:
        return [min(img_resolution, 4 * 2 ** (i // 2)) for i in range(num_ws)]
    return [min(img_resolution, 4 * 2 ** ((i + 1) // 2)) for i in range(num_ws)]


def lerp(a: Tensor, b: Tensor, t: float | Tensor) -> Tensor:
    return a + (b - a) * t


def slerp(a: Tensor, b: Tensor, t: float | Tensor, eps: float = 1e-7) -> Tensor:
    """Spherical interpolation of the normalised directions of a and b (as in the PPL protocol), last dim."""
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    d = (a * b).sum(dim=-1, keepdim=True).clamp(-1 + eps, 1 - eps)
    p = t * torch.acos(d)
    c = b - d * a
    c = c / c.norm(dim=-1, keepdim=True)
    return a * torch.cos(p) + c * torch.sin(p)

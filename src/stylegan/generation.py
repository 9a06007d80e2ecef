"""User-level generation workflows: images by seed, rendering saved latents, style-mixing figures."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .errors import StyleGANError
from .images import make_grid, save_image, to_pil, to_uint8
from .latents import mix_styles, seed_class_labels, seeds_to_z, truncate
from .networks import Generator
from .networks.synthesis import NoiseMode
from .progress import progress_bar


@dataclass
class GeneratedImages:
    """A batch of generated images: `images` [N, H, W, C] uint8 plus the seeds (or latent indices) they came from."""

    images: np.ndarray
    seeds: list[int]
    ws: Tensor | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.images)

    def to_pil(self) -> list:
        """The images as PIL images (grayscale networks give mode 'L')."""
        return [to_pil(img) for img in self.images]

    def grid(self, rows: int | None = None, cols: int | None = None) -> np.ndarray:
        """All images tiled row-major into one [rows*H, cols*W, C] array (a near-square grid by default)."""
        rows, cols = _grid_shape(len(self), rows, cols)
        return make_grid(self.images, rows, cols)

    def save(self, outdir: str | os.PathLike[str], pattern: str = "seed{seed:04d}.png") -> list[Path]:
        """Write one file per image; `pattern` may use {seed} and {index}."""
        outdir = Path(outdir)
        return [
            save_image(img, outdir / pattern.format(seed=seed, index=i))
            for i, (img, seed) in enumerate(zip(self.images, self.seeds))
        ]

    def save_grid(self, path: str | os.PathLike[str], rows: int | None = None, cols: int | None = None) -> Path:
        return save_image(self.grid(rows, cols), path)


def _grid_shape(n: int, rows: int | None, cols: int | None) -> tuple[int, int]:
    if rows is None and cols is None:
        cols = int(np.ceil(np.sqrt(n)))
    if rows is None:
        assert cols is not None
        rows = int(np.ceil(n / cols))
    if cols is None:
        cols = int(np.ceil(n / rows))
    if rows * cols < n:
        raise StyleGANError(f"a {rows}x{cols} grid holds {rows * cols} images but there are {n}")
    return rows, cols


def _device_of(G: torch.nn.Module) -> torch.device:
    return next(G.parameters()).device


@torch.no_grad()
def seeds_to_ws(
    G: Generator,
    seeds: Sequence[int],
    *,
    psi: float = 1.0,
    truncation_cutoff: int | None = None,
    class_idx: int | None = None,
) -> Tensor:
    """Map seeds to truncated latents ws [N, num_ws, w_dim] (z drawn as NVIDIA's scripts draw it).

    A conditional network with no `class_idx` gives seed s the class s % c_dim (see `seed_class_labels`).
    """
    device = _device_of(G)
    try:
        c = seed_class_labels(G.c_dim, class_idx, seeds, device)
    except ValueError as e:
        raise StyleGANError(str(e)) from None
    z = seeds_to_z(seeds, G.z_dim, device)
    return G.mapping(z, c, truncation_psi=psi, truncation_cutoff=truncation_cutoff)


@torch.no_grad()
def synthesize(
    G: Generator,
    ws: Tensor,
    *,
    noise_mode: NoiseMode = "const",
    batch_size: int = 8,
    progress: bool | None = None,
    desc: str = "generating",
) -> np.ndarray:
    """Render latents ws [N, num_ws, w_dim] in batches -> uint8 [N, H, W, C]."""
    if ws.ndim != 3 or ws.shape[1:] != (G.num_ws, G.w_dim):
        raise StyleGANError(f"latents have shape {list(ws.shape)} but this network needs [N, {G.num_ws}, {G.w_dim}]")
    device = _device_of(G)
    out = []
    bar = progress_bar(len(ws), desc, enabled=progress)
    try:
        for start in range(0, len(ws), batch_size):
            imgs = G.synthesis(ws[start : start + batch_size].to(device), noise_mode=noise_mode)
            out.append(to_uint8(imgs))
            bar.update(len(imgs))
    finally:
        bar.close()
    if not out:
        return np.zeros((0, G.img_resolution, G.img_resolution, G.img_channels), dtype=np.uint8)
    return np.concatenate(out, axis=0)


def generate(
    G: Generator,
    seeds: Iterable[int],
    *,
    psi: float = 1.0,
    truncation_cutoff: int | None = None,
    class_idx: int | None = None,
    noise_mode: NoiseMode = "const",
    batch_size: int = 8,
    progress: bool | None = None,
) -> GeneratedImages:
    """Generate one image per seed.

    Truncation w' = w̄ + psi (w - w̄) on the first `truncation_cutoff` layers (all by default). Seed s gives the
    same image as NVIDIA's `generate.py --seeds s --noise-mode const` on the same network.

    >>> from stylegan.testing import tiny_generator
    >>> imgs = generate(tiny_generator(), seeds=[0, 1, 2], psi=0.7)
    >>> imgs.images.shape, imgs.images.dtype.name
    ((3, 16, 16, 3), 'uint8')
    """
    seeds = [int(s) for s in seeds]
    ws = seeds_to_ws(G, seeds, psi=psi, truncation_cutoff=truncation_cutoff, class_idx=class_idx)
    images = synthesize(G, ws, noise_mode=noise_mode, batch_size=batch_size, progress=progress)
    return GeneratedImages(images=images, seeds=seeds, ws=ws.cpu())


def load_latents(path: str | os.PathLike[str]) -> Tensor:
    """Read ws [N, num_ws, w_dim] from a `projected_w.npz` (key `w`) or a .npy file."""
    path = Path(path)
    if not path.is_file():
        raise StyleGANError(f"{path}: no such file")
    try:
        data = np.load(path, allow_pickle=False)
        w = data["w"] if isinstance(data, np.lib.npyio.NpzFile) else data
    except (KeyError, ValueError, OSError) as e:
        raise StyleGANError(f"{path}: not a latent file with an array 'w' ({e})") from None
    w = np.asarray(w, dtype=np.float32)
    if w.ndim == 2:
        w = w[None]
    if w.ndim != 3:
        raise StyleGANError(f"{path}: expected latents of shape [N, num_ws, w_dim], got {list(w.shape)}")
    return torch.from_numpy(w)


@dataclass
class StyleMix:
    """A style-mixing figure: row images take the layers in `layers` from the column images."""

    grid: np.ndarray  # [(R+1)*H, (C+1)*W, C] with the column images on top and the row images on the left
    images: dict[tuple[int, int], np.ndarray]  # (row_seed, col_seed) -> image; (s, s) is seed s unmixed
    row_seeds: list[int]
    col_seeds: list[int]
    layers: list[int]

    def save(self, outdir: str | os.PathLike[str], grid_name: str = "grid.png") -> list[Path]:
        """Write `grid.png` and `{row}-{col}.png` for every pair (NVIDIA's file names)."""
        outdir = Path(outdir)
        paths = [save_image(img, outdir / f"{r}-{c}.png") for (r, c), img in self.images.items()]
        paths.append(save_image(self.grid, outdir / grid_name))
        return paths


@torch.no_grad()
def style_mix(
    G: Generator,
    row_seeds: Sequence[int],
    col_seeds: Sequence[int],
    layers: Sequence[int] = tuple(range(7)),
    *,
    psi: float = 1.0,
    truncation_cutoff: int | None = None,
    class_idx: int | None = None,
    noise_mode: NoiseMode = "const",
    batch_size: int = 8,
    progress: bool | None = None,
) -> StyleMix:
    """Style mixing (StyleGAN §3.1): each row seed's latents with `layers` replaced by each column seed's.

    >>> from stylegan.testing import tiny_generator
    >>> mix = style_mix(tiny_generator(), [1, 2], [3, 4, 5], layers=[0, 1])
    >>> mix.grid.shape
    (48, 64, 3)
    """
    row_seeds, col_seeds, layers = [int(s) for s in row_seeds], [int(s) for s in col_seeds], [int(i) for i in layers]
    if not row_seeds or not col_seeds:
        raise StyleGANError("style mixing needs at least one row seed and one column seed")
    all_seeds = list(dict.fromkeys(row_seeds + col_seeds))
    ws_all = seeds_to_ws(G, all_seeds, psi=psi, truncation_cutoff=truncation_cutoff, class_idx=class_idx)
    w_of = {s: ws_all[i : i + 1] for i, s in enumerate(all_seeds)}
    try:
        mixed = [mix_styles(w_of[r], w_of[c], layers) for r in row_seeds for c in col_seeds]
    except ValueError as e:
        raise StyleGANError(str(e)) from None
    ws = torch.cat([ws_all] + mixed, dim=0)
    imgs = synthesize(G, ws, noise_mode=noise_mode, batch_size=batch_size, progress=progress, desc="mixing")
    images: dict[tuple[int, int], np.ndarray] = {(s, s): imgs[i] for i, s in enumerate(all_seeds)}
    k = len(all_seeds)
    for r in row_seeds:
        for c in col_seeds:
            images[(r, c)] = imgs[k]
            k += 1
    h, w, ch = imgs.shape[1:]
    cells = np.zeros(((len(row_seeds) + 1) * (len(col_seeds) + 1), h, w, ch), dtype=np.uint8)
    ncols = len(col_seeds) + 1
    for j, c in enumerate(col_seeds):
        cells[j + 1] = images[(c, c)]
    for i, r in enumerate(row_seeds):
        cells[(i + 1) * ncols] = images[(r, r)]
        for j, c in enumerate(col_seeds):
            cells[(i + 1) * ncols + j + 1] = images[(r, c)]
    grid = make_grid(cells, len(row_seeds) + 1, ncols)
    return StyleMix(grid=grid, images=images, row_seeds=row_seeds, col_seeds=col_seeds, layers=layers)


__all__ = [
    "GeneratedImages",
    "StyleMix",
    "generate",
    "load_latents",
    "seeds_to_ws",
    "style_mix",
    "synthesize",
    "truncate",
]

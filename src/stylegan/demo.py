"""The newcomer's demo: a grid of images, a style-mixing figure and an interpolation video, in one call.

`make demo` (or `stylegan demo --outdir demo`) runs `run_demo` on the network bundled with the package, so it works
offline on a CPU in well under a minute. Small networks are upscaled (nearest neighbour, whole pixels) so the
pictures are big enough to look at.

>>> import tempfile
>>> from stylegan.testing import tiny_generator
>>> result = run_demo(tempfile.mkdtemp(), G=tiny_generator(), fast=True, progress=False)
>>> [p.name for p in result.files][:3]
['grid.png', 'mix.png', 'walk.gif']
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .device import DeviceName, pick_device
from .errors import StyleGANError
from .generation import generate, style_mix
from .images import save_image
from .latents import layer_preset

if TYPE_CHECKING:
    from .networks import Generator

#: Smallest side, in pixels, of one image in the demo's figures (smaller networks are upscaled to it).
MIN_CELL = 96


@dataclass
class DemoResult:
    """What `run_demo` wrote, and how."""

    outdir: Path
    files: list[Path] = field(default_factory=list)
    network: str = ""
    scale: int = 1
    notes: list[str] = field(default_factory=list)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling by a whole factor (keeps every generated pixel sharp).

    >>> upscale(np.arange(4, dtype=np.uint8).reshape(2, 2, 1), 2)[..., 0].tolist()
    [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]]
    """
    if factor == 1:
        return image
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def _video_available() -> bool:
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False
    return True


def run_demo(
    outdir: str | os.PathLike[str],
    network: str | None = None,
    *,
    G: Generator | None = None,
    psi: float = 0.7,
    seeds: Sequence[int] = range(64),
    mix_rows: Sequence[int] = (9, 19, 29, 39),
    mix_cols: Sequence[int] = (5, 14, 24, 33, 42, 51),
    mix_layers: str = "coarse",
    video_seeds: Sequence[int] = range(100, 112),
    video_grid: tuple[int, int] = (2, 2),
    frames_per_key: int = 16,
    fps: float = 16.0,
    fast: bool = False,
    device: DeviceName | str | torch.device | None = None,
    progress: bool | None = None,
) -> DemoResult:
    """Write `grid.png` (seeds as an image grid), `mix.png` (style mixing: rows take the columns' `mix_layers`
    styles), `walk.gif` and, when imageio-ffmpeg is installed, `walk.mp4` (a looping interpolation grid) into
    `outdir`.

    Args:
        outdir: folder to write (created).
        network: registry name, file or URL; None = the network bundled with the package. Ignored when `G` is given.
        G: an already loaded generator.
        psi: truncation (0.7 trades variety for cleaner images; 1 = none).
        seeds, mix_rows, mix_cols, video_seeds: which seeds each figure shows (a conditional network with no class
            gives seed s the class s % c_dim, so the defaults show every class).
        mix_layers: layers taken from the column images: coarse, middle, fine or a range like `0-3`.
        video_grid: rows x cols of independent walks in the video; the video seeds are dealt over its cells.
        frames_per_key, fps: video pacing.
        fast: a quick check (fewer images and frames), for tests.
        device: cpu, cuda, mps, auto or None (the best available), or a torch.device.
        progress: progress bars (None = when there are many images).
    """
    from .editing.latent_ops import parse_layers
    from .io import load, resolve_network
    from .video import interpolation_frames, interpolation_ws, write_video

    outdir = Path(outdir)
    if G is None:
        network = resolve_network(network or None)
        G = load(network, device=pick_device(device))
    name = network or "(given network)"
    if fast:
        seeds, mix_rows, mix_cols = list(seeds)[:16], list(mix_rows)[:2], list(mix_cols)[:3]
        video_seeds, frames_per_key = list(video_seeds)[: 2 * video_grid[0] * video_grid[1]], 2
    seeds = [int(s) for s in seeds]
    scale = max(1, math.ceil(MIN_CELL / G.img_resolution))
    result = DemoResult(outdir=outdir, network=name, scale=scale)

    images = generate(G, seeds=seeds, psi=psi, progress=progress)
    side = math.ceil(math.sqrt(len(seeds)))
    grid = images.grid(math.ceil(len(seeds) / side), side)
    result.files.append(save_image(upscale(grid, scale), outdir / "grid.png"))

    try:
        layers = (
            parse_layers(mix_layers, G.num_ws)
            if mix_layers not in ("coarse", "middle", "fine")
            else (layer_preset(mix_layers, G.num_ws))
        )
    except ValueError as e:
        raise StyleGANError(str(e)) from None
    mix = style_mix(G, mix_rows, mix_cols, layers, psi=psi, progress=progress)
    result.files.append(save_image(upscale(mix.grid, scale), outdir / "mix.png"))

    rows, cols = video_grid
    cells = rows * cols
    keys = [int(s) for s in video_seeds]
    if len(keys) < 2 * cells:
        raise StyleGANError(f"a {rows}x{cols} video needs at least {2 * cells} seeds, got {len(keys)}")
    walks = [
        interpolation_ws(G, seeds=keys[j::cells], interp="cubic-w", frames_per_key=frames_per_key, loop=True, psi=psi)
        for j in range(cells)
    ]
    formats = [".gif"] + ([".mp4"] if _video_available() else [])
    if not _video_available():
        result.notes.append("walk.mp4 skipped: MP4 needs imageio-ffmpeg (pip install 'stylegan[video]')")
    from .progress import progress_bar

    bar = progress_bar(len(walks[0]), "video frames", unit="frame", enabled=progress)
    frames = []
    for frame in interpolation_frames(G, walks, grid=video_grid):  # rendered once, written in every format
        frames.append(upscale(frame, scale))
        bar.update(1)
    bar.close()
    for suffix in formats:
        result.files.append(write_video(outdir / f"walk{suffix}", frames, fps=fps, progress=False))
    return result


__all__ = ["DemoResult", "run_demo", "upscale"]

"""User-level generation workflows: images by seed, rendering saved latents, style-mixing figures.

`generate` returns the images in memory (for a notebook or a script); `iter_generate` yields them batch by batch and
`generate_files` writes each batch as soon as it is made (what `stylegan generate` does): the first files appear
after the first batch, and an interrupted run keeps every file it finished. The size of the work is checked before it
starts: at most `MAX_IMAGES` images per call, at most `MAX_GRID_PIXELS` pixels in a grid image.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Generator as PythonGenerator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .compiling import maybe_compile, warn_once
from .errors import SettingError, StyleGANError
from .fileio import check_writable
from .images import make_grid, save_image, to_pil, to_uint8
from .infocodes import info_labels, network_info_labels
from .latents import NPZ_ERRORS, mix_styles, seed_class_labels, seeds_to_z, truncate
from .networks import Generator
from .networks.synthesis import NoiseMode
from .nn.memory import reuse_freed_memory
from .precision import PRECISIONS, Precision, autocast
from .progress import progress_bar

#: The most images one call makes: more is surely a typo (`0-1000000000`) and is refused before any work.
MAX_IMAGES = 1_000_000
#: The most pixels one grid image may have: 2**28 is a 16x16 grid of 1024x1024 images (768 MiB as RGB).
MAX_GRID_PIXELS = 2**28
#: The most bytes of images `generate` returns in memory where the machine's memory cannot be read (elsewhere: half
#: of the physical memory); more is written with `generate_files` instead.
MAX_IN_MEMORY_BYTES = 8 * 2**30


def _in_memory_limit() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows), or the value is not known
        return MAX_IN_MEMORY_BYTES


#: Seeds mapped to latents together (rounded up to whole batches): up to this many, the latents are exactly those of
#: mapping all seeds at once.
MAPPING_CHUNK = 1024


def check_seeds(seeds: Iterable[int], setting: str = "seeds") -> list[int]:
    """The seeds as a list of ints, each in [0, 2**32) (numpy's RandomState), at most `MAX_IMAGES`, at least one.

    >>> check_seeds([3, 2**32])
    Traceback (most recent call last):
    stylegan.errors.SettingError: seeds: seed 4294967296 is out of range: seeds must be in [0, 2**32)
    """
    out: list[int] = []
    for s in seeds:
        if len(out) >= MAX_IMAGES:
            raise SettingError(f"{{{setting}}}: more than {MAX_IMAGES} seeds in one call; split the work", setting)
        seed = int(s)
        if not 0 <= seed < 2**32:
            raise SettingError(f"{{{setting}}}: seed {seed} is out of range: seeds must be in [0, 2**32)", setting)
        out.append(seed)
    if not out:
        raise SettingError(f"{{{setting}}}: no seeds given", setting)
    return out


def check_grid_pixels(rows: int, cols: int, height: int, width: int, setting: str = "grid") -> None:
    """Refuse a grid image of more than `MAX_GRID_PIXELS` pixels before it is allocated.

    >>> check_grid_pixels(16, 16, 1024, 1024)  # the largest grid of 1024x1024 images
    >>> check_grid_pixels(10**5, 10**5, 16, 16)
    Traceback (most recent call last):
    stylegan.errors.SettingError: grid: a 100000x100000 grid of 16x16 images has 2560000000000 pixels, more than ...
    """
    pixels = rows * cols * height * width
    if pixels > MAX_GRID_PIXELS:
        raise SettingError(
            f"{{{setting}}}: a {rows}x{cols} grid of {height}x{width} images has {pixels} pixels, more than "
            f"{MAX_GRID_PIXELS}",
            setting,
        )


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
        check_grid_pixels(rows, cols, *self.images.shape[1:3])
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
    if rows < 1 or cols < 1:
        raise SettingError(f"{{grid}}: a grid needs at least one row and one column, got {rows}x{cols}", "grid")
    if rows * cols < n:
        raise StyleGANError(f"a {rows}x{cols} grid holds {rows * cols} images but there are {n}")
    return rows, cols


def _device_of(G: torch.nn.Module) -> torch.device:
    return next(G.parameters()).device


Render = Callable[[Tensor, NoiseMode], Tensor]


def synthesis_function(
    G: Generator, *, precision: Precision = "fp32", compile: bool = False, warn: Callable[[str], None] = warn_once
) -> Render:
    """`render(ws, noise_mode)` -> float32 images: G's synthesis network as generation runs it, on G's device.

    precision "fp32" computes in float32 throughout (the float16 blocks of a network with `num_fp16_res` too): the
    reference images. "bf16" runs it under bfloat16 autocast, for fast previews on hardware with native bfloat16
    (`stylegan.precision.native_bf16`): the images are NOT bit-identical to float32 ones (a few levels of 255 differ
    here and there). `compile` runs it through `torch.compile` (`stylegan.compiling`; a failure is told through
    `warn` and it runs uncompiled)."""
    if precision not in PRECISIONS:
        raise SettingError(f"{{precision}} must be one of {', '.join(PRECISIONS)}, got {precision!r}", "precision")
    device = _device_of(G)
    run = maybe_compile(G.synthesis, "the synthesis network", compile, warn=warn)

    def render(ws: Tensor, noise_mode: NoiseMode) -> Tensor:
        with autocast(device, precision):
            images = run(ws.to(device), noise_mode=noise_mode, force_fp32=True)
        return images.float()

    return render


@torch.no_grad()
def seeds_to_ws(
    G: Generator,
    seeds: Sequence[int],
    *,
    psi: float = 1.0,
    truncation_cutoff: int | None = None,
    class_idx: int | None = None,
    z_fn: Callable[[Sequence[int]], Tensor] | None = None,
    labels: Tensor | None = None,
) -> Tensor:
    """Map seeds to truncated latents ws [N, num_ws, w_dim] (z drawn as NVIDIA's scripts draw it, or by
    `z_fn(seeds)` -> [N, z_dim] when given, e.g. a Z-code generator's `stylegan.customise.zgen_latents`).

    A conditional network with no `class_idx` gives seed s the class s % c_dim (see `seed_class_labels`); `labels`
    ([c_dim] for every seed, or [N, c_dim]) gives the label vectors instead, e.g. `info_labels` of an
    Info-StyleGAN network's codes.
    """
    device = _device_of(G)
    c: Tensor | None
    if labels is not None:
        c = _seed_labels(G, labels, len(seeds), device)
    else:
        try:
            c = seed_class_labels(G.c_dim, class_idx, seeds, device)
        except ValueError as e:
            raise StyleGANError(str(e)) from None
    z = seeds_to_z(seeds, G.z_dim, device) if z_fn is None else z_fn(seeds).to(device)
    return G.mapping(z, c, truncation_psi=psi, truncation_cutoff=truncation_cutoff)


def _seed_labels(G: Generator, labels: Tensor, n: int, device: torch.device) -> Tensor:
    """`labels` as [n, c_dim] on `device`; a shape that does not fit the network is a one-line error."""
    c = labels.float().reshape(1, -1).expand(n, -1) if labels.ndim == 1 else labels.float()
    if c.ndim != 2 or tuple(c.shape) != (n, G.c_dim):
        raise StyleGANError(
            f"labels have shape {list(labels.shape)}; this network needs [{G.c_dim}] or [{n}, {G.c_dim}]"
        )
    return c.to(device)


@torch.no_grad()
@reuse_freed_memory()  # the batches reuse each other's activation memory
def synthesize(
    G: Generator,
    ws: Tensor,
    *,
    noise_mode: NoiseMode = "const",
    batch_size: int = 8,
    progress: bool | None = None,
    desc: str = "generating",
    precision: Precision = "fp32",
    compile: bool = False,
) -> np.ndarray:
    """Render latents ws [N, num_ws, w_dim] in batches -> uint8 [N, H, W, C] (`precision` and `compile`: see
    `synthesis_function`)."""
    if ws.ndim != 3 or ws.shape[1:] != (G.num_ws, G.w_dim):
        raise StyleGANError(f"latents have shape {list(ws.shape)} but this network needs [N, {G.num_ws}, {G.w_dim}]")
    render = synthesis_function(G, precision=precision, compile=compile)
    out = []
    bar = progress_bar(len(ws), desc, enabled=progress)
    try:
        for start in range(0, len(ws), batch_size):
            imgs = render(ws[start : start + batch_size], noise_mode)
            out.append(to_uint8(imgs))
            bar.update(len(imgs))
    finally:
        bar.close()
    if not out:
        return np.zeros((0, G.img_resolution, G.img_resolution, G.img_channels), dtype=np.uint8)
    return np.concatenate(out, axis=0)


@torch.no_grad()
def iter_generate(
    G: Generator,
    seeds: Iterable[int],
    *,
    psi: float = 1.0,
    truncation_cutoff: int | None = None,
    class_idx: int | None = None,
    noise_mode: NoiseMode = "const",
    batch_size: int = 8,
    progress: bool | None = None,
    z_fn: Callable[[Sequence[int]], Tensor] | None = None,
    labels: Tensor | None = None,
    precision: Precision = "fp32",
    compile: bool = False,
) -> PythonGenerator[GeneratedImages, None, None]:
    """`generate`, one batch at a time: yields a `GeneratedImages` of up to `batch_size` images as soon as it is
    made (the progress bar counts from the first batch). Seeds are checked (range and count) before any work.
    `precision` and `compile`: see `synthesis_function` (bf16 is not bit-identical to fp32).

    >>> from stylegan.testing import tiny_generator
    >>> [len(b) for b in iter_generate(tiny_generator(), range(5), batch_size=2)]
    [2, 2, 1]
    """
    seeds = check_seeds(seeds)
    _check_settings(psi, truncation_cutoff, batch_size)
    render = synthesis_function(G, precision=precision, compile=compile)
    all_c = _seed_labels(G, labels, len(seeds), torch.device("cpu")) if labels is not None else None
    chunk = batch_size * max(1, math.ceil(MAPPING_CHUNK / batch_size))  # whole batches: the same ones as before
    bar = progress_bar(len(seeds), "generating", enabled=progress)
    try:
        with reuse_freed_memory():  # the batches reuse each other's activation memory
            for first in range(0, len(seeds), chunk):
                part = seeds[first : first + chunk]
                part_c = all_c[first : first + chunk] if all_c is not None else None
                ws = seeds_to_ws(
                    G, part, psi=psi, truncation_cutoff=truncation_cutoff, class_idx=class_idx, labels=part_c, z_fn=z_fn
                )
                for start in range(0, len(part), batch_size):
                    w = ws[start : start + batch_size]
                    images = to_uint8(render(w, noise_mode))
                    bar.update(len(images))
                    yield GeneratedImages(images=images, seeds=part[start : start + batch_size], ws=w.cpu())
    finally:
        bar.close()


def _check_settings(psi: float, truncation_cutoff: int | None, batch_size: int) -> None:
    if not math.isfinite(psi):
        raise SettingError(f"{{psi}} {psi}: truncation must be a finite number", "psi")
    if truncation_cutoff is not None and truncation_cutoff < 0:
        raise SettingError(f"{{truncation_cutoff}} {truncation_cutoff}: must be >= 0", "truncation_cutoff")
    if batch_size < 1:
        raise SettingError(f"{{batch_size}} {batch_size}: must be >= 1", "batch_size")


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
    z_fn: Callable[[Sequence[int]], Tensor] | None = None,
    labels: Tensor | None = None,
    precision: Precision = "fp32",
    compile: bool = False,
) -> GeneratedImages:
    """Generate one image per seed, all in memory (`generate_files` writes them as they are made instead).
    `z_fn(seeds)` -> z [N, z_dim] replaces the seeds' z (see `seeds_to_ws`). `precision="bf16"` makes fast previews
    that are not bit-identical to the float32 images; `compile` uses torch.compile (see `synthesis_function`).

    Truncation w' = w̄ + psi (w - w̄) on the first `truncation_cutoff` layers (all by default). Seed s gives the
    same image as NVIDIA's `generate.py --seeds s --noise-mode const` on the same network. More images than half the
    machine's memory holds are refused before any work.

    >>> from stylegan.testing import tiny_generator
    >>> imgs = generate(tiny_generator(), seeds=[0, 1, 2], psi=0.7)
    >>> imgs.images.shape, imgs.images.dtype.name
    ((3, 16, 16, 3), 'uint8')
    """
    seeds = check_seeds(seeds)
    size = len(seeds) * G.img_resolution**2 * G.img_channels
    if size > _in_memory_limit():
        raise SettingError(
            f"{{seeds}}: {len(seeds)} images of {G.img_resolution}x{G.img_resolution} take {size / 2**30:.1f} GiB in "
            "memory; write them to files as they are made with generate_files (or iter_generate)",
            "seeds",
        )
    batches = list(
        iter_generate(
            G,
            seeds,
            psi=psi,
            truncation_cutoff=truncation_cutoff,
            class_idx=class_idx,
            noise_mode=noise_mode,
            batch_size=batch_size,
            progress=progress,
            z_fn=z_fn,
            labels=labels,
            precision=precision,
            compile=compile,
        )
    )
    return GeneratedImages(
        images=np.concatenate([b.images for b in batches], axis=0),
        seeds=seeds,
        ws=torch.cat([b.ws for b in batches if b.ws is not None], dim=0),
    )


def check_image_crop(
    crop: tuple[int, int, int, int] | None, height: int, width: int
) -> tuple[int, int, int, int] | None:
    """`crop` (left, top, right, bottom) checked against height x width images; a SettingError naming `crop`."""
    from .io.pretrained import check_crop

    if crop is None:
        return None
    try:
        return check_crop(crop, height, width)
    except ValueError as e:
        raise SettingError(f"{{crop}}: {e}", "crop") from None


def crop_images(images: np.ndarray, crop: tuple[int, int, int, int] | None) -> np.ndarray:
    """The (left, top, right, bottom) part of every image of [N, H, W, C] (all of them when `crop` is None).

    >>> crop_images(np.zeros((2, 512, 512, 3), np.uint8), (0, 64, 512, 448)).shape
    (2, 384, 512, 3)
    """
    if crop is None:
        return images
    left, top, right, bottom = check_image_crop(crop, images.shape[1], images.shape[2]) or crop
    return images[:, top:bottom, left:right]


def generate_files(
    G: Generator,
    seeds: Iterable[int],
    outdir: str | os.PathLike[str],
    *,
    pattern: str = "seed{seed:04d}.png",
    grid: tuple[int, int] | None = None,
    grid_name: str = "grid.png",
    psi: float = 1.0,
    truncation_cutoff: int | None = None,
    class_idx: int | None = None,
    noise_mode: NoiseMode = "const",
    batch_size: int = 8,
    progress: bool | None = None,
    crop: tuple[int, int, int, int] | None = None,
    z_fn: Callable[[Sequence[int]], Tensor] | None = None,
    labels: Tensor | None = None,
    precision: Precision = "fp32",
    compile: bool = False,
) -> list[Path]:
    """Generate one image per seed and write each batch into `outdir` as soon as it is made (`pattern` may use
    {seed} and {index}); an interrupted run keeps every file it finished. With `grid` (rows, cols), one grid image
    `grid_name` instead, assembled batch by batch and written at the end (only the grid is held in memory). Returns
    the paths written. Every file is written atomically; a failing disk gives one line naming the file.

    `crop` (left, top, right, bottom) keeps only that part of each image, e.g. a registered network's letterbox
    (`stylegan.io.pretrained.crop_for(name)`): LSUN cars' (0, 64, 512, 448). `z_fn(seeds)` -> z [N, z_dim]
    replaces the seeds' z (see `seeds_to_ws`). `precision="bf16"` makes fast previews that are not bit-identical to
    the float32 images; `compile` uses torch.compile (see `synthesis_function`).

    >>> import tempfile
    >>> from stylegan.testing import tiny_generator
    >>> [p.name for p in generate_files(tiny_generator(), [0, 7], tempfile.mkdtemp())]
    ['seed0000.png', 'seed0007.png']
    """
    seeds = check_seeds(seeds)
    outdir = Path(outdir)
    box = check_image_crop(crop, G.img_resolution, G.img_resolution)
    canvas = None
    if grid is not None:
        rows, cols = _grid_shape(len(seeds), *grid)
        h, w = (box[3] - box[1], box[2] - box[0]) if box else (G.img_resolution, G.img_resolution)
        check_grid_pixels(rows, cols, h, w)
        check_writable(outdir / grid_name)  # not only after the whole grid is made
        canvas = np.zeros((rows * h, cols * w, G.img_channels), dtype=np.uint8)
    paths: list[Path] = []
    index = 0
    batches = iter_generate(
        G,
        seeds,
        psi=psi,
        truncation_cutoff=truncation_cutoff,
        class_idx=class_idx,
        noise_mode=noise_mode,
        batch_size=batch_size,
        progress=progress,
        z_fn=z_fn,
        labels=labels,
        precision=precision,
        compile=compile,
    )
    with closing(batches):  # the progress bar is closed before an error is shown
        for batch in batches:
            for img, seed in zip(crop_images(batch.images, box), batch.seeds):
                if canvas is not None:
                    r, c = divmod(index, cols)
                    canvas[r * h : (r + 1) * h, c * w : (c + 1) * w] = img
                else:
                    paths.append(save_image(img, outdir / pattern.format(seed=seed, index=index)))
                index += 1
    if canvas is not None:
        paths.append(save_image(canvas, outdir / grid_name))
    return paths


def load_latents(path: str | os.PathLike[str]) -> Tensor:
    """Read ws [N, num_ws, w_dim] from a `projected_w.npz` (key `w`) or a .npy file."""
    path = Path(path)
    if not path.is_file():
        raise StyleGANError(f"{path}: no such file")
    try:
        data = np.load(path, allow_pickle=False)
        w = data["w"] if isinstance(data, np.lib.npyio.NpzFile) else data
        w = np.asarray(w, dtype=np.float32)
    except NPZ_ERRORS as e:
        raise StyleGANError(f"{path}: not a latent file with an array 'w' ({e})") from None
    if not np.isfinite(w).all():
        raise StyleGANError(f"{path}: the latents hold NaN or infinite values; the file is damaged")
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
    save_to: str | os.PathLike[str] | None = None,
    precision: Precision = "fp32",
    compile: bool = False,
) -> StyleMix:
    """Style mixing (StyleGAN §3.1): each row seed's latents with `layers` replaced by each column seed's
    (`precision` and `compile`: see `synthesis_function`).

    With `save_to`, each `{row}-{col}.png` is written as soon as its batch is made, and `grid.png` at the end (what
    `StyleMix.save` writes). The figure's size is checked before any work.

    >>> from stylegan.testing import tiny_generator
    >>> mix = style_mix(tiny_generator(), [1, 2], [3, 4, 5], layers=[0, 1])
    >>> mix.grid.shape
    (48, 64, 3)
    """
    row_seeds, col_seeds, layers = [int(s) for s in row_seeds], [int(s) for s in col_seeds], [int(i) for i in layers]
    if not row_seeds or not col_seeds:
        raise StyleGANError("style mixing needs at least one row seed and one column seed")
    check_seeds(row_seeds, "row_seeds"), check_seeds(col_seeds, "col_seeds")
    if len(row_seeds) * len(col_seeds) > MAX_IMAGES:
        raise SettingError(
            f"{{row_seeds}} x {{col_seeds}}: {len(row_seeds) * len(col_seeds)} pairs, more than {MAX_IMAGES}",
            "row_seeds",
            "col_seeds",
        )
    _check_settings(psi, truncation_cutoff, batch_size)
    check_grid_pixels(len(row_seeds) + 1, len(col_seeds) + 1, G.img_resolution, G.img_resolution, "row_seeds")
    all_seeds = list(dict.fromkeys(row_seeds + col_seeds))
    ws_all = seeds_to_ws(G, all_seeds, psi=psi, truncation_cutoff=truncation_cutoff, class_idx=class_idx)
    w_of = {s: ws_all[i : i + 1] for i, s in enumerate(all_seeds)}
    try:
        mix_styles(w_of[row_seeds[0]], w_of[col_seeds[0]], layers)  # checks the layers once, before any work
    except ValueError as e:
        raise StyleGANError(str(e)) from None
    jobs = [(s, s) for s in all_seeds] + [(r, c) for r in row_seeds for c in col_seeds]
    outdir = Path(save_to) if save_to is not None else None
    render = synthesis_function(G, precision=precision, compile=compile)
    images: dict[tuple[int, int], np.ndarray] = {}
    bar = progress_bar(len(jobs), "mixing", enabled=progress)
    try:
        for start in range(0, len(jobs), batch_size):
            batch = jobs[start : start + batch_size]
            ws = torch.cat(
                [
                    ws_all[start + i : start + i + 1]
                    if start + i < len(all_seeds)
                    else mix_styles(w_of[r], w_of[c], layers)
                    for i, (r, c) in enumerate(batch)
                ]
            )
            imgs = to_uint8(render(ws, noise_mode))
            for (r, c), img in zip(batch, imgs):
                images[(r, c)] = img
                if outdir is not None:
                    save_image(img, outdir / f"{r}-{c}.png")
            bar.update(len(imgs))
    finally:
        bar.close()
    h, w, ch = images[jobs[0]].shape
    ncols = len(col_seeds) + 1
    grid = np.zeros(((len(row_seeds) + 1) * h, ncols * w, ch), dtype=np.uint8)

    def place(i: int, j: int, img: np.ndarray) -> None:
        grid[i * h : (i + 1) * h, j * w : (j + 1) * w] = img

    for j, c in enumerate(col_seeds):
        place(0, j + 1, images[(c, c)])
    for i, r in enumerate(row_seeds):
        place(i + 1, 0, images[(r, r)])
        for j, c in enumerate(col_seeds):
            place(i + 1, j + 1, images[(r, c)])
    if outdir is not None:
        save_image(grid, outdir / "grid.png")
    return StyleMix(grid=grid, images=images, row_seeds=row_seeds, col_seeds=col_seeds, layers=layers)


__all__ = [
    "MAX_GRID_PIXELS",
    "MAX_IMAGES",
    "GeneratedImages",
    "StyleMix",
    "check_grid_pixels",
    "check_seeds",
    "generate",
    "generate_files",
    "info_labels",
    "iter_generate",
    "load_latents",
    "network_info_labels",
    "seeds_to_ws",
    "style_mix",
    "synthesis_function",
    "synthesize",
    "truncate",
]

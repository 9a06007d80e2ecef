"""`stylegan generate`: images from seeds (directly, through a Z-code generator or with Info-StyleGAN codes) or from
saved latents."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import StyleGANError
from .common import (
    Command,
    batch_option,
    class_option,
    cutoff_option,
    device_option,
    load_network_for_cli,
    network_option,
    noise_option,
    outdir_option,
    trunc_option,
)
from .params import FloatList, GridShape, RangeList

if TYPE_CHECKING:
    from ..networks.synthesis import NoiseMode
    from ..precision import Precision


@click.command(cls=Command)
@network_option
@click.option("--seeds", type=RangeList(), default=None, help="Seeds, e.g. 0-3,7.")
@click.option(
    "--projected-w",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Render saved latents (projected_w.npz, key 'w') instead of seeds.",
)
@click.option(
    "--projected-noise",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --projected-w: the optimised noise maps (projected_noise.npz) that `stylegan project` kept.",
)
@click.option(
    "--zgen",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Seeds give z through this Z-code generator (`stylegan zgen train`) instead of directly.",
)
@trunc_option
@cutoff_option
@class_option
@click.option("--info-code", type=int, default=None, help="Info-StyleGAN network: render this categorical code.")
@click.option("--info-cont", type=FloatList(), default=None, help="Info-StyleGAN: continuous codes, e.g. 0.5,-1.")
@noise_option
@click.option("--grid", type=GridShape(), default=None, help="Write one RxC grid image (grid.png) instead of files.")
@click.option("--no-crop", is_flag=True, help="Keep the whole image of a letterboxed network (e.g. LSUN cars).")
@batch_option
@device_option
@click.option(
    "--precision",
    type=click.Choice(["fp32", "bf16"]),
    default="fp32",
    show_default=True,
    help="bf16: bfloat16 autocast for fast previews where the hardware has it (AMX, AVX512-BF16, recent GPUs); the "
    "images are NOT bit-identical to fp32 ones.",
)
@click.option("--compile", is_flag=True, help="torch.compile the synthesis network (pays off for many images).")
@outdir_option("Where to write the images.")
def generate(
    network: str | None,
    seeds: list[int] | None,
    projected_w: Path | None,
    projected_noise: Path | None,
    zgen: Path | None,
    psi: float,
    truncation_cutoff: int | None,
    class_idx: int | None,
    info_code: int | None,
    info_cont: list[float] | None,
    noise_mode: NoiseMode,
    grid: tuple[int, int] | None,
    no_crop: bool,
    batch_size: int,
    device: str,
    precision: Precision,
    compile: bool,
    outdir: Path,
) -> None:
    """Generate images from a trained network, one per seed (seed0042.png). A registered network with a crop
    (`stylegan pretrained` shows it, e.g. LSUN cars' 512x384) is cropped to it unless --no-crop.

    \b
    Examples:
      stylegan generate --network ffhq.pkl --seeds 0-7 --trunc 0.7 --outdir out
      stylegan generate --network net.safetensors --seeds 0-63 --grid 8x8 --outdir out
      stylegan generate --network ffhq.pkl --projected-w projected_w.npz --outdir out
      stylegan generate --network ffhq.pkl --projected-w p/projected_w.npz \\
          --projected-noise p/projected_noise.npz --outdir out
    """
    from ..customise.zgen import zgen_file_z_fn
    from ..generation import check_seeds, crop_images, generate_files, network_info_labels
    from ..inversion.projection import render_latent_file
    from ..io.pretrained import crop_for
    from ..precision import resolve_precision

    if projected_noise is not None and projected_w is None:
        raise StyleGANError("--projected-noise goes with --projected-w")
    if zgen is not None and projected_w is not None:
        raise StyleGANError("--zgen goes with --seeds, not with --projected-w")
    if projected_w is None:
        if seeds is None:
            raise StyleGANError("give --seeds (e.g. --seeds 0-7) or --projected-w FILE")
        check_seeds(seeds)  # before the network is loaded
    labels = None
    if info_code is not None or info_cont is not None:  # Info-StyleGAN codes
        labels = network_info_labels(network, info_code, info_cont, seeds, class_idx=class_idx)
    G = load_network_for_cli(network, device)
    warning = resolve_precision(precision, next(G.parameters()).device).warning
    if warning:
        click.echo(warning, err=True)
    r = G.img_resolution
    crop = None if no_crop else crop_for(network, r)
    note = f" (cropped to {crop[2] - crop[0]}x{crop[3] - crop[1]}; --no-crop keeps {r}x{r})" if crop else ""
    if projected_w is not None:
        with _warnings_as_lines():
            images = render_latent_file(
                G,
                projected_w,
                projected_noise,
                noise_mode=noise_mode,
                batch_size=batch_size,
                precision=precision,
                compile=compile,
            )
        images.images = crop_images(images.images, crop)
        if grid is not None:
            path = images.save_grid(outdir / "grid.png", *grid)
            click.echo(f"wrote a {grid[0]}x{grid[1]} grid of {len(images)} images to {path}{note}")
        else:
            paths = images.save(outdir, "proj{index:02d}.png")
            click.echo(f"wrote {len(paths)} image{'s' if len(paths) != 1 else ''} to {outdir}/{note}")
        return
    assert seeds is not None
    z_fn = None
    if zgen is not None:
        z_fn, class_idx = zgen_file_z_fn(zgen, G, class_idx)
    with _warnings_as_lines():
        paths = generate_files(
            G,
            seeds,
            outdir,
            grid=grid,
            psi=psi,
            truncation_cutoff=truncation_cutoff,
            class_idx=class_idx,
            noise_mode=noise_mode,
            batch_size=batch_size,
            crop=crop,
            z_fn=z_fn,
            labels=labels,
            precision=precision,
            compile=compile,
        )
    if grid is not None:
        click.echo(f"wrote a {grid[0]}x{grid[1]} grid of {len(seeds)} images to {paths[0]}{note}")
    else:
        click.echo(f"wrote {len(paths)} image{'s' if len(paths) != 1 else ''} to {outdir}/{note}")


@contextlib.contextmanager
def _warnings_as_lines() -> Iterator[None]:
    """Warnings raised meanwhile (a torch.compile fallback) shown as one line each on stderr."""
    with warnings.catch_warnings():
        warnings.showwarning = lambda message, *args, **kwargs: click.echo(str(message), err=True)
        yield


commands = [generate]

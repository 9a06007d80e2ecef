"""`stylegan generate` and `stylegan mix`."""

from __future__ import annotations

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
@outdir_option("Where to write the images.")
def generate(
    network: str | None,
    seeds: list[int] | None,
    projected_w: Path | None,
    projected_noise: Path | None,
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
    from ..generation import check_seeds, crop_images, generate_files, network_info_labels
    from ..inversion.projection import render_latent_file
    from ..io.pretrained import crop_for

    if projected_noise is not None and projected_w is None:
        raise StyleGANError("--projected-noise goes with --projected-w")
    if projected_w is None:
        if seeds is None:
            raise StyleGANError("give --seeds (e.g. --seeds 0-7) or --projected-w FILE")
        check_seeds(seeds)  # before the network is loaded
    labels = None
    if info_code is not None or info_cont is not None:  # Info-StyleGAN codes
        labels = network_info_labels(network, info_code, info_cont, seeds, class_idx=class_idx)
    G = load_network_for_cli(network, device)
    r = G.img_resolution
    crop = None if no_crop else crop_for(network, r)
    note = f" (cropped to {crop[2] - crop[0]}x{crop[3] - crop[1]}; --no-crop keeps {r}x{r})" if crop else ""
    if projected_w is not None:
        images = render_latent_file(G, projected_w, projected_noise, noise_mode=noise_mode, batch_size=batch_size)
        images.images = crop_images(images.images, crop)
        if grid is not None:
            path = images.save_grid(outdir / "grid.png", *grid)
            click.echo(f"wrote a {grid[0]}x{grid[1]} grid of {len(images)} images to {path}{note}")
        else:
            paths = images.save(outdir, "proj{index:02d}.png")
            click.echo(f"wrote {len(paths)} image{'s' if len(paths) != 1 else ''} to {outdir}/{note}")
        return
    assert seeds is not None
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
        labels=labels,
    )
    if grid is not None:
        click.echo(f"wrote a {grid[0]}x{grid[1]} grid of {len(seeds)} images to {paths[0]}{note}")
    else:
        click.echo(f"wrote {len(paths)} image{'s' if len(paths) != 1 else ''} to {outdir}/{note}")


@click.command(cls=Command)
@network_option
@click.option("--rows", "row_seeds", type=RangeList(), required=True, help="Row seeds, e.g. 85,100,75.")
@click.option("--cols", "col_seeds", type=RangeList(), required=True, help="Column seeds, e.g. 55,821,1789.")
@click.option(
    "--styles",
    default="0-6",
    show_default=True,
    help="Layers taken from the column seeds: indices (0-6), or coarse / middle / fine.",
)
@trunc_option
@cutoff_option
@class_option
@noise_option
@batch_option
@device_option
@outdir_option("Where to write the images.")
def mix(
    network: str | None,
    row_seeds: list[int],
    col_seeds: list[int],
    styles: str,
    psi: float,
    truncation_cutoff: int | None,
    class_idx: int | None,
    noise_mode: NoiseMode,
    batch_size: int,
    device: str,
    outdir: Path,
) -> None:
    """Style-mixing figure: rows keep their other layers, and take --styles from the columns.

    Writes grid.png (column seeds on top, row seeds on the left) and {row}-{col}.png for every pair.

    \b
    Example:
      stylegan mix --network ffhq.pkl --rows 85,100,75 --cols 55,821,1789 --styles 0-6 --outdir out
    """
    from ..generation import MAX_IMAGES, style_mix
    from ..latents import layer_preset

    if len(row_seeds) * len(col_seeds) > MAX_IMAGES:  # before the network is loaded
        raise StyleGANError(f"--rows x --cols: {len(row_seeds) * len(col_seeds)} pairs, more than {MAX_IMAGES}")
    G = load_network_for_cli(network, device)
    try:
        layers = layer_preset(styles, G.num_ws)
    except ValueError as e:
        raise StyleGANError(f"--styles: {e}") from None
    result = style_mix(
        G,
        row_seeds,
        col_seeds,
        layers,
        psi=psi,
        truncation_cutoff=truncation_cutoff,
        class_idx=class_idx,
        noise_mode=noise_mode,
        batch_size=batch_size,
        save_to=outdir,
    )
    click.echo(f"wrote grid.png and {len(result.images)} images to {outdir}/ (layers {layers} from the columns)")


commands = [generate, mix]

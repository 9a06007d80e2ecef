"""`stylegan mix`: the style-mixing figure."""

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
from .params import RangeList

if TYPE_CHECKING:
    from ..networks.synthesis import NoiseMode


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


commands = [mix]

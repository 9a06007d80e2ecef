"""`stylegan demo`: the newcomer's first command (what `make demo` runs)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import device_option, network_option
from .params import Float


@click.command()
@network_option
@click.option(
    "--outdir",
    type=click.Path(path_type=Path),
    default=Path("demo"),
    show_default=True,
    help="Where to write grid.png, mix.png, walk.gif and walk.mp4.",
)
@click.option(
    "--trunc",
    "--psi",
    "psi",
    type=Float(-100, 100, what="truncation"),
    default=0.7,
    show_default=True,
    help="Truncation psi.",
)
@click.option("--fast", is_flag=True, help="Fewer images and frames: a quick check that everything works.")
@device_option
def demo(network: str | None, outdir: Path, psi: float, fast: bool, device: str | None) -> None:
    """Show what a network does: an image grid, a style-mixing figure and an interpolation video.

    With no --network it uses the network bundled with the package (32x32 emoji), so it works offline on a CPU.

    \b
    Examples:
      stylegan demo
      stylegan demo --network ffhq-256 --outdir demo-ffhq
    """
    from ..demo import run_demo

    result = run_demo(outdir, network, psi=psi, fast=fast, device=device)
    for note in result.notes:
        click.echo(f"note: {note}")
    scale = f" (upscaled {result.scale}x)" if result.scale > 1 else ""
    click.echo(f"wrote {', '.join(p.name for p in result.files)} to {outdir}/{scale}")


commands = [demo]

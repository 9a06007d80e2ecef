"""`stylegan latent swap|fuse|variations`: operations on any latent (seed:N, projected_w.npz, encoder output)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import (
    LATENT_HELP,
    Group,
    class_option,
    device_option,
    latent_option,
    load_network_for_cli,
    network_option,
    noise_option,
    outdir_option,
    trunc_option,
)
from .params import SEED, Float, Int, floats

if TYPE_CHECKING:
    from ..networks.synthesis import NoiseMode


@click.group(cls=Group)
def latent() -> None:
    """Latent operations on any latent (seed:N, projected_w.npz, encoder output): swap, fuse, variations."""


@latent.command()
@network_option
@latent_option
@click.option("--template", required=True, help="Where the swapped layers come from: " + LATENT_HELP)
@click.option("--layers", default="5-8", show_default=True, help="Layer range (5-8) or coarse / middle / fine.")
@trunc_option
@class_option
@noise_option
@device_option
@outdir_option("Output folder.")
def swap(
    network: str | None,
    latent: str,
    template: str,
    layers: str,
    psi: float,
    class_idx: int | None,
    noise_mode: NoiseMode,
    device: str,
    outdir: Path,
) -> None:
    """Style swap: take --layers from the template (the face website swapped 5-8). Writes swap*.png, swap.npz.

    Layer indices are 0-based w indices. On a 1024 px network (18 of them), 5-8 drive 16-64 px in StyleGAN
    (v1: 5 = 16 px, 6-7 = 32 px, 8 = 64 px) and 32-64 px in StyleGAN2 (5-6 = 32 px, 7-8 = 64 px): skin, hair
    and eye colour rather than pose or face shape. The command prints the resolution of each swapped layer.

    \b
    Example:
      stylegan latent swap --network ffhq.pkl --latent projected_w.npz --template seed:42 --layers 5-8 --outdir out
    """
    from ..editing.latent_ops import swap_latents, write_latents

    G = load_network_for_cli(network, device)
    ws, idx = swap_latents(G, latent, template, layers, psi=psi, class_idx=class_idx)
    n = write_latents(G, ws, outdir, "swap", noise_mode=noise_mode, layers=idx)
    from ..latents import layer_resolutions

    res = layer_resolutions(G.num_ws, G.img_resolution, G.version)
    shown = ", ".join(f"{i} ({res[i]}px)" for i in idx)
    click.echo(f"wrote {n} image(s) and swap.npz to {outdir}/ (layers {shown} from {template})")


@latent.command()
@network_option
@click.option("--latents", "latents", required=True, help="Comma-separated latents to average, e.g. seed:1,a.npz.")
@click.option("--weights", default=None, help="Comma-separated weights (normalised to sum 1; equal by default).")
@trunc_option
@class_option
@noise_option
@device_option
@outdir_option("Output folder.")
def fuse(
    network: str | None,
    latents: str,
    weights: str | None,
    psi: float,
    class_idx: int | None,
    noise_mode: NoiseMode,
    device: str,
    outdir: Path,
) -> None:
    """Fusion: the (weighted) average in W of two or more latents. Writes fuse.png and fuse.npz.

    \b
    Example:
      stylegan latent fuse --network ffhq.pkl --latents seed:1,seed:2 --weights 0.7,0.3 --outdir out
    """
    from ..editing.latent_ops import fuse_latents, write_latents

    G = load_network_for_cli(network, device)
    parts = [p.strip() for p in latents.split(",") if p.strip()]
    w = floats(weights, "--weights") if weights else None
    fused = fuse_latents(G, parts, w, psi=psi, class_idx=class_idx)
    n = write_latents(G, fused, outdir, "fuse", noise_mode=noise_mode)
    click.echo(f"wrote {n} image and fuse.npz to {outdir}/ (average of {len(parts)} latents)")


@latent.command(name="variations")
@network_option
@latent_option
@click.option("-n", "--num", "num", type=Int(1, 10_000), default=8, show_default=True)
@click.option("--layers", default="0", show_default=True, help="Layers to re-draw (the identity lives in the rest).")
@click.option(
    "--strength", type=Float(-100, 100), default=1.0, show_default=True, help="1 = replace the layers, <1 = blend."
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the random variation latents.")
@trunc_option
@class_option
@noise_option
@device_option
@outdir_option("Output folder.")
def variations_cmd(
    network: str | None,
    latent: str,
    num: int,
    layers: str,
    strength: float,
    seed: int,
    psi: float,
    class_idx: int | None,
    noise_mode: NoiseMode,
    device: str,
    outdir: Path,
) -> None:
    """Identity-preserving variations: re-draw --layers from random seeds. Writes var*.png and var.npz.

    \b
    Example:
      stylegan latent variations --network ffhq.pkl --latent seed:42 -n 8 --layers 0 --outdir out
    """
    from ..editing.latent_ops import latent_variations, write_latents

    G = load_network_for_cli(network, device)
    out, idx = latent_variations(
        G, latent, num, layers=layers, strength=strength, seed=seed, psi=psi, class_idx=class_idx
    )
    n = write_latents(G, out, outdir, "var", noise_mode=noise_mode, layers=idx)
    click.echo(f"wrote {n} variations and var.npz to {outdir}/ (layers {idx} re-drawn)")


commands = [latent]

"""`stylegan encoder train`: an image -> W+ encoder for a network, to start projections from."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Group, batch_option, class_option, device_option, load_network_for_cli, network_option
from .params import MAX_STEPS, SEED, Float, Int


@click.group(cls=Group)
def encoder() -> None:
    """Train an image -> W+ encoder for a network (use it with `stylegan project --init encoder:PATH`)."""


@encoder.command("train")
@network_option
@click.option(
    "--steps",
    type=Int(1, MAX_STEPS),
    default=10000,
    show_default=True,
    help="Total training steps (a resumed run continues up to this number).",
)
@batch_option
@click.option("--lr", type=Float(0, 10, min_open=True), default=1e-3, show_default=True)
@click.option("--latent-weight", type=Float(0, 1e6), default=1.0, show_default=True, help="Weight of MSE(E(img), ws).")
@click.option(
    "--image-weight", type=Float(0, 1e6), default=1.0, show_default=True, help="Weight of MSE(G(E(img)), img)."
)
@class_option
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option(
    "--snap",
    "snapshot_every",
    type=Int(1, MAX_STEPS),
    default=500,
    show_default=True,
    help="Write encoder.safetensors and encoder-state.pt every N steps.",
)
@device_option
@click.option(
    "--outdir",
    type=click.Path(path_type=Path),
    required=True,
    help="Run folder; an existing encoder-state.pt there is resumed.",
)
def encoder_train(
    network: str | None,
    steps: int,
    batch_size: int,
    lr: float,
    latent_weight: float,
    image_weight: float,
    class_idx: int | None,
    seed: int,
    snapshot_every: int,
    device: str,
    outdir: Path,
) -> None:
    """Train an encoder on endless samples of the network (latent + image MSE); resumable.

    \b
    Example:
      stylegan encoder train --network ffhq.pkl --steps 20000 --outdir enc
      stylegan project --network ffhq.pkl --target me.jpg --init encoder:enc --steps 200 --outdir out
    """
    from ..inversion.encoder import ENCODER_FILE, train_encoder

    G = load_network_for_cli(network, device)
    _, losses = train_encoder(
        G,
        outdir,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        latent_weight=latent_weight,
        image_weight=image_weight,
        class_idx=class_idx,
        seed=seed,
        snapshot_every=snapshot_every,
        progress=True,
    )
    last = f", last loss {losses[-1]:.4f}" if losses else " (already trained to --steps)"
    click.echo(f"encoder: {len(losses)} steps{last} -> {outdir / ENCODER_FILE}")


commands = [encoder]

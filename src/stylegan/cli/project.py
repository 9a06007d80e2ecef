"""`stylegan project`: find the latents of real images (the StyleGAN2 projector, plus W+, batches, classes, kept
noise, an encoder start and face alignment)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import (
    Command,
    class_option,
    device_option,
    face_index_option,
    load_network_for_cli,
    loss_option,
    network_option,
    outdir_option,
    perceptual_option,
    space_option,
    w_avg_samples_option,
)
from .params import MAX_STEPS, SEED, Int

if TYPE_CHECKING:
    from ..inversion.projection import Loss, Space
    from ..metrics.detectors import DetectorSource


@click.command(cls=Command)
@network_option
@click.option(
    "--target",
    "target",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Image to project (repeat for several; each gets its own subfolder).",
)
@click.option("--steps", type=Int(0, MAX_STEPS), default=1000, show_default=True, help="Optimisation steps.")
@space_option("w", "w: one latent for all layers (the paper); w+: one per layer (closer fit, less editable).")
@click.option("--seed", type=SEED, default=303, show_default=True, help="Seed of the initial noise maps.")
@class_option
@loss_option("lpips", "lpips: LPIPS-VGG16 distance (NVIDIA's vgg16.pt, else the offline ST-LPIPS); mse: pixel error.")
@perceptual_option(
    "Which LPIPS network: auto = NVIDIA's vgg16.pt if on this machine, else offline weights, else download."
)
@click.option(
    "--vgg16",
    "vgg16_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="An explicit NVIDIA vgg16.pt file.",
)
@click.option(
    "--init",
    "init",
    metavar="encoder:PATH",
    default=None,
    help="Start from a trained encoder's prediction (encoder.safetensors or its folder); --steps 0 = encoder only.",
)
@click.option(
    "--align/--no-align",
    "align_faces",
    default=False,
    show_default=True,
    help="FFHQ-align each target's face first (dlib; see `stylegan align`).",
)
@face_index_option("With --align: which face (0 = largest).")
@w_avg_samples_option(10000)
@click.option(
    "--save-video/--no-save-video",
    default=False,
    show_default=True,
    help="Write proj.mp4: target | projection at every step.",
)
@device_option
@outdir_option("Where to write.")
def project(
    network: str | None,
    target: tuple[Path, ...],
    steps: int,
    space: Space,
    seed: int,
    class_idx: int | None,
    loss: Loss,
    perceptual: DetectorSource,
    vgg16_file: Path | None,
    init: str | None,
    align_faces: bool,
    face_index: int | None,
    w_avg_samples: int,
    save_video: bool,
    device: str,
    outdir: Path,
) -> None:
    """Project images into the latent space of a network.

    Writes projected_w.npz (key w, [1, num_ws, w_dim]; render it with `stylegan generate --projected-w`),
    projected_noise.npz (the optimised noise maps), target.png, proj.png (rendered with the optimised noise),
    projection.json (settings, perceptual network, distance per step) and with --save-video proj.mp4.
    Several --target images go to one subfolder each.

    \b
    Examples:
      stylegan project --network ffhq.pkl --target me.jpg --outdir out
      stylegan project --network ffhq.pkl --target a.jpg --target b.png --space w+ --steps 500 --outdir out
    """
    from ..inversion.encoder import encoder_init
    from ..inversion.projection import load_targets, perceptual_network, projection_dirs, save_projection
    from ..inversion.projection import project as run_projection

    G = load_network_for_cli(network, device)
    targets = load_targets(G, target, align=align_faces, face_index=face_index)
    net = perceptual_network(loss, perceptual, G, file=vgg16_file)
    if net is not None:
        click.echo(f"perceptual network: {net.info.name} ({net.info.file or net.info.description})")
    else:
        click.echo("loss: mse (no perceptual network)")
    init_ws = None
    if init is not None:
        init_ws, encoder_path = encoder_init(init, G, targets.images)
        click.echo(f"initialising from the encoder {encoder_path}")
    result = run_projection(
        G,
        targets.images,
        steps=steps,
        space=space,
        seed=seed,
        w_avg_samples=w_avg_samples,
        loss=loss,
        perceptual=net,
        class_idx=class_idx,
        init_ws=init_ws,
        progress=True,
    )
    for i, (t, d) in enumerate(zip(target, projection_dirs(outdir, target))):
        meta = {
            "network": network,
            "target": str(t),
            "seed": seed,
            "class": class_idx,
            "w_avg_samples": w_avg_samples,
            "init": init,
            "align_quad": targets.quads[i],
        }
        save_projection(result, i, d, G=G, video=save_video, metadata=meta)
        if steps:
            click.echo(f"{t.name}: {loss} distance {result.final_distances[i]:.4f} after {steps} steps -> {d}/")
        else:
            click.echo(f"{t.name}: starting point written (--steps 0) -> {d}/")


commands = [project]

"""`stylegan edit`: move latents along a semantic direction; a strip image, the edited latents, a sweep video."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import StyleGANError
from .common import (
    Command,
    class_option,
    device_option,
    fps_option,
    latent_option,
    load_network_for_cli,
    network_option,
    noise_option,
    trunc_option,
)
from .params import Int, floats

if TYPE_CHECKING:
    from ..networks.synthesis import NoiseMode


@click.command(cls=Command, flags={"sweep_frames": "--video"})
@network_option
@latent_option
@click.option("--direction", "direction_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--component",
    type=Int(0, 10_000),
    default=0,
    show_default=True,
    help="Which direction of a multi-component file (SeFa / GANSpace).",
)
@click.option("--steps", default="-3,0,3", show_default=True, help="Comma-separated step sizes along the direction.")
@click.option(
    "--sigma",
    "--label-units",
    "sigma",
    is_flag=True,
    help="Steps in the direction's own units: GANSpace std in W, or (mean-diff) units of the label.",
)
@click.option("--layers", default=None, help="Layers to move (default: the direction file's mask).")
@click.option(
    "--absolute",
    is_flag=True,
    help="Steps are signed distances from the attribute's boundary (InterFaceGAN), not offsets from w.",
)
@click.option("--force", is_flag=True, help="Apply a direction made for another network.")
@trunc_option
@class_option
@noise_option
@device_option
@click.option("--out", type=click.Path(path_type=Path), required=True, help="strip.png")
@click.option(
    "--video",
    "video_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also render a sweep through the steps to this .mp4 / .gif.",
)
@click.option("--frames-per-step", type=Int(1, 10_000), default=30, show_default=True)
@fps_option
def edit(
    network: str | None,
    latent: str,
    direction_path: Path,
    component: int,
    steps: str,
    layers: str | None,
    sigma: bool,
    absolute: bool,
    force: bool,
    psi: float,
    class_idx: int | None,
    noise_mode: NoiseMode,
    device: str,
    out: Path,
    video_path: Path | None,
    frames_per_step: int,
    fps: float,
) -> None:
    """Move a latent along a direction: w + step * direction on the chosen layers; a strip image (one row per latent)
    and the edited latents (same name, .npz); --video renders a sweep (e.g. a yaw rotation).

    \b
    Example:
      stylegan edit --network ffhq.pkl --latent seed:42 --direction smile.npz --steps -3,0,3 --out strip.png
    """
    from ..editing import Direction, edit, save_edit
    from ..editing.latent_ops import resolve_latent
    from ..video import MAX_FRAMES

    step_vals = floats(steps, "--steps")
    if video_path is not None and (len(step_vals) - 1) * frames_per_step > MAX_FRAMES:
        raise StyleGANError(
            f"--frames-per-step {frames_per_step} with {len(step_vals)} steps: more than {MAX_FRAMES} frames"
        )
    G = load_network_for_cli(network, device)
    direction = Direction.load(direction_path)
    ws = resolve_latent(G, latent, psi=psi, class_idx=class_idx)
    result = edit(
        G,
        ws,
        direction,
        step_vals,
        component=component,
        layers=layers,
        sigma=sigma,
        absolute=absolute,
        force=force,
        noise_mode=noise_mode,
        sweep_frames=frames_per_step if video_path is not None else None,
        what=str(direction_path),
    )
    save_edit(G, result, out, video=video_path, fps=fps, noise_mode=noise_mode)
    msg = f"wrote a {len(ws)}x{len(step_vals)} strip to {out}"
    if video_path is not None:
        msg += f" and a {result.frames}-frame sweep to {video_path}"
    click.echo(msg)


commands = [edit]

"""`stylegan video`: interpolation videos through keyframes (seeds or saved latents), MP4 or GIF."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import (
    Command,
    batch_option,
    class_option,
    cutoff_option,
    device_option,
    fps_option,
    load_network_for_cli,
    network_option,
    noise_option,
    trunc_option,
)
from .params import MAX_DURATION, Float, GridShape, Int, RangeList

if TYPE_CHECKING:
    from ..networks.synthesis import NoiseMode


@click.command(cls=Command, flags={"path": "--out"})
@network_option
@click.option("--seeds", type=RangeList(), default=None, help="Keyframe seeds, e.g. 0-7.")
@click.option(
    "--latents",
    default=None,
    metavar="A.npz,B.npz,...",
    help="Keyframe latent files (projected_w.npz, encoder outputs, seed:N); every latent in them is a keyframe.",
)
@click.option(
    "--interp",
    type=click.Choice(["lerp-w", "slerp-z", "cubic-w"]),
    default="lerp-w",
    show_default=True,
    help="Linear in W, spherical in Z (seeds only), or a cubic spline through the keyframes in W.",
)
@click.option("--frames-per-key", type=Int(1, 10_000), default=60, show_default=True)
@click.option(
    "--duration",
    type=Float(0, MAX_DURATION, min_open=True),
    default=None,
    help="Total length in seconds (sets the frames per key from --fps; overrides --frames-per-key).",
)
@fps_option
@click.option("--grid", type=GridShape(), default=None, help="RxC grid of independent walks (keyframes dealt out).")
@click.option("--loop", is_flag=True, help="Return to the first keyframe so the video loops seamlessly.")
@trunc_option
@cutoff_option
@class_option
@noise_option
@batch_option
@device_option
@click.option("--out", type=click.Path(path_type=Path), required=True, help="walk.mp4 or walk.gif")
def video(
    network: str | None,
    seeds: list[int] | None,
    latents: str | None,
    interp: str,
    frames_per_key: int,
    duration: float | None,
    fps: float,
    grid: tuple[int, int] | None,
    loop: bool,
    psi: float,
    truncation_cutoff: int | None,
    class_idx: int | None,
    noise_mode: NoiseMode,
    batch_size: int,
    device: str,
    out: Path,
) -> None:
    """Interpolation video through keyframes: MP4 (H.264) or GIF, constant noise so frames do not flicker.

    \b
    Examples:
      stylegan video --network ffhq.pkl --seeds 0-7 --interp cubic-w --loop --out walk.mp4
      stylegan video --network net.pkl --seeds 0-15 --grid 2x2 --frames-per-key 30 --fps 15 --out walk.gif
      stylegan video --network ffhq.pkl --latents a.npz,b.npz --out ab.mp4
    """
    from ..editing.latent_ops import resolve_latents
    from ..video import interpolation_video, video_frames

    if seeds is not None and latents is None:  # the size of the work, before the network is loaded
        video_frames(
            len(seeds), grid=grid or (1, 1), frames_per_key=frames_per_key, duration=duration, fps=fps, loop=loop
        )
    G = load_network_for_cli(network, device)
    keys = None
    if latents is not None:
        specs = [p.strip() for p in latents.split(",") if p.strip()]
        keys = resolve_latents(G, specs, psi=psi, truncation_cutoff=truncation_cutoff, class_idx=class_idx)
    path = interpolation_video(
        G,
        out,
        seeds=seeds,
        latents=keys,
        interp=interp,
        frames_per_key=frames_per_key,
        duration=duration,
        fps=fps,
        grid=grid or (1, 1),
        loop=loop,
        psi=psi,
        truncation_cutoff=truncation_cutoff,
        class_idx=class_idx,
        noise_mode=noise_mode,
        batch_size=batch_size,
        progress=None,
    )
    click.echo(f"wrote {path}")


commands = [video]

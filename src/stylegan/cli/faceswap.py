"""`stylegan faceswap train | apply`: a face-swap model between a generated person and the faces of a video."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Group, device_option
from .params import MAX_STEPS, SEED, Float, Int

source_type = click.Path(exists=True, path_type=Path)


@click.group(cls=Group)
def faceswap() -> None:
    """Put a generated person's face into a video: an identity set, a face-swap model, the swapped video.

    \b
    Examples:
      stylegan latent variations --latent seed:6 -n 50 --layers 0 --outdir A
      stylegan faceswap train --a A --b video.mp4 --out swap.safetensors --steps 3000
      stylegan faceswap apply --model swap.safetensors --video video.mp4 --out swapped.mp4
    """


@faceswap.command("train")
@click.option("--a", "a", type=source_type, required=True, help="Identity A: a folder of images or a video.")
@click.option("--b", "b", type=source_type, required=True, help="Identity B: a folder of images or a video.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Model file to write (.safetensors).")
@click.option(
    "--size",
    type=click.Choice(["32", "64", "128", "256"]),
    default="64",
    show_default=True,
    help="Side of the aligned faces the model works on.",
)
@click.option(
    "--width",
    type=Int(4, 1024),
    default=64,
    show_default=True,
    help="Base channel width (128 at size 64 is the original network; 64 costs a quarter).",
)
@click.option("--steps", type=Int(1, MAX_STEPS), default=3000, show_default=True, help="Total training steps.")
@click.option("--batch", type=Int(1, 4096), default=16, show_default=True, help="Faces of each identity per step.")
@click.option("--lr", type=Float(0, 1, min_open=True), default=1e-4, show_default=True)
@click.option(
    "--preview-every",
    type=Int(1, MAX_STEPS),
    default=100,
    show_default=True,
    help="Steps between preview grids (OUT_STEM-previews/stepN.png).",
)
@click.option(
    "--save-every",
    type=Int(1, MAX_STEPS),
    default=100,
    show_default=True,
    help="Steps between saves of the model and its resume state.",
)
@click.option("--resume", is_flag=True, help="Continue training the model in --out up to --steps.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@device_option
def faceswap_train(
    a: Path,
    b: Path,
    out: Path,
    size: str,
    width: int,
    steps: int,
    batch: int,
    lr: float,
    preview_every: int,
    save_every: int,
    resume: bool,
    seed: int,
    device: str,
) -> None:
    """Train a face-swap model (shared encoder, one decoder per identity) on A's and B's faces.

    Faces are found and FFHQ-aligned as by `stylegan align`; an image where no face is found is used whole, as an
    already-aligned crop (a face network's images are aligned crops)."""
    from ..device import pick_device
    from ..faceswap.train import preview_dir, train_faceswap

    model = train_faceswap(
        a,
        b,
        out,
        size=int(size),
        width=width,
        steps=steps,
        batch=batch,
        lr=lr,
        preview_every=preview_every,
        save_every=save_every,
        resume=resume,
        seed=seed,
        device=pick_device(device),
        log=click.echo,
        progress=True,
    )
    curve = model.info.losses
    first, last = curve[0], curve[-1]
    click.echo(
        f"trained {model.info.steps} steps: loss A {first[1]:.4f} -> {last[1]:.4f}, loss B {first[2]:.4f} -> "
        f"{last[2]:.4f}; wrote {out} (previews in {preview_dir(out)})"
    )


@faceswap.command("apply")
@click.option("--model", "model_path", type=click.Path(path_type=Path), required=True, help="A trained model file.")
@click.option("--video", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Video to write (.mp4 or .gif).")
@click.option(
    "--to",
    type=click.Choice(["a", "b"]),
    default="a",
    show_default=True,
    help="Draw the video's faces as this identity (a: the video is B's, its faces become A).",
)
@click.option(
    "--max-miss",
    type=Int(0, 10_000),
    default=5,
    show_default=True,
    help="Frames through which a face the detector loses keeps its last position.",
)
@click.option("--no-colour-transfer", is_flag=True, help="Keep the model's colours (default: match the face's).")
@device_option
def faceswap_apply(
    model_path: Path, video: Path, out: Path, to: str, max_miss: int, no_colour_transfer: bool, device: str
) -> None:
    """Swap the faces of a video: each face is aligned, re-drawn by the other identity's decoder and blended back
    (feathered landmark-hull mask, colour transfer); frames without a face pass unchanged, audio is copied."""
    from ..device import pick_device
    from ..faceswap.apply import swap_video
    from ..faceswap.model import load_faceswap

    model = load_faceswap(model_path, pick_device(device))
    r = swap_video(model, video, out, to=to, max_miss=max_miss, colours=not no_colour_transfer, progress=True)
    click.echo(
        f"wrote {out}: {r.frames} frames at {r.fps:g} fps; {r.detected} faces swapped, {r.carried} at a carried "
        f"position, {r.unchanged} frames without a face unchanged ({r.frames_per_second:.1f} frames/s)"
    )


commands: list[click.Command] = [faceswap]

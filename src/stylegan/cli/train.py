"""`stylegan train`: NVIDIA's train.py flags, each declared with the name of the setting it gives (`--gamma` is
`r1_gamma`), then `stylegan.train.prepare_run` and `start_run`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..presets import PRESETS
from .common import Command, device_option, pick_device

if TYPE_CHECKING:
    from ..train.loop import StopRequest


def _metric_list(ctx: click.Context, param: click.Parameter, text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(n.strip() for n in text.split(",") if n.strip())


@click.command("train", cls=Command)
@click.option("--outdir", type=click.Path(path_type=Path), help="Folder for run directories.")
@click.option("--data", "data_path", help="Dataset: folder or zip (see `stylegan dataset prepare`).")
@click.option("--cfg", "preset", default="auto", show_default=True, help=f"Preset: {', '.join(PRESETS)}.")
@click.option("--kimg", type=float, help="Training length in thousands of images (fractional, e.g. 0.1, is fine).")
@click.option(
    "--batch", type=int, help="Total batch size (all processes); growing presets: the same at every resolution."
)
@click.option("--batch-gpu", type=int, help="Micro-batch per process; smaller than batch/processes = accumulation.")
@click.option("--gamma", "r1_gamma", type=float, help="R1 weight (preset's or auto's formula otherwise).")
@click.option("--cbase", "channel_base", type=int, help="Channel base (feature maps = min(cbase / res, cmax)).")
@click.option("--cmax", "channel_max", type=int, help="Maximum feature maps per layer.")
@click.option("--map", "mapping_layers", type=int, help="Mapping network depth.")
@click.option("--mbstd-group", "mbstd_group_size", type=int, help="Minibatch-stddev group size.")
@click.option("--glr", "G_lr", type=float, help="G learning rate.")
@click.option("--dlr", "D_lr", type=float, help="D learning rate.")
@click.option("--pl-weight", type=float, help="Path length regularisation weight (0 = off).")
@click.option("--mixing", "style_mixing_prob", type=float, help="Style mixing probability (0 = off).")
@click.option("--ema", "ema_kimg", type=float, help="G_ema half-life in kimg.")
@click.option("--cond/--no-cond", default=False, show_default=True, help="Train on the dataset's labels.")
@click.option("--mirror/--no-mirror", default=False, show_default=True, help="Add x-flipped copies of the images.")
@click.option(
    "--aug",
    "augment_kind",
    type=click.Choice(["ada", "fixed", "none", "noaug"]),
    default="none",
    show_default=True,
    callback=lambda ctx, param, kind: "none" if kind == "noaug" else kind,
    help="Discriminator augmentation: adaptive (ADA), fixed p, or none.",
)
@click.option("--p", "augment_p", type=float, help="Augmentation probability (initial for ada, constant for fixed).")
@click.option(
    "--target", "augment_target", type=float, default=0.6, show_default=True, help="ADA target for E[sign(D(real))]."
)
@click.option(
    "--augpipe",
    "augment_pipe",
    default="bgc",
    show_default=True,
    help="Augmentations: b=blit, g=geometric, c=colour, n=noise, o=cutout.",
)
@click.option("--freezed", "freeze_layers", type=int, help="Freeze-D: number of leading D layers that do not train.")
@click.option("--lod-initial-res", type=int, help="Progressive growing: first resolution (stylegan1: 8).")
@click.option("--lod-training-kimg", type=float, help="Progressive growing: kimg per resolution (600).")
@click.option("--lod-transition-kimg", type=float, help="Progressive growing: kimg per fade-in (600).")
@click.option("--info-cat", type=int, help="Info-StyleGAN: a categorical latent code of this many values.")
@click.option("--info-cont", type=int, help="Info-StyleGAN: this many continuous latent codes (uniform in [-1, 1]).")
@click.option("--info-weight", type=float, help="Info-StyleGAN: weight of the code-recovery (Q) loss [1.0].")
@click.option("--resume", help="Continue a run exactly: `latest` (newest run under --outdir) or a run folder.")
@click.option(
    "--resume-from",
    help="Fine-tune from a network (any format `stylegan.load` reads): G, D, G_ema; "
    "kimg, Adam and ADA p start anew, without EMA ramp-up.",
)
@click.option("--snap", type=int, help="Snapshot (network + full state) every this many ticks.")
@click.option(
    "--metrics",
    default=None,
    metavar="LIST",
    callback=_metric_list,
    help="Metrics to evaluate at every snapshot, e.g. fid50k_full (see `stylegan metrics --list`).",
)
@click.option(
    "--snap-minutes",
    type=float,
    default=60.0,
    show_default=True,
    help="Also snapshot every this many minutes (0 = off).",
)
@click.option("--tick", "kimg_per_tick", type=float, help="kimg per tick (progress line, stats, fakes grid).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--subset", "max_size", type=int, help="Train on a random subset of this many images.")
@click.option("--workers", type=int, default=0, show_default=True, help="Data loader processes (0 = in-process).")
@click.option("--desc", "description", help="Extra words for the run folder name.")
@device_option
@click.option(
    "--precision",
    type=click.Choice(["auto", "fp32", "bf16"]),
    default="auto",
    show_default=True,
    help="Forward passes in float32 or bfloat16 autocast (weights stay fp32); auto = bf16 where the CPU (AMX, "
    "AVX512-BF16) or GPU runs it natively, about 2x faster, else fp32.",
)
@click.option(
    "--fp16-res",
    "num_fp16_res",
    type=int,
    help="GPU mixed precision: the N highest resolutions of G and D in float16 with fp32 precision (preset's: 4 "
    "for NVIDIA's presets, with conv clamp 256); 0 = off. CUDA only.",
)
@click.option(
    "--compile/--no-compile",
    default=False,
    show_default=True,
    help="torch.compile G's synthesis and D for the main losses (the first steps compile; a failure runs uncompiled).",
)
@click.option("--dry-run", is_flag=True, help="Print the resolved configuration and expected cost, then exit.")
@click.pass_context
def train(ctx: click.Context, **params: Any) -> None:
    """Train a StyleGAN2 or a StyleGAN (v1) on a dataset (growing progressively with --cfg stylegan1, sg1-a ... sg1-f,
    config-a ... config-d); continue exactly with --resume; many processes through torchrun.

    \b
    Examples:
      stylegan train --data digits32.zip --outdir runs --cfg cpu-small --kimg 50
      stylegan train --data faces.zip --outdir runs --cfg stylegan1 --mirror --kimg 25000
      stylegan train --data faces.zip --outdir runs --cfg paper256 --mirror --aug ada --kimg 5000
      stylegan train --data digits32.zip --outdir runs --cfg cpu-small --info-cat 10 --kimg 50
      stylegan train --outdir runs --resume latest
      torchrun --nproc_per_node 2 -m stylegan train --data faces.zip --outdir runs --cfg auto --kimg 1
    """
    from ..train.loop import StopRequest

    if params["dry_run"]:
        _plan_and_train(ctx, params, None)
        return
    with StopRequest() as stop:  # a signal while the run is prepared stops it after its first step, saved
        _plan_and_train(ctx, params, stop)


def _plan_and_train(ctx: click.Context, params: dict[str, Any], stop: StopRequest | None) -> None:
    from ..train.config import TrainOptions
    from ..train.runs import prepare_run, start_run

    device = pick_device(params["device"])
    # A resumed run takes every setting the user did not type from its config.json: defaults do not count.
    given = {k: v for k, v in params.items() if ctx.get_parameter_source(k) is not click.core.ParameterSource.DEFAULT}
    settings = given if params["resume"] else params
    options = TrainOptions(**{f.name: settings.get(f.name) for f in dataclasses.fields(TrainOptions)})
    plan = prepare_run(
        options,
        preset=settings.get("preset"),
        outdir=params["outdir"],
        resume=params["resume"],
        description=settings.get("description"),
        device=device,
        notify=lambda note: click.echo(note, err=True),
    )
    if params["dry_run"]:
        if plan.is_main:
            click.echo(plan.config.to_json())
            click.echo(f"run directory: {plan.run_dir}")
            click.echo(plan.cost())
        return
    start_run(plan, device, stop)


commands: list[click.Command] = [train]

"""`stylegan train`: build a TrainConfig from a preset and flags (NVIDIA's train.py names), then call the library."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import click

from ..errors import StyleGANError

#: Flags that may change when a run is resumed; every other training flag comes from the run's config.json.
_RESUMABLE = {
    "kimg",
    "snap",
    "snap_minutes",
    "tick",
    "workers",
    "data",
    "device",
    "outdir",
    "resume",
    "metrics",
    "precision",
}


def _explicit(ctx: click.Context) -> set[str]:
    """Names of the options the user typed (not defaults)."""
    return {
        name for name in ctx.params if ctx.get_parameter_source(name) not in (click.core.ParameterSource.DEFAULT, None)
    }


def _next_run_dir(outdir: Path, desc: str) -> Path:
    ids = [int(m.group(1)) for d in outdir.glob("*") if (m := re.match(r"^(\d+)-", d.name)) and d.is_dir()]
    return outdir / f"{max(ids, default=-1) + 1:05d}-{desc}"


def _augment_config(aug: str, p: float | None, target: float, augpipe: str) -> Any:
    from ..train.config import AugmentConfig

    kind = {"noaug": "none"}.get(aug, aug)
    try:
        return AugmentConfig(kind=kind, p=p if p is not None else 0.0, target=target, pipe=augpipe)  # type: ignore[arg-type]
    except ValueError as e:
        raise StyleGANError(str(e)) from None


def _from_checkpoint(cfg: Any, source: str, freezed: int | None) -> Any:
    """Replace the networks' architecture with the checkpoint's (inferred from the file, no weights built)."""
    from .. import io as sgio

    info = sgio.inspect(source)
    g_info = info.nets.get("G_ema") or info.nets.get("G")
    if g_info is None:
        raise StyleGANError(f"--resume-from {source}: the checkpoint holds no generator")
    G = g_info.config
    if (G.img_resolution, G.img_channels) != (cfg.G.img_resolution, cfg.G.img_channels):
        raise StyleGANError(
            f"--resume-from {source}: the network makes {G.img_resolution}x{G.img_resolution}x{G.img_channels} "
            f"images but the dataset is {cfg.G.img_resolution}x{cfg.G.img_resolution}x{cfg.G.img_channels}"
        )
    if G.c_dim != cfg.G.c_dim:
        raise StyleGANError(
            f"--resume-from {source}: the network has c_dim={G.c_dim}, the run needs {cfg.G.c_dim} "
            "(check --cond and the dataset's labels)"
        )
    d_info = info.nets.get("D")
    D = (
        d_info.config
        if d_info is not None
        else dataclasses.replace(cfg.D, channel_base=G.channel_base, channel_max=G.channel_max, conv_clamp=G.conv_clamp)
    )
    D = dataclasses.replace(D, mbstd_group_size=cfg.D.mbstd_group_size, freeze_layers=freezed or 0)
    # As NVIDIA's --resume: G_ema starts from a trained network, so no EMA ramp-up (it would first make G_ema a
    # copy of G), and ADA may move p five times faster (ada_kimg 100) to suit the new data.
    augment = dataclasses.replace(cfg.augment, kimg=100.0)
    return dataclasses.replace(cfg, G=G, D=D, resume_from=str(source), ema_rampup=None, augment=augment)


@click.command("train")
@click.option("--outdir", type=click.Path(path_type=Path), help="Folder for run directories.")
@click.option("--data", help="Dataset: folder or zip (see `stylegan dataset prepare`).")
@click.option(
    "--cfg",
    "preset",
    default="auto",
    show_default=True,
    help="Preset: auto, stylegan2, paper256, paper512, paper1024, cifar, cpu-small, cpu-tiny.",
)
@click.option("--kimg", type=float, help="Training length in thousands of images (fractional, e.g. 0.1, is fine).")
@click.option("--batch", type=int, help="Total batch size (all processes).")
@click.option("--batch-gpu", type=int, help="Micro-batch per process; smaller than batch/processes = accumulation.")
@click.option("--gamma", type=float, help="R1 weight (preset's or auto's formula otherwise).")
@click.option("--cbase", type=int, help="Channel base (feature maps = min(cbase / res, cmax)).")
@click.option("--cmax", type=int, help="Maximum feature maps per layer.")
@click.option("--map", "map_layers", type=int, help="Mapping network depth.")
@click.option("--mbstd-group", type=int, help="Minibatch-stddev group size.")
@click.option("--glr", type=float, help="G learning rate.")
@click.option("--dlr", type=float, help="D learning rate.")
@click.option("--pl-weight", type=click.FloatRange(min=0), help="Path length regularisation weight (0 = off).")
@click.option("--mixing", type=click.FloatRange(0, 1), help="Style mixing probability (0 = off).")
@click.option("--ema", type=click.FloatRange(min=0, min_open=True), help="G_ema half-life in kimg.")
@click.option("--cond/--no-cond", default=False, show_default=True, help="Train on the dataset's labels.")
@click.option("--mirror/--no-mirror", default=False, show_default=True, help="Add x-flipped copies of the images.")
@click.option(
    "--aug",
    type=click.Choice(["ada", "fixed", "none", "noaug"]),
    default="none",
    show_default=True,
    help="Discriminator augmentation: adaptive (ADA), fixed p, or none.",
)
@click.option("--p", "aug_p", type=float, help="Augmentation probability (initial for ada, constant for fixed).")
@click.option("--target", type=float, default=0.6, show_default=True, help="ADA target for E[sign(D(real))].")
@click.option(
    "--augpipe",
    default="bgc",
    show_default=True,
    help="Augmentations: b=blit, g=geometric, c=colour, n=noise, o=cutout.",
)
@click.option("--freezed", type=int, help="Freeze-D: number of leading D layers that do not train.")
@click.option("--resume", help="Continue a run exactly: `latest` (newest run under --outdir) or a run folder.")
@click.option(
    "--resume-from",
    help="Fine-tune from a network (any format `stylegan.load` reads): G, D, G_ema; "
    "kimg, Adam and ADA p start anew, without EMA ramp-up.",
)
@click.option("--snap", type=int, help="Snapshot (network + full state) every this many ticks.")
@click.option(
    "--metrics",
    "metrics",
    default=None,
    metavar="LIST",
    help="Metrics to evaluate at every snapshot, e.g. fid50k_full (see `stylegan metrics --list`).",
)
@click.option(
    "--snap-minutes",
    type=float,
    default=60.0,
    show_default=True,
    help="Also snapshot every this many minutes (0 = off).",
)
@click.option("--tick", type=float, help="kimg per tick (progress line, stats, fakes grid).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--subset", type=int, help="Train on a random subset of this many images.")
@click.option("--workers", type=int, default=0, show_default=True, help="Data loader processes (0 = in-process).")
@click.option("--desc", help="Extra words for the run folder name.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda", "mps"]), default="auto", show_default=True)
@click.option(
    "--precision",
    type=click.Choice(["fp32", "bf16"]),
    default="fp32",
    show_default=True,
    help="Forward passes in float32, or bfloat16 autocast (about 2x faster on CPUs with AMX; weights stay fp32).",
)
@click.option("--dry-run", is_flag=True, help="Print the resolved configuration and expected cost, then exit.")
@click.pass_context
def train(ctx: click.Context, **opts: Any) -> None:
    """Train a StyleGAN2 on a dataset; continue exactly with --resume; many processes through torchrun.

    \b
    Examples:
      stylegan train --data digits32.zip --outdir runs --cfg cpu-small --kimg 50
      stylegan train --data faces.zip --outdir runs --cfg paper256 --mirror --aug ada --kimg 5000
      stylegan train --outdir runs --resume latest
      torchrun --nproc_per_node 2 -m stylegan train --data faces.zip --outdir runs --cfg auto --kimg 1
    """
    from ..train.config import TrainConfig, describe_cost
    from ..train.distributed import gather_objects, init_distributed
    from ..train.loop import configure_backends
    from ..train.loop import train as run_training
    from ..train.state import find_run_to_resume
    from .common import pick_device

    device = pick_device(opts["device"])
    configure_backends(device)
    given = _explicit(ctx)
    dist_info = init_distributed(device.type)

    if opts["resume"]:
        if opts["resume_from"]:
            raise StyleGANError("--resume continues a run; --resume-from starts a new one: give one of them")
        bad = sorted(given - _RESUMABLE)
        if bad:
            flags = ", ".join("--" + b.replace("_", "-") for b in bad)
            raise StyleGANError(
                f"{flags} cannot change when resuming (the run's config.json is used); only --kimg, --snap, "
                "--snap-minutes, --tick, --workers, --data, --device and --precision may"
            )
        run_dir = find_run_to_resume(opts["resume"], opts["outdir"])
        try:
            saved = json.loads((run_dir / "config.json").read_text())
            cfg = TrainConfig.from_dict(saved["config"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise StyleGANError(f"{run_dir}/config.json: cannot read the run's configuration ({e})") from None
        cfg = _resume_overrides(cfg, opts, given)
        if opts["dry_run"]:
            _print_dry_run(cfg, run_dir, describe_cost(cfg, dist_info.world_size), dist_info.is_main)
            return
        run_training(cfg, run_dir, device=device, resume=True)
        return

    if not opts["data"] or not opts["outdir"]:
        raise StyleGANError("--data and --outdir are required (or --resume to continue a run)")
    cfg = _new_config(opts, dist_info.world_size)
    desc = f"{Path(opts['data']).stem}-{cfg.preset}-batch{cfg.batch}-gamma{cfg.loss.r1_gamma:g}"
    if cfg.augment.kind != "none":
        desc += f"-{cfg.augment.kind}"
    if opts["desc"]:
        desc += f"-{opts['desc']}"
    if opts["dry_run"]:
        _print_dry_run(
            cfg, Path(opts["outdir"]) / f"NNNNN-{desc}", describe_cost(cfg, dist_info.world_size), dist_info.is_main
        )
        return
    run_dir = gather_objects(_next_run_dir(Path(opts["outdir"]), desc) if dist_info.is_main else None)[0]
    run_training(cfg, run_dir, device=device)


def _new_config(opts: dict[str, Any], world_size: int) -> Any:
    from ..data.dataset import ImageDataset
    from ..train.config import DataConfig, build_config

    metrics = _metric_names(opts["metrics"])  # before any work: a typo fails at once
    ds = ImageDataset(opts["data"], use_labels=opts["cond"])
    if ds.has_labels and not opts["cond"]:
        click.echo(
            f"note: {ds.path.name} has labels ({ds.label_dim} classes{_class_list(ds)}); "
            "add --cond to train a conditional model",
            err=True,
        )
    if ds.has_labels and opts["cond"]:
        click.echo(f"conditional training on {ds.label_dim} classes{_class_list(ds)}", err=True)
    data = DataConfig(
        path=str(opts["data"]),
        mirror=opts["mirror"],
        cond=opts["cond"],
        max_size=opts["subset"],
        workers=opts["workers"],
    )
    cfg = build_config(
        opts["preset"],
        resolution=ds.resolution,
        img_channels=ds.num_channels,
        c_dim=ds.label_dim if opts["cond"] else 0,
        gpus=world_size,
        data=data,
        batch=opts["batch"],
        batch_gpu=opts["batch_gpu"],
        gamma=opts["gamma"],
        cbase=opts["cbase"],
        cmax=opts["cmax"],
        map=opts["map_layers"],
        mbstd_group=opts["mbstd_group"],
        glr=opts["glr"],
        dlr=opts["dlr"],
        kimg=opts["kimg"],
        kimg_per_tick=opts["tick"],
        snap=opts["snap"],
        snap_minutes=opts["snap_minutes"] or None,
        seed=opts["seed"],
        freezed=opts["freezed"],
        augment=_augment_config(opts["aug"], opts["aug_p"], opts["target"], opts["augpipe"]),
        metrics=metrics,
        precision=opts["precision"],
        pl_weight=opts["pl_weight"],
        style_mixing_prob=opts["mixing"],
        ema_kimg=opts["ema"],
    )
    ds.close()
    if opts["resume_from"]:
        cfg = _from_checkpoint(cfg, opts["resume_from"], opts["freezed"])
    cfg.per_rank(world_size)  # batch / processes / micro-batch / mbstd group errors now, not in the loop
    return cfg


def _metric_names(text: str | None) -> tuple[str, ...] | None:
    """Validate --metrics now, so a typo fails before training rather than at the first snapshot."""
    if not text:
        return None
    from ..metrics import parse_metric

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    for n in names:
        try:
            parse_metric(n)
        except (ValueError, KeyError) as e:
            raise StyleGANError(f"--metrics: {e}") from None
    return names


def _class_list(ds: Any) -> str:
    if not ds.class_names:
        return ""
    names = list(ds.class_names)
    return ": " + ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")


def _resume_overrides(cfg: Any, opts: dict[str, Any], given: set[str]) -> Any:
    changes: dict[str, Any] = {}
    if "kimg" in given:
        changes["kimg"] = opts["kimg"]
    if "snap" in given:
        changes["snap"] = opts["snap"]
    if "snap_minutes" in given:
        changes["snap_minutes"] = opts["snap_minutes"] or None
    if "tick" in given:
        changes["kimg_per_tick"] = opts["tick"]
    if "metrics" in given:
        changes["metrics"] = _metric_names(opts["metrics"]) or ()
    if "precision" in given:
        changes["precision"] = opts["precision"]
    data_changes = {}
    if "workers" in given:
        data_changes["workers"] = opts["workers"]
    if "data" in given:
        data_changes["path"] = str(opts["data"])
    if data_changes:
        changes["data"] = dataclasses.replace(cfg.data, **data_changes)
    try:
        return dataclasses.replace(cfg, **changes)
    except ValueError as e:
        raise StyleGANError(str(e)) from None


def _print_dry_run(cfg: Any, run_dir: Path, cost: str, is_main: bool) -> None:
    if not is_main:
        return
    click.echo(cfg.to_json())
    click.echo(f"run directory: {run_dir}")
    click.echo(cost)


commands: list[click.Command] = [train]

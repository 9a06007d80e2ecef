"""`stylegan metrics`: FID, KID, precision/recall, IS and PPL of a network, appended to a JSON-lines file."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import StyleGANError
from .common import MAX_BATCH, device_option, load_network_for_cli, network_option
from .params import SEED, Int


def _status_lines() -> list[str]:
    from ..metrics.detectors import INCEPTION_FILE, VGG16_FILE, find_nvidia_file, find_offline_inception
    from ..metrics.perceptual import find_offline_lpips

    def show(path: Path | None) -> str:
        return str(path) if path is not None else "not found"

    return [
        f"  NVIDIA {INCEPTION_FILE:26s} {show(find_nvidia_file('inception'))}",
        f"  NVIDIA {VGG16_FILE:26s} {show(find_nvidia_file('vgg16'))}",
        f"  offline Inception (fid-helper)    {show(find_offline_inception())}",
        f"  offline LPIPS (stlpips)           {show(find_offline_lpips())}",
    ]


def _list_text() -> str:
    from ..metrics.detectors import metrics_cache_dir
    from ..metrics.registry import STANDARD_METRICS

    lines = ["Metrics (any sample count works too: fid10k, fid2k_full, kid1k_full, pr10k3, is5k, ppl_wend1k):"]
    lines += [f"  {name:12s} {desc}" for name, desc in STANDARD_METRICS.items()]
    lines += ["", f"Detectors (NVIDIA's files go in {metrics_cache_dir()}/):", *_status_lines()]
    return "\n".join(lines)


@click.command("metrics")
@network_option
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=None,
    help="Dataset folder or zip: the real images (and labels of a conditional network).",
)
@click.option(
    "--metrics",
    "metric_names",
    default="fid50k_full",
    show_default=True,
    help="Comma-separated metric names, e.g. fid50k_full,kid50k_full,pr50k3_full,ppl2_wend.",
)
@click.option(
    "--detector",
    type=click.Choice(["auto", "nvidia", "offline"]),
    default="auto",
    show_default=True,
    help="auto = NVIDIA's files if present, else offline ones; nvidia = download them.",
)
@click.option(
    "--inception",
    "inception_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="NVIDIA's inception-2015-12-05.pt (TorchScript).",
)
@click.option(
    "--vgg16",
    "vgg16_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="NVIDIA's vgg16.pt (TorchScript): precision/recall features and PPL's LPIPS.",
)
@click.option(
    "--outdir",
    type=click.Path(path_type=Path),
    default=None,
    help="Write metrics.jsonl here (default: beside the network file, or the current folder).",
)
@click.option(
    "--jsonl",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append results to this file instead.",
)
@click.option(
    "--batch",
    "batch_size",
    type=Int(1, MAX_BATCH),
    default=32,
    show_default=True,
    help="Images per generator/detector call.",
)
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of all sampling.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the cached dataset statistics.")
@click.option("--list", "list_only", is_flag=True, help="List metric names and where the detectors are, then exit.")
@device_option
def metrics(
    network: str | None,
    data: Path | None,
    metric_names: str,
    detector: str,
    inception_file: Path | None,
    vgg16_file: Path | None,
    outdir: Path | None,
    jsonl: Path | None,
    batch_size: int,
    seed: int,
    no_cache: bool,
    list_only: bool,
    device: str,
) -> None:
    """Measure a network with NVIDIA's protocol (FID, KID, precision/recall, IS, PPL).

    Each result is printed and appended as one JSON line (metric, values, sample counts, detector file and
    sha256, network, dataset, time). Dataset statistics are cached and reused.

    \b
    Examples:
      stylegan metrics --network net.pkl --data ffhq.zip --metrics fid50k_full,kid50k_full,pr50k3_full
      stylegan metrics --network run/snap.safetensors --data cats.zip --metrics fid10k,ppl2_wend --outdir run
      stylegan metrics --network net.pkl --metrics ppl_zfull,ppl_wend,is50k --detector nvidia
      stylegan metrics --list
    """
    if list_only:
        click.echo(_list_text())
        return
    from ..io import resolve_network
    from ..metrics import compute_metrics, default_jsonl_path, parse_metric_list

    specs = parse_metric_list(metric_names)
    network = resolve_network(network)
    needs_data = [s.name for s in specs if s.uses_reals]
    if needs_data and data is None:
        raise StyleGANError(f"{', '.join(needs_data)} compare(s) against real images: pass --data DATASET")
    G = load_network_for_cli(network, device)
    out = jsonl if jsonl is not None else default_jsonl_path(network, outdir)
    compute_metrics(
        G,
        specs,
        data=data,
        detector=detector,
        inception_file=inception_file,
        vgg16_file=vgg16_file,
        batch_size=batch_size,
        seed=seed,
        cache=not no_cache,
        progress=True,
        network=network,
        jsonl=out,
        on_result=lambda res: click.echo(str(res)),
    )
    click.echo(f"results appended to {out}", err=True)


commands: list[click.Command] = [metrics]

"""`stylegan info`, `stylegan convert` and `stylegan pretrained`: look into, convert and list checkpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..io import CheckpointInfo
    from ..io.conversion import ConvertTarget, ConvertWhich


def _fmt_int(n: int) -> str:
    return f"{n:,}"


def format_info(info: CheckpointInfo) -> str:
    """A human-readable description of a `stylegan.io.CheckpointInfo`."""
    from ..io.checkpoint import format_size
    from ..networks.config import weights_limit

    lines = [
        f"file            {info.path}",
        f"format          {info.source_format} ({info.format_description})",
        f"networks        {', '.join(info.nets) or 'none'}",
    ]
    for name, net in info.nets.items():
        lines.append("")
        too_big = " (more than this machine can load)" if net.nbytes > weights_limit() else ""
        lines.append(
            f"{name:<15} {net.kind}, {_fmt_int(net.num_params)} parameters "
            f"(+ {_fmt_int(net.num_buffers)} buffer values), {format_size(net.nbytes)}{too_big}"
        )
        lines += net.architecture_lines()
    if info.metadata:
        lines.append("")
        lines.append("metadata")
        for key, value in info.metadata.items():
            if isinstance(value, dict) and key == "model_card":  # one line per field
                lines.append(f"  {key}")
                for field_name, field_value in value.items():
                    if isinstance(field_value, list) and field_value and all(isinstance(v, dict) for v in field_value):
                        lines.append(f"    {field_name}")  # e.g. training stages: one line each
                        lines += [
                            f"      {i}. " + " | ".join(f"{k} {v}" for k, v in item.items() if v != "")
                            for i, item in enumerate(field_value, 1)
                        ]
                        continue
                    text = field_value if isinstance(field_value, str) else json.dumps(field_value)
                    lines.append(f"    {field_name:<17} {text}")
                continue
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            lines.append(f"  {key:<13} {text}")
    return "\n".join(lines)


def _info_json(info: CheckpointInfo) -> dict[str, Any]:
    return {
        "path": str(info.path),
        "source_format": info.source_format,
        "nets": {
            name: {"kind": net.kind, "num_params": net.num_params, "nbytes": net.nbytes, "config": net.config.to_dict()}
            for name, net in info.nets.items()
        },
        "metadata": info.metadata,
    }


@click.command()
@click.argument("source", metavar="NAME|PATH|URL")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def info(source: str, as_json: bool) -> None:
    """Describe a checkpoint: format, networks, architecture, resolution, dimensions, parameter counts, metadata.

    Reads any supported file (our .safetensors, NVIDIA PyTorch or TF .pkl, rosinality .pt) without running
    code from it.

    \b
    Examples:
      stylegan info network-snapshot-001000.pkl
      stylegan info ffhq-1024 --json
    """
    from ..io import inspect

    result = inspect(source)
    click.echo(json.dumps(_info_json(result), indent=2, sort_keys=True) if as_json else format_info(result))


@click.command()
@click.argument("source", metavar="NAME|PATH|URL")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Output file (.safetensors for our format, .pt for rosinality).",
)
@click.option(
    "--which",
    type=click.Choice(["all", "G_ema"]),
    default="all",
    show_default=True,
    help="Keep every network in the file (G_ema, G, D) or only the inference generator.",
)
@click.option(
    "--to",
    "to",
    type=click.Choice(["stylegan", "rosinality"]),
    default="stylegan",
    show_default=True,
    help="Our safetensors format, or rosinality's .pt (which pSp, e4e and GANSpace read).",
)
@click.option("--fp16", is_flag=True, help="Store weights as float16 (half the size; loads back as float32).")
@click.option("--license", "license_text", default=None, help="Licence text to record (default: the source's).")
def convert(
    source: str, out: Path, which: ConvertWhich, to: ConvertTarget, fp16: bool, license_text: str | None
) -> None:
    """Convert any supported checkpoint to our safetensors format (or to rosinality's layout).

    \b
    Examples:
      stylegan convert network-snapshot-001000.pkl --out mynet.safetensors
      stylegan convert stylegan2-ffhq-config-f.pkl --out ffhq.safetensors --which G_ema --fp16
      stylegan convert mynet.safetensors --out mynet-rosinality.pt --to rosinality
    """
    from ..io import convert as convert_checkpoint

    result = convert_checkpoint(source, out, which=which, to=to, fp16=fp16, license=license_text)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    kept = ", ".join(result.nets)
    size = result.size_bytes / 2**20
    click.echo(f"wrote {out} ({to} format, {kept}; {size:.1f} MiB) from {source} ({result.source_format})")


@click.command()
def pretrained() -> None:
    """List the published networks that `--network NAME` and `stylegan.load(NAME)` can download.

    \b
    Example:
      stylegan pretrained
    """
    from ..io import cache_dir, list_pretrained

    entries = list_pretrained()
    width = max(len(e.name) for e in entries)
    for entry in entries:
        res = f"{entry.resolution}px" if entry.resolution else ""
        if entry.crop is not None:  # the size of the images `generate` writes
            res = f"{entry.crop[2] - entry.crop[0]}x{entry.crop[3] - entry.crop[1]}"
        click.echo(f"{entry.name:<{width}} {res:>7}  {entry.format:<15} {entry.description}")
    click.echo(f"\ncache: {cache_dir()}  (set STYLEGAN_CACHE to change)")


commands: list[click.Command] = [info, convert, pretrained]

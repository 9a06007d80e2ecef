"""`stylegan info`, `stylegan convert` and `stylegan pretrained`: look into, convert and list checkpoints."""

from __future__ import annotations

import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

import click

from ..errors import CheckpointError, StyleGANError


def _fmt_int(n: int) -> str:
    return f"{n:,}"


def format_info(info: Any) -> str:
    """A human-readable description of a `stylegan.io.CheckpointInfo`."""
    from ..networks import GeneratorConfig

    lines = [
        f"file            {info.path}",
        f"format          {info.source_format} ({info.format_description})",
        f"networks        {', '.join(info.nets) or 'none'}",
    ]
    for name, net in info.nets.items():
        cfg = net.config
        res = cfg.img_resolution
        lines.append("")
        lines.append(
            f"{name:<15} {net.kind}, {_fmt_int(net.num_params)} parameters "
            f"(+ {_fmt_int(net.num_buffers)} buffer values)"
        )
        lines.append(f"  architecture  {cfg.architecture}")
        lines.append(f"  resolution    {res}x{res}, img_channels {cfg.img_channels}")
        if isinstance(cfg, GeneratorConfig):
            lines.append(f"  z_dim {cfg.z_dim}, w_dim {cfg.w_dim}, c_dim {cfg.c_dim}, num_ws {cfg.num_ws}")
            width = cfg.mapping_layer_features or cfg.w_dim
            lines.append(
                f"  mapping       {cfg.mapping_layers} layers of {width}, lr multiplier {cfg.mapping_lr_multiplier:g}"
            )
            noise = "" if cfg.use_noise else ", no noise inputs"
        else:
            cmap = f", cmap_dim {cfg.cmap_dim}" if cfg.cmap_dim is not None else ""
            lines.append(
                f"  c_dim {cfg.c_dim}{cmap}, minibatch-stddev group {cfg.mbstd_group_size}, "
                f"{cfg.mbstd_num_channels} channel(s)"
            )
            noise = ""
        clamp = f"{cfg.conv_clamp:g}" if cfg.conv_clamp is not None else "none"
        lines.append(
            f"  channels      channel_base {cfg.channel_base}, channel_max {cfg.channel_max}; conv_clamp {clamp}{noise}"
        )
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


def _info_json(info: Any) -> dict[str, Any]:
    return {
        "path": str(info.path),
        "source_format": info.source_format,
        "nets": {
            name: {"kind": net.kind, "num_params": net.num_params, "config": net.config.to_dict()}
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


def _license_for(source: str, metadata: dict[str, Any]) -> str | None:
    from ..io import pretrained

    if isinstance(metadata.get("license"), str):
        return metadata["license"]
    if source in {e.name for e in pretrained.list_pretrained()} and not Path(source).exists():
        return pretrained.get(source).license
    return None


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
def convert(source: str, out: Path, which: str, to: str, fp16: bool, license_text: str | None) -> None:
    """Convert any supported checkpoint to our safetensors format (or to rosinality's layout).

    \b
    Examples:
      stylegan convert network-snapshot-001000.pkl --out mynet.safetensors
      stylegan convert stylegan2-ffhq-config-f.pkl --out ffhq.safetensors --which G_ema --fp16
      stylegan convert mynet.safetensors --out mynet-rosinality.pt --to rosinality
    """
    import torch

    from ..images import atomic_write_bytes
    from ..io import load, resolve, save
    from ..io.formats.rosinality import to_rosinality

    src_path = resolve(source)
    if out.exists() and src_path.exists() and os.path.samefile(out, src_path):
        raise StyleGANError(f"{out}: is the source file; choose another --out")
    nets = load(source, which="all")
    if nets.G_ema is None:
        raise CheckpointError(f"{source}: has no G_ema generator to convert")
    G = nets.G if which == "all" else None
    D = nets.D if which == "all" else None
    if to == "rosinality":
        if fp16:
            raise StyleGANError("--fp16 applies to our format only; rosinality files store float32")
        buffer = io.BytesIO()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                exported = to_rosinality(nets.G_ema, G, D, strict=True)
        except CheckpointError as err:
            raise CheckpointError(f"{source}: {err}") from None
        for warning in caught:
            click.echo(f"warning: {warning.message}", err=True)
        torch.save(exported, buffer)
        atomic_write_bytes(out, buffer.getvalue())
    else:
        metadata = {k: v for k, v in nets.metadata.items() if k not in ("source", "license", "source_format")}
        metadata["source"] = nets.metadata.get("source", source)
        metadata["source_format"] = nets.metadata.get("source_format", nets.source_format)
        licence = license_text or _license_for(source, nets.metadata)
        if licence:
            metadata["license"] = licence
        try:
            save(out, G_ema=nets.G_ema, G=G, D=D, metadata=metadata, dtype=torch.float16 if fp16 else None)
        except ValueError as err:
            raise StyleGANError(f"{source}: cannot convert ({err})") from None
    kept = ", ".join(n for n, net in (("G_ema", nets.G_ema), ("G", G), ("D", D)) if net is not None)
    size = out.stat().st_size / 2**20
    click.echo(f"wrote {out} ({to} format, {kept}; {size:.1f} MiB) from {source} ({nets.source_format})")


@click.command()
def pretrained() -> None:
    """List the published networks that `--network NAME` and `stylegan.load(NAME)` can download.

    \b
    Example:
      stylegan pretrained
    """
    from ..io import cache_dir, list_pretrained

    for entry in list_pretrained():
        res = f"{entry.resolution}px" if entry.resolution else ""
        click.echo(f"{entry.name:<22} {res:>7}  {entry.format:<15} {entry.description}")
    click.echo(f"\ncache: {cache_dir()}  (set STYLEGAN_CACHE to change)")


commands: list[click.Command] = [info, convert, pretrained]

"""`convert`: any checkpoint we read -> our safetensors format (or rosinality's .pt), keeping its metadata.

>>> import tempfile, stylegan.io
>>> from stylegan.testing import tiny_generator
>>> folder = tempfile.mkdtemp()
>>> src = stylegan.io.save(folder + "/a.safetensors", G_ema=tiny_generator(), metadata={"license": "CC0"})
>>> result = stylegan.io.convert(src, folder + "/b.safetensors", fp16=True)
>>> result.nets, stylegan.io.inspect(result.out).metadata["license"]
(['G_ema'], 'CC0')
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from ..errors import CheckpointError, SettingError, StyleGANError
from ..fileio import atomic_write_bytes
from . import pretrained
from .checkpoint import load, save

#: What `convert` keeps: every network of the file, or only the inference generator.
ConvertWhich = Literal["all", "G_ema"]
#: The layouts `convert` writes: ours (.safetensors) or rosinality's stylegan2-pytorch (.pt).
ConvertTarget = Literal["stylegan", "rosinality"]


@dataclass
class ConvertResult:
    """What `convert` wrote."""

    out: Path
    to: ConvertTarget
    nets: list[str]  # the networks written, among "G_ema", "G", "D"
    source_format: str  # the format the source was read as
    warnings: list[str] = field(default_factory=list)  # what the target layout cannot hold (e.g. conv_clamp)

    @property
    def size_bytes(self) -> int:
        return self.out.stat().st_size


def source_license(source: str | os.PathLike[str], metadata: dict[str, Any]) -> str | None:
    """The licence of a checkpoint: the one in its metadata, else the registry's for a registered network name."""
    if isinstance(metadata.get("license"), str):
        return metadata["license"]
    name = str(source)
    if name in {e.name for e in pretrained.list_pretrained()} and not Path(name).exists():
        return pretrained.get(name).license
    return None


def convert(
    source: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    which: ConvertWhich = "all",
    to: ConvertTarget = "stylegan",
    fp16: bool = False,
    license: str | None = None,
) -> ConvertResult:
    """Convert a checkpoint (any format `load` reads: a path, URL or registry name) into `out`.

    Args:
        source: the checkpoint to read.
        out: the file to write (atomically); it may not be the source file itself.
        which: "all" keeps every network of the file (G_ema, G, D), "G_ema" only the inference generator.
        to: "stylegan" (our safetensors format) or "rosinality" (the .pt layout pSp, e4e and GANSpace read).
        fp16: store weights as float16 (half the size; they load back as float32). Our format only.
        license: licence text to record; default: the source's (from its metadata or the registry).

    Our format keeps the source's metadata, and records `source` (the original source when the file was itself
    converted), `source_format` and the licence. A rosinality export drops what rosinality's code cannot represent
    (such as conv_clamp); `ConvertResult.warnings` says what.

    Raises:
        SettingError: `out` is the source file, or `fp16` with `to="rosinality"`.
        StyleGANError: networks our format cannot store.
        CheckpointError: the source cannot be read, has no G_ema, or cannot be written in rosinality's layout.
    """
    out = Path(out)
    src_path = pretrained.resolve(source)
    try:
        same = out.exists() and src_path.exists() and os.path.samefile(out, src_path)
    except OSError:  # e.g. a name too long for the file system: writing `out` says so in one line
        same = False
    if same:
        raise SettingError(f"{out}: is the source file; choose another {{out}}", "out")
    nets = load(source, which="all")
    if nets.G_ema is None:
        raise CheckpointError(f"{source}: has no G_ema generator to convert")
    G = nets.G if which == "all" else None
    D = nets.D if which == "all" else None
    result = ConvertResult(
        out, to, [n for n, net in (("G_ema", nets.G_ema), ("G", G), ("D", D)) if net is not None], nets.source_format
    )
    if to == "rosinality":
        from .formats.rosinality import to_rosinality

        if fp16:
            raise SettingError("{fp16} applies to our format only; rosinality files store float32", "fp16")
        buffer = io.BytesIO()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                exported = to_rosinality(nets.G_ema, G, D, strict=True)
        except CheckpointError as err:
            raise CheckpointError(f"{source}: {err}") from None
        result.warnings = [str(w.message) for w in caught]
        torch.save(exported, buffer)
        atomic_write_bytes(out, buffer.getvalue())
        return result
    metadata = {k: v for k, v in nets.metadata.items() if k not in ("source", "license", "source_format")}
    metadata["source"] = nets.metadata.get("source", str(source))
    metadata["source_format"] = nets.metadata.get("source_format", nets.source_format)
    licence = license or source_license(source, nets.metadata)
    if licence:
        metadata["license"] = licence
    try:
        save(out, G_ema=nets.G_ema, G=G, D=D, metadata=metadata, dtype=torch.float16 if fp16 else None)
    except ValueError as err:
        raise StyleGANError(f"{source}: cannot convert ({err})") from None
    return result


__all__ = ["ConvertResult", "ConvertTarget", "ConvertWhich", "convert", "source_license"]

"""StyleGAN (version 1) networks (Karras, Laine & Aila, "A Style-Based Generator Architecture for Generative
Adversarial Networks", 2019): the mapping network, the style-based synthesis network with AdaIN and noise inputs,
and the discriminator, both with progressive growing.

Build a generator with `stylegan.networks.Generator(v1.GeneratorConfig(...))`: the same class, with the same
interface, serves both versions (`G.version` tells which). The discriminator is `v1.Discriminator`.
"""

from __future__ import annotations

from torch import nn

from .config import DiscriminatorConfig, GeneratorConfig, count_parameters, uses_fused_scale
from .discriminator import Discriminator, DiscriminatorBlock, DiscriminatorEpilogue
from .layers import Blur, Conv2dLayer, downscale2d, instance_norm, pixel_norm, upscale2d
from .mapping import MappingNetwork
from .synthesis import SynthesisBlock, SynthesisLayer, SynthesisNetwork


def set_lod(module: nn.Module, lod: float) -> None:
    """Set the level of detail of every progressive-growing network inside `module` (0 = full resolution)."""
    for name, buf in module.named_buffers():
        if name == "lod" or name.endswith(".lod"):
            buf.fill_(float(lod))


def get_lod(module: nn.Module) -> float | None:
    """The level of detail of the first progressive-growing network inside `module`, or None when it has none."""
    for name, buf in module.named_buffers():
        if name == "lod" or name.endswith(".lod"):
            return float(buf)
    return None


__all__ = [
    "Blur",
    "Conv2dLayer",
    "Discriminator",
    "DiscriminatorBlock",
    "DiscriminatorConfig",
    "DiscriminatorEpilogue",
    "GeneratorConfig",
    "MappingNetwork",
    "SynthesisBlock",
    "SynthesisLayer",
    "SynthesisNetwork",
    "count_parameters",
    "downscale2d",
    "get_lod",
    "instance_norm",
    "pixel_norm",
    "set_lod",
    "upscale2d",
    "uses_fused_scale",
]

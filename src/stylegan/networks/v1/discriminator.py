"""Discriminator of StyleGAN (version 1): Progressive GAN's discriminator with the [1, 2, 1] blur before every
down-sampling convolution.

FromRGB (1x1) at the resolution being read, then per resolution: conv0 (3x3) and conv1 (blur, 3x3, 2x down), then
the 4x4 head: minibatch standard deviation (appended as the last feature map), a 3x3 convolution, a dense layer and
the output layer (one score, or one per class with the label picking it). Every layer has the equalised learning
rate with gain sqrt(2) on its weights and a leaky ReLU, except the output (gain 1, linear).

Progressive growing: with lod = f + t the image is box-downsampled by 2^f and read by the FromRGB of resolution
R / 2^f; after that resolution's block, its features are blended with weight t with the FromRGB of the image
downsampled once more (the resolution being faded out). Blocks above R / 2^f are not computed.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from ...nn.equalized import EqualizedLinear
from ..config import channels_at
from ..discriminator import MinibatchStdLayer
from .config import DiscriminatorConfig, uses_fused_scale
from .layers import SQRT2, Conv2dLayer, downscale2d


class DiscriminatorBlock(nn.Module):
    """One resolution r > 4: [FromRGB] -> conv0 (3x3) -> conv1 (blur, 3x3, down 2x: fused from 128 px)."""

    def __init__(self, cfg: DiscriminatorConfig, resolution: int) -> None:
        super().__init__()
        self.resolution = resolution
        c, c_out = (channels_at(r, cfg.channel_base, cfg.channel_max) for r in (resolution, resolution // 2))
        if cfg.structure == "linear" or resolution == cfg.img_resolution:
            self.fromrgb = Conv2dLayer(cfg.img_channels, c, 1)
        self.conv0 = Conv2dLayer(c, c, 3)
        fused = uses_fused_scale(cfg.fused_scale, resolution)
        self.conv1 = Conv2dLayer(c, c_out, 3, down=True, fused=fused, blur=cfg.blur_filter)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv1(self.conv0(x))

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}"


class DiscriminatorEpilogue(nn.Module):
    """The 4x4 head: [FromRGB] -> minibatch stddev -> conv (3x3) -> fc (dense) -> out (dense, gain 1)."""

    def __init__(self, cfg: DiscriminatorConfig) -> None:
        super().__init__()
        c = channels_at(4, cfg.channel_base, cfg.channel_max)
        c_fc = channels_at(2, cfg.channel_base, cfg.channel_max)
        if cfg.structure == "linear" or cfg.img_resolution == 4:
            self.fromrgb = Conv2dLayer(cfg.img_channels, c, 1)
        use_mbstd = cfg.mbstd_group_size > 1 and cfg.mbstd_num_features > 0  # as NVIDIA: a group of 1 turns it off
        self.mbstd = MinibatchStdLayer(cfg.mbstd_group_size, cfg.mbstd_num_features) if use_mbstd else None
        self.conv = Conv2dLayer(c + (cfg.mbstd_num_features if use_mbstd else 0), c, 3)
        self.fc = EqualizedLinear(c * 16, c_fc, gain=SQRT2)
        self.out = EqualizedLinear(c_fc, max(cfg.c_dim, 1))

    def forward(self, x: Tensor) -> Tensor:
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.conv(x)
        x = nn.functional.leaky_relu(self.fc(x.flatten(1)), 0.2)
        return self.out(x)


class Discriminator(nn.Module):
    """D(img, c) -> logits [N, 1], reading the image at the level of detail `lod` (buffer `lod`)."""

    lod: Tensor

    def __init__(self, cfg: DiscriminatorConfig | None = None, **kwargs: Any) -> None:
        super().__init__()
        cfg = cfg if cfg is not None else DiscriminatorConfig(**kwargs)
        self.cfg = cfg
        self.version = 1
        self.c_dim = cfg.c_dim
        self.img_resolution = cfg.img_resolution
        self.img_resolution_log2 = int(math.log2(cfg.img_resolution))
        self.img_channels = cfg.img_channels
        self.structure = cfg.structure
        self.block_resolutions = [2**i for i in range(self.img_resolution_log2, 2, -1)]
        for res in self.block_resolutions:
            setattr(self, f"b{res}", DiscriminatorBlock(cfg, res))
        self.b4 = DiscriminatorEpilogue(cfg)
        self.register_buffer("lod", torch.zeros([]))

    def forward(self, img: Tensor, c: Tensor | None = None, **_ignored: object) -> Tensor:
        expected = [self.img_channels, self.img_resolution, self.img_resolution]
        if img.ndim != 4 or list(img.shape[1:]) != expected:
            raise ValueError(f"img must have shape [N, {', '.join(map(str, expected))}], got {list(img.shape)}")
        if self.c_dim > 0 and (c is None or c.ndim != 2 or c.shape[1] != self.c_dim):
            got = None if c is None else list(c.shape)
            raise ValueError(f"this discriminator is conditional: c must have shape [N, {self.c_dim}], got {got}")
        lod = 0.0 if self.structure == "fixed" else min(max(float(self.lod), 0.0), self.img_resolution_log2 - 2)
        level = int(math.floor(lod))
        fade = lod - level  # weight of the lower resolution
        top = self.img_resolution >> level
        img = img.to(torch.float32)
        head = self.b4 if top == 4 else getattr(self, f"b{top}")
        x = head.fromrgb(downscale2d(img, 2**level))
        for res in self.block_resolutions:
            if res > top:
                continue
            x = getattr(self, f"b{res}")(x)
            if res == top and fade > 0:  # lerp(x, fromrgb(image at res / 2), fade)
                lower = self.b4 if res == 8 else getattr(self, f"b{res // 2}")
                x = x + (lower.fromrgb(downscale2d(img, 2 ** (level + 1))) - x) * fade
        x = self.b4(x)
        if self.c_dim > 0:  # the score of the labelled class
            assert c is not None
            x = (x * c.to(x.dtype)).sum(dim=1, keepdim=True)
        return x

    def extra_repr(self) -> str:
        return f"c_dim={self.c_dim}, img_resolution={self.img_resolution}, img_channels={self.img_channels}"

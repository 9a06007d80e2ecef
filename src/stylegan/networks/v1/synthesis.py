"""Style-based synthesis network g: w -> image of StyleGAN (version 1), §2 and Figure 1 of the paper.

Every layer ends with the same epilogue: + B (per-channel scaled noise) -> + bias -> leaky ReLU -> [PixelNorm] ->
[InstanceNorm] -> style modulation by A(w). InstanceNorm followed by the style is AdaIN:
AdaIN(x, y) = y_s (x - mu(x)) / sigma(x) + y_b, with y = A(w) and y_s = 1 + the first half of y.

Progressive growing (Karras et al. 2018): every resolution has its ToRGB, and the level of detail `lod` (0 = full
resolution, buffer `lod`) selects what is drawn. With lod = f + t (f integer, 0 <= t < 1) the image is the ToRGB of
resolution R / 2^f, blended with weight t with the nearest-upsampled ToRGB of the resolution below (the layer being
faded in), then nearest-upsampled to R x R. Layers above R / 2^f are not computed.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ...nn.equalized import EqualizedLinear
from ..config import channels_at
from ..synthesis import NoiseMode
from .config import GeneratorConfig, uses_fused_scale
from .layers import SQRT2, Blur, Conv2dLayer, conv2d_up, he_constant, instance_norm, pixel_norm, upscale2d


class SynthesisLayer(nn.Module):
    """One layer of g: [3x3 convolution, optionally up-sampling 2x then blurring] -> epilogue (see module doc).

    Layer 0 (`b4.conv0`) has no convolution: its input is the learned constant or the dense traditional input.
    """

    noise_const: Tensor

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        w_dim: int,
        resolution: int,
        cfg: GeneratorConfig,
        *,
        conv: bool = True,
        up: bool = False,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.resolution = resolution
        self.up = up
        self.fused = up and uses_fused_scale(cfg.fused_scale, resolution)
        self.use_noise = cfg.use_noise
        self.use_pixel_norm = cfg.use_pixel_norm
        self.use_instance_norm = cfg.use_instance_norm
        if conv:
            self.weight = nn.Parameter(torch.randn(out_channels, in_channels, 3, 3))
        self.blur = Blur(cfg.blur_filter) if up and cfg.blur_filter is not None else None
        if cfg.use_noise:
            self.noise_weight = nn.Parameter(torch.zeros(out_channels))  # B: one strength per channel
            self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        if cfg.use_styles:
            self.affine = EqualizedLinear(w_dim, 2 * out_channels)  # A: w -> y = (y_s - 1, y_b)

    def forward(self, x: Tensor, w: Tensor, noise_mode: NoiseMode = "random") -> Tensor:
        if noise_mode not in ("random", "const", "none"):
            raise ValueError(f"noise_mode must be 'random', 'const' or 'none', got {noise_mode!r}")
        if hasattr(self, "weight"):
            weight = self.weight * he_constant(self.weight, SQRT2)
            if self.up:
                x = conv2d_up(x, weight, fused=self.fused)
                if self.blur is not None:
                    x = self.blur(x)
            else:
                x = nn.functional.conv2d(x, weight, padding=1)
        if self.use_noise and noise_mode != "none":
            r = self.resolution
            if noise_mode == "const":  # [r, r], or [N, r, r]: one map per sample (the projector optimises them)
                noise = self.noise_const.reshape(-1, 1, r, r).to(x.dtype)
            else:
                noise = torch.randn(x.shape[0], 1, r, r, device=x.device, dtype=x.dtype)
            x = x + noise * self.noise_weight.to(x.dtype)[None, :, None, None]
        x = nn.functional.leaky_relu(x + self.bias.to(x.dtype)[None, :, None, None], 0.2)
        if self.use_pixel_norm:
            x = pixel_norm(x)
        if self.use_instance_norm:
            x = instance_norm(x)
        if hasattr(self, "affine"):
            y = self.affine(w.to(x.dtype))  # [N, 2C]
            scale, shift = y[:, : self.out_channels], y[:, self.out_channels :]
            x = torch.addcmul(shift[:, :, None, None], x, scale[:, :, None, None] + 1)  # x (1 + y_s) + y_b
        return x

    def extra_repr(self) -> str:
        kind = "input" if not hasattr(self, "weight") else ("up, fused" if self.fused else "up") if self.up else "3x3"
        return f"{self.out_channels} channels, resolution={self.resolution}, {kind}"


class SynthesisBlock(nn.Module):
    """One resolution of g: two layers (4x4: the input and a 3x3 convolution; above: up-sampling conv0 and conv1),
    each reading its own w, and the ToRGB (1x1 convolution, gain 1, no activation) of this resolution."""

    def __init__(self, cfg: GeneratorConfig, resolution: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.num_conv = 2  # w vectors this block reads
        self.num_torgb = 0  # the ToRGB layers read no w
        c = channels_at(resolution, cfg.channel_base, cfg.channel_max)
        self.out_channels = c
        if resolution == 4:
            if cfg.const_input_layer:
                self.const = nn.Parameter(torch.ones(c, 4, 4))
            else:  # the traditional input: w_0 -> dense (gain sqrt(2) / 4) -> [C, 4, 4]
                self.dense = EqualizedLinear(cfg.w_dim, c * 16, bias=False, gain=SQRT2 / 4)
            self.conv0 = SynthesisLayer(c, c, cfg.w_dim, 4, cfg, conv=False)
            self.conv1 = SynthesisLayer(c, c, cfg.w_dim, 4, cfg)
        else:
            in_channels = channels_at(resolution // 2, cfg.channel_base, cfg.channel_max)
            self.conv0 = SynthesisLayer(in_channels, c, cfg.w_dim, resolution, cfg, up=True)
            self.conv1 = SynthesisLayer(c, c, cfg.w_dim, resolution, cfg)
        if cfg.structure == "linear" or resolution == cfg.img_resolution:
            self.torgb = Conv2dLayer(c, cfg.img_channels, 1, gain=1, activation=False)

    def forward(self, x: Tensor | None, ws: Tensor, noise_mode: NoiseMode = "random") -> Tensor:
        """ws: [N, 2, w_dim] for this block's two layers."""
        w0, w1 = ws.unbind(dim=1)
        if self.resolution == 4:
            if hasattr(self, "const"):
                x = self.const.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
            else:
                x = self.dense(w0).reshape(-1, self.out_channels, 4, 4)
        assert x is not None
        x = self.conv0(x, w0, noise_mode)
        return self.conv1(x, w1, noise_mode)

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}"


class SynthesisNetwork(nn.Module):
    """g(ws) -> image [N, img_channels, R, R], roughly in [-1, 1], drawn at the level of detail `lod`."""

    lod: Tensor

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.w_dim = cfg.w_dim
        self.img_resolution = cfg.img_resolution
        self.img_resolution_log2 = int(math.log2(cfg.img_resolution))
        self.img_channels = cfg.img_channels
        self.structure = cfg.structure
        self.block_resolutions = [2**i for i in range(2, self.img_resolution_log2 + 1)]
        self.num_ws = cfg.num_ws
        for res in self.block_resolutions:
            setattr(self, f"b{res}", SynthesisBlock(cfg, res))
        self.register_buffer("lod", torch.zeros([]))

    def forward(self, ws: Tensor, noise_mode: NoiseMode = "random", **_ignored: object) -> Tensor:
        """ws: [N, num_ws, w_dim]. Extra NVIDIA keyword arguments (force_fp32, ...) are accepted and ignored."""
        if ws.ndim != 3 or ws.shape[1] != self.num_ws or ws.shape[2] != self.w_dim:
            raise ValueError(f"ws must have shape [N, {self.num_ws}, {self.w_dim}], got {list(ws.shape)}")
        ws = ws.to(self.get_parameter("b4.conv1.bias").dtype)
        if self.num_ws == 1:  # no styles: the one w feeds the traditional input (the layers read none)
            ws = ws.expand(-1, 2 * len(self.block_resolutions), -1)
        lod = 0.0 if self.structure == "fixed" else min(max(float(self.lod), 0.0), self.img_resolution_log2 - 2)
        level = int(math.floor(lod))
        fade = lod - level  # weight of the lower resolution, being faded out
        top = self.img_resolution >> level  # the highest resolution drawn
        x: Tensor | None = None
        below: Tensor | None = None
        for i, res in enumerate(self.block_resolutions):
            if res > top:
                break
            block = getattr(self, f"b{res}")
            x = block(x, ws.narrow(1, 2 * i, 2), noise_mode)
            if fade > 0 and res == top // 2:
                below = block.torgb(x)
        assert x is not None
        img = getattr(self, f"b{top}").torgb(x)
        if below is not None:  # lerp(img, up(below), fade)
            img = img + (upscale2d(below) - img) * fade
        return upscale2d(img, self.img_resolution // top).contiguous()

    def extra_repr(self) -> str:
        return f"w_dim={self.w_dim}, num_ws={self.num_ws}, img_resolution={self.img_resolution}"

"""Layers of StyleGAN (version 1): equalised convolutions with the blurred 2x resampling of the paper, and the
per-layer noise input and AdaIN of the style-based generator.

Arithmetic that differs from version 2 (and is therefore not shared with `stylegan.nn`):

- the activation's gain sqrt(2) multiplies the weights, before the bias: lrelu(c sqrt(2) W x + b), where version 2
  computes sqrt(2) lrelu(c W x + b);
- resampling is nearest-neighbour up-sampling followed by the [1, 2, 1] blur (generator), or the blur followed by
  2x2 averaging (discriminator), instead of version 2's [1, 3, 3, 1] FIR filter;
- from 128 px (`fused_scale="auto"`) the up-sampling convolution is a stride-2 transposed convolution whose 4x4 kernel
  is the sum of the four one-pixel shifts of the 3x3 kernel, and the down-sampling convolution is the stride-2
  convolution with a quarter of that kernel. The fused up-sampling layer equals nearest up-sampling followed by the
  spatially flipped 3x3 kernel, so a stored kernel means different things in fused and unfused layers;
- the noise strength is one weight per channel, and AdaIN scales by (1 + y_s).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SQRT2 = math.sqrt(2)


def he_constant(weight: Tensor, gain: float) -> float:
    """gain / sqrt(fan_in): the run-time scale of an equalised-learning-rate weight [out, in, (k, k)]."""
    return gain / math.sqrt(weight[0].numel())


def upscale2d(x: Tensor, factor: int = 2) -> Tensor:
    """Nearest-neighbour up-sampling (each pixel becomes a factor x factor tile)."""
    if factor == 1:
        return x
    return x.repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3)


def downscale2d(x: Tensor, factor: int = 2) -> Tensor:
    """Box-filter down-sampling: the mean of each factor x factor tile."""
    return x if factor == 1 else F.avg_pool2d(x, factor)


class Blur(nn.Module):
    """Depthwise low-pass filter outer(f, f) / sum, zero-padded to keep the size ("SAME"); [1, 2, 1] in the paper."""

    kernel: Tensor

    def __init__(self, taps: Sequence[float] = (1, 2, 1)) -> None:
        super().__init__()
        f = torch.as_tensor(taps, dtype=torch.float32)
        self.register_buffer("kernel", torch.outer(f, f) / f.sum() ** 2, persistent=False)
        self.taps = tuple(taps)

    def forward(self, x: Tensor) -> Tensor:
        k = self.kernel.shape[0]
        c = x.shape[1]
        kernel = self.kernel.to(x.dtype)[None, None].expand(c, 1, k, k)  # cross-correlation, as TF
        lo, hi = (k - 1) // 2, k // 2
        return F.conv2d(F.pad(x, (lo, hi, lo, hi)), kernel, groups=c)

    def extra_repr(self) -> str:
        return f"taps={list(self.taps)}"


def _four_shift_kernel(w: Tensor) -> Tensor:
    """The 4x4 kernel sum of the four one-pixel shifts of a 3x3 kernel [..., 3, 3] (zero-padded to 5x5)."""
    w = F.pad(w, (1, 1, 1, 1))
    return w[..., 1:, 1:] + w[..., :-1, 1:] + w[..., 1:, :-1] + w[..., :-1, :-1]


def conv2d_up(x: Tensor, weight: Tensor, *, fused: bool) -> Tensor:
    """2x up-sampling 3x3 convolution with `weight` [out, in, 3, 3] (already scaled).

    Unfused: nearest up-sampling, then the 3x3 convolution (cross-correlation, as `F.conv2d`). Fused: the transposed
    convolution, stride 2, of the 4-shift kernel, which costs 16 instead of 36 multiply-adds per output pair."""
    if not fused:
        return F.conv2d(upscale2d(x), weight, padding=weight.shape[-1] // 2)
    w = _four_shift_kernel(weight.transpose(0, 1))  # [in, out, 4, 4]
    return F.conv_transpose2d(x, w, stride=2, padding=1)


def conv2d_down(x: Tensor, weight: Tensor, *, fused: bool) -> Tensor:
    """3x3 convolution then 2x2 averaging, or (fused) the stride-2 convolution with a quarter of the 4-shift kernel:
    the same function of the weights, computed at a quarter of the cost."""
    if not fused:
        return downscale2d(F.conv2d(x, weight, padding=weight.shape[-1] // 2))
    return F.conv2d(x, _four_shift_kernel(weight) * 0.25, stride=2, padding=1)


class Conv2dLayer(nn.Module):
    """Equalised k x k convolution + bias [+ leaky ReLU], with the weights scaled by gain / sqrt(fan_in), optionally
    blurring and halving the resolution (the discriminator's `Conv1_down`). Also the 1x1 ToRGB / FromRGB layers."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        gain: float = SQRT2,
        activation: bool = True,
        down: bool = False,
        fused: bool = False,
        blur: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.gain = gain
        self.activation = activation
        self.down = down
        self.fused = fused
        self.blur = Blur(blur) if blur is not None and down else None

    def forward(self, x: Tensor) -> Tensor:
        w = self.weight * he_constant(self.weight, self.gain)
        if self.blur is not None:
            x = self.blur(x)
        if self.down:
            x = conv2d_down(x, w, fused=self.fused)
        else:
            x = F.conv2d(x, w, padding=w.shape[-1] // 2)
        x = x + self.bias[None, :, None, None]
        return F.leaky_relu(x, 0.2) if self.activation else x

    def extra_repr(self) -> str:
        o, i, k, _ = self.weight.shape
        return f"{i}->{o}, k={k}, down={self.down}, fused={self.fused}, act={self.activation}"


def instance_norm(x: Tensor, eps: float = 1e-8) -> Tensor:
    """(x - mean) / sqrt(mean((x - mean)^2) + eps) over each feature map, in float32."""
    x = x - x.mean(dim=(2, 3), keepdim=True)
    return x * (x.square().mean(dim=(2, 3), keepdim=True) + eps).rsqrt()


def pixel_norm(x: Tensor, eps: float = 1e-8) -> Tensor:
    """x / sqrt(mean over channels of x^2 + eps) at every pixel (Progressive GAN's pixelwise feature normalisation)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()

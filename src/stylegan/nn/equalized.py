"""Layers with the equalised learning rate (Karras et al. 2018, §4.1): weights are stored as N(0, 1) / lr_mul
and scaled at run time by lr_mul / sqrt(fan_in), so every layer learns at the same speed under Adam."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .activation import DEFAULT_GAIN, Activation, bias_act
from .resample import conv1x1, conv2d_resample, setup_filter


class EqualizedLinear(nn.Module):
    """Fully connected layer `act(x @ (w * c).T + b * lr_mul)`, c = gain * lr_mul / sqrt(in_features) (NVIDIA name:
    FullyConnectedLayer). `gain` scales the weights (StyleGAN v1 puts the activation's gain there; StyleGAN2 applies
    it after the activation, through `activation`)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        activation: Activation = "linear",
        lr_multiplier: float = 1.0,
        bias_init: float = 0.0,
        gain: float = 1.0,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.activation = activation
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full([out_features], float(bias_init))) if bias else None
        self.weight_gain = gain * lr_multiplier / math.sqrt(in_features)  # He's constant, gain / sqrt(fan_in)
        self.bias_gain = lr_multiplier

    def forward(self, x: Tensor) -> Tensor:
        w = self.weight.to(x.dtype) * self.weight_gain
        b: Tensor | None = self.bias
        if b is not None:
            b = b.to(x.dtype)
            if self.bias_gain != 1:
                b = b * self.bias_gain
        if self.activation == "linear" and b is not None:
            return torch.addmm(b.unsqueeze(0), x, w.t())
        return bias_act(x.matmul(w.t()), b, act=self.activation)

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, act={self.activation}"


class EqualizedConv2d(nn.Module):
    """Convolution with optional FIR up/down-sampling (NVIDIA name: Conv2dLayer)."""

    resample_filter: Tensor
    weight: Tensor
    bias: Tensor | None

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        bias: bool = True,
        activation: Activation = "linear",
        up: int = 1,
        down: int = 1,
        resample_filter: Sequence[float] = (1, 3, 3, 1),
        conv_clamp: float | None = None,
        trainable: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.activation = activation
        self.up = up
        self.down = down
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        self.padding = kernel_size // 2
        self.weight_gain = 1 / math.sqrt(in_channels * kernel_size**2)
        self.act_gain = DEFAULT_GAIN[activation]
        weight = torch.randn(out_channels, in_channels, kernel_size, kernel_size)
        b = torch.zeros(out_channels) if bias else None
        if trainable:
            self.weight = nn.Parameter(weight)
            self.bias = nn.Parameter(b) if b is not None else None
        else:  # frozen layers (Freeze-D) keep their tensors as buffers, as in StyleGAN2-ADA
            self.register_buffer("weight", weight)
            if b is not None:
                self.register_buffer("bias", b)
            else:
                self.bias = None

    def forward(self, x: Tensor, gain: float = 1.0) -> Tensor:
        # y = clamp(act(conv(x, w * c) + b) * g): for act = lrelu or linear and g > 0, act(z) * g = act(z * g), so
        # g goes into the weight and the bias, and the bias into the convolution: one pass over the output less each
        g = self.act_gain * gain
        w = (self.weight * (self.weight_gain * g)).to(x.dtype)
        b = (self.bias * g).to(x.dtype) if self.bias is not None else None
        if self.up == 1 and self.down == 1:  # a 1x1 kernel has no padding (padding = kernel_size // 2)
            x = conv1x1(x, w, b) if w.shape[-1] == 1 else F.conv2d(x, w, b, padding=self.padding)
        else:
            x = conv2d_resample(
                x, w, self.resample_filter, up=self.up, down=self.down, padding=self.padding, flip_weight=self.up == 1
            )
            x = bias_act(x, b)
        clamp = self.conv_clamp * gain if self.conv_clamp is not None else None
        return bias_act(x, act=self.activation, gain=1.0, clamp=clamp, inplace=True)  # x: the convolution's output

    def extra_repr(self) -> str:
        k = self.weight.shape[-1]
        return f"{self.in_channels}->{self.out_channels}, k={k}, up={self.up}, down={self.down}, act={self.activation}"

"""Bias + activation + gain + clamp, and the 2nd-moment normalisation of latents."""

from __future__ import annotations

import math
from typing import Literal

import torch.nn.functional as F
from torch import Tensor

Activation = Literal["linear", "lrelu"]

#: Default gain per activation: sqrt(2) keeps the signal's magnitude through a leaky ReLU (He et al.).
DEFAULT_GAIN: dict[str, float] = {"linear": 1.0, "lrelu": math.sqrt(2)}


def bias_act(
    x: Tensor,
    b: Tensor | None = None,
    *,
    act: Activation = "linear",
    gain: float | None = None,
    clamp: float | None = None,
    alpha: float = 0.2,
    inplace: bool = False,
) -> Tensor:
    """`clamp(act(x + b) * gain)`, with the bias broadcast over dim 1 and the activation's default gain.
    `inplace` lets the activation overwrite x (a caller's fresh intermediate, e.g. a convolution's output)."""
    if b is not None:
        x = x + b.reshape([-1 if i == 1 else 1 for i in range(x.ndim)])
        inplace = True  # x is now a new tensor
    if act == "lrelu":  # in place, autograd keeps the result, from which the backward follows (sign kept)
        x = F.leaky_relu_(x, alpha) if inplace else F.leaky_relu(x, alpha)
    elif act != "linear":
        raise ValueError(f"unknown activation {act!r}")
    gain = DEFAULT_GAIN[act] if gain is None else gain
    if gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:  # hardtanh = clamp, with a one-pass backward (clamp's takes four)
        x = F.hardtanh(x, -clamp, clamp)
    return x


def normalize_2nd_moment(x: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x / sqrt(mean(x^2)): the "pixel norm" applied to z and to embedded labels before the mapping network."""
    return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()

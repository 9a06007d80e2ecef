"""Exponential moving average of the generator's weights (G_ema), with NVIDIA's half-life and ramp-up."""

from __future__ import annotations

import torch
from torch import nn


def ema_beta(batch: int, ema_kimg: float, ema_rampup: float | None, cur_nimg: int) -> float:
    """β per step for a half-life of `ema_kimg` thousand images, shortened to `cur_nimg · ema_rampup` early on:
    n = ema_kimg·1000; n = min(n, cur_nimg·rampup) if rampup; β = 0.5 ** (batch / max(n, 1e-8))."""
    ema_nimg = ema_kimg * 1000
    if ema_rampup is not None:
        ema_nimg = min(ema_nimg, cur_nimg * ema_rampup)
    return 0.5 ** (batch / max(ema_nimg, 1e-8))


@torch.no_grad()
def update_ema(G_ema: nn.Module, G: nn.Module, beta: float) -> None:
    """θ_ema ← lerp(θ, θ_ema, β) for parameters; buffers (w_avg, noise maps) are copied."""
    ema_params: list[torch.Tensor] = list(G_ema.parameters())
    params = [p.detach() for p in G.parameters()]
    if len(ema_params) != len(params):
        raise ValueError(f"G_ema has {len(ema_params)} parameters but G has {len(params)}")
    # in place, all tensors in one call: θ_ema + (1 - β)(θ - θ_ema) = lerp(θ, θ_ema, β)
    torch._foreach_lerp_(ema_params, params, 1.0 - beta)
    for b_ema, b in zip(G_ema.buffers(), G.buffers(), strict=True):
        b_ema.copy_(b)

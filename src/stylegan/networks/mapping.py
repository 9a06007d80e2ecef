"""Mapping network f: (z, c) -> w (StyleGAN §2), with the tracked average w̄ used for truncation."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..nn.activation import normalize_2nd_moment
from ..nn.equalized import EqualizedLinear


class MappingNetwork(nn.Module):
    """An MLP of `num_layers` leaky-ReLU layers (lr multiplier 0.01) on the 2nd-moment-normalised z (and
    embedded c), broadcast to `num_ws` copies; `w_avg` tracks E[w] during training.

    Truncation (StyleGAN §5): w' = w̄ + psi (w - w̄), applied to the first `truncation_cutoff` copies.
    """

    w_avg: Tensor

    def __init__(
        self,
        z_dim: int,
        c_dim: int,
        w_dim: int,
        num_ws: int | None,
        *,
        num_layers: int = 8,
        embed_features: int | None = None,
        layer_features: int | None = None,
        lr_multiplier: float = 0.01,
        w_avg_beta: float | None = 0.995,
    ) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.c_dim = c_dim
        self.w_dim = w_dim
        self.num_ws = num_ws
        self.num_layers = num_layers
        self.w_avg_beta = w_avg_beta
        embed_features = (w_dim if embed_features is None else embed_features) if c_dim > 0 else 0
        layer_features = w_dim if layer_features is None else layer_features
        features = [z_dim + embed_features] + [layer_features] * (num_layers - 1) + [w_dim]
        if c_dim > 0:
            self.embed = EqualizedLinear(c_dim, embed_features)
        for idx in range(num_layers):
            layer = EqualizedLinear(features[idx], features[idx + 1], activation="lrelu", lr_multiplier=lr_multiplier)
            setattr(self, f"fc{idx}", layer)
        if num_ws is not None and w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(
        self,
        z: Tensor | None,
        c: Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        update_emas: bool = False,
    ) -> Tensor:
        """z: [N, z_dim], c: [N, c_dim] or None. Returns ws [N, num_ws, w_dim] (or [N, w_dim] if num_ws is None)."""
        x = None
        if self.z_dim > 0:
            if z is None or z.ndim != 2 or z.shape[1] != self.z_dim:
                raise ValueError(f"z must have shape [N, {self.z_dim}], got {None if z is None else list(z.shape)}")
            x = normalize_2nd_moment(z.to(torch.float32))
        if self.c_dim > 0:
            if c is None or c.ndim != 2 or c.shape[1] != self.c_dim:
                got = None if c is None else list(c.shape)
                raise ValueError(f"this network is conditional: c must have shape [N, {self.c_dim}], got {got}")
            y = normalize_2nd_moment(self.embed(c.to(torch.float32)))
            x = torch.cat([x, y], dim=1) if x is not None else y
        assert x is not None
        for idx in range(self.num_layers):
            x = getattr(self, f"fc{idx}")(x)

        if update_emas and self.w_avg_beta is not None:  # w̄ <- lerp(mean(w), w̄, beta)
            self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))

        if self.num_ws is None:
            return x
        x = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        if truncation_psi != 1:
            if self.w_avg_beta is None:
                raise ValueError("truncation needs a tracked w_avg")
            cutoff = self.num_ws if truncation_cutoff is None else truncation_cutoff
            x[:, :cutoff] = self.w_avg.lerp(x[:, :cutoff], truncation_psi)
        return x

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, c_dim={self.c_dim}, w_dim={self.w_dim}, num_ws={self.num_ws}"

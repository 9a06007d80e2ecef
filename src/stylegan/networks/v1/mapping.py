"""Mapping network f: z -> w of StyleGAN (version 1), §2 of the paper."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...nn.activation import normalize_2nd_moment
from ...nn.equalized import EqualizedLinear
from .config import GeneratorConfig
from .layers import SQRT2


class MappingNetwork(nn.Module):
    """z (and the embedded label, concatenated) -> PixelNorm -> `mapping_layers` x (dense, leaky ReLU), each with
    lr multiplier 0.01 and the gain sqrt(2) on its weights -> w broadcast to `num_ws` copies.

    `w_avg` tracks E[w] in training: w̄ <- 0.995 w̄ + 0.005 mean(w). Truncation (§5 of the paper):
    w' = w̄ + psi (w - w̄) on the first `truncation_cutoff` copies; NVIDIA's v1 default cutoff is 8 (the
    4x4 to 32x32 layers), taken from the configuration when the caller gives none.
    """

    w_avg: Tensor

    def __init__(self, cfg: GeneratorConfig) -> None:
        super().__init__()
        self.z_dim = cfg.z_dim
        self.c_dim = cfg.c_dim
        self.w_dim = cfg.w_dim
        self.num_ws: int | None = cfg.num_ws
        self.num_layers = cfg.mapping_layers
        self.normalize_latents = cfg.normalize_latents
        self.w_avg_beta = cfg.w_avg_beta
        self.default_truncation_cutoff = cfg.truncation_cutoff
        if cfg.c_dim > 0:  # labels -> z_dim features (plain N(0, 1) weights, no equalised rate), concatenated to z
            self.embed = nn.Linear(cfg.c_dim, cfg.z_dim, bias=False)
            nn.init.normal_(self.embed.weight)
        width = cfg.w_dim if cfg.mapping_layer_features is None else cfg.mapping_layer_features
        features = [cfg.z_dim * (2 if cfg.c_dim else 1)] + [width] * (cfg.mapping_layers - 1) + [cfg.w_dim]
        for idx in range(cfg.mapping_layers):
            layer = EqualizedLinear(
                features[idx], features[idx + 1], lr_multiplier=cfg.mapping_lr_multiplier, gain=SQRT2
            )
            setattr(self, f"fc{idx}", layer)
        if cfg.w_avg_beta is not None:
            self.register_buffer("w_avg", torch.zeros(cfg.w_dim))

    def forward(
        self,
        z: Tensor,
        c: Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        update_emas: bool = False,
    ) -> Tensor:
        """z: [N, z_dim], c: [N, c_dim] or None -> ws [N, num_ws, w_dim]."""
        if z is None or z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must have shape [N, {self.z_dim}], got {None if z is None else list(z.shape)}")
        x = z.to(torch.float32)
        if self.c_dim > 0:
            if c is None or c.ndim != 2 or c.shape[1] != self.c_dim:
                got = None if c is None else list(c.shape)
                raise ValueError(f"this network is conditional: c must have shape [N, {self.c_dim}], got {got}")
            x = torch.cat([x, self.embed(c.to(torch.float32))], dim=1)
        if self.normalize_latents:
            x = normalize_2nd_moment(x)
        for idx in range(self.num_layers):
            x = F.leaky_relu(getattr(self, f"fc{idx}")(x), 0.2)  # lrelu(c sqrt(2) W x + b lr_mul)

        if update_emas and self.w_avg_beta is not None:
            self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))
        assert self.num_ws is not None
        x = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        if truncation_psi != 1:
            if self.w_avg_beta is None:
                raise ValueError("truncation needs a tracked w_avg")
            cutoff = self.default_truncation_cutoff if truncation_cutoff is None else truncation_cutoff
            cutoff = self.num_ws if cutoff is None else cutoff
            x[:, :cutoff] = self.w_avg.lerp(x[:, :cutoff], truncation_psi)
        return x

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, c_dim={self.c_dim}, w_dim={self.w_dim}, num_ws={self.num_ws}"

"""The StyleGAN2 generator G(z, c) = synthesis(mapping(z, c))."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from .config import GeneratorConfig
from .mapping import MappingNetwork
from .synthesis import NoiseMode, SynthesisNetwork


class Generator(nn.Module):
    """StyleGAN2 generator with NVIDIA's public interface.

    >>> import torch
    >>> from stylegan.testing import tiny_generator
    >>> G = tiny_generator()
    >>> G(torch.randn(2, G.z_dim), None, truncation_psi=0.7, noise_mode="const").shape
    torch.Size([2, 3, 16, 16])
    """

    def __init__(self, cfg: GeneratorConfig | None = None, **kwargs: Any) -> None:
        super().__init__()
        cfg = cfg if cfg is not None else GeneratorConfig(**kwargs)
        self.cfg = cfg
        self.z_dim = cfg.z_dim
        self.c_dim = cfg.c_dim
        self.w_dim = cfg.w_dim
        self.img_resolution = cfg.img_resolution
        self.img_channels = cfg.img_channels
        self.synthesis = SynthesisNetwork(cfg)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(
            cfg.z_dim,
            cfg.c_dim,
            cfg.w_dim,
            self.num_ws,
            num_layers=cfg.mapping_layers,
            embed_features=cfg.mapping_embed_features,
            layer_features=cfg.mapping_layer_features,
            lr_multiplier=cfg.mapping_lr_multiplier,
            w_avg_beta=cfg.w_avg_beta,
        )

    def forward(
        self,
        z: Tensor,
        c: Tensor | None = None,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: NoiseMode = "random",
        update_emas: bool = False,
        **synthesis_kwargs: object,
    ) -> Tensor:
        """z: [N, z_dim], c: [N, c_dim] (or None) -> images [N, C, R, R] in about [-1, 1]."""
        ws = self.mapping(
            z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff, update_emas=update_emas
        )
        return self.synthesis(ws, noise_mode=noise_mode, **synthesis_kwargs)

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, c_dim={self.c_dim}, w_dim={self.w_dim}, num_ws={self.num_ws}, " + (
            f"img_resolution={self.img_resolution}, img_channels={self.img_channels}"
        )

"""The generator G(z, c) = synthesis(mapping(z, c)) of StyleGAN2, and of StyleGAN (version 1) when built from a
`stylegan.networks.v1.GeneratorConfig`: both versions share this interface."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from . import v1
from .config import GeneratorConfig
from .mapping import MappingNetwork
from .synthesis import NoiseMode, SynthesisNetwork

AnyGeneratorConfig = GeneratorConfig | v1.GeneratorConfig


class Generator(nn.Module):
    """StyleGAN2 (or, from a `v1.GeneratorConfig`, StyleGAN version 1) generator with NVIDIA's public interface.

    `version` is 1 or 2. For version 1, `truncation_cutoff=None` truncates the configuration's default layers
    (NVIDIA's 8); for version 2, all of them.

    >>> import torch
    >>> from stylegan.testing import tiny_generator
    >>> G = tiny_generator()
    >>> G(torch.randn(2, G.z_dim), None, truncation_psi=0.7, noise_mode="const").shape
    torch.Size([2, 3, 16, 16])
    """

    mapping: MappingNetwork | v1.MappingNetwork
    synthesis: SynthesisNetwork | v1.SynthesisNetwork

    def __init__(self, cfg: AnyGeneratorConfig | None = None, **kwargs: Any) -> None:
        super().__init__()
        cfg = cfg if cfg is not None else GeneratorConfig(**kwargs)
        self.cfg: AnyGeneratorConfig = cfg
        self.version = 1 if isinstance(cfg, v1.GeneratorConfig) else 2
        self.z_dim = cfg.z_dim
        self.c_dim = cfg.c_dim
        self.w_dim = cfg.w_dim
        self.img_resolution = cfg.img_resolution
        self.img_channels = cfg.img_channels
        if isinstance(cfg, v1.GeneratorConfig):
            self.synthesis = v1.SynthesisNetwork(cfg)
            self.num_ws = self.synthesis.num_ws
            self.mapping = v1.MappingNetwork(cfg)
            return
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


def stylegan2_config(G: Generator, what: str = "this operation") -> GeneratorConfig:
    """G's configuration when G is a StyleGAN2 generator; a ValueError naming `what` for a version-1 generator."""
    if not isinstance(G.cfg, GeneratorConfig):
        raise ValueError(f"{what} needs a StyleGAN2 generator; this one is StyleGAN (version 1)")
    return G.cfg

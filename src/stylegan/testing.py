"""Tiny networks for tests, docs and users' own experiments (16x16, a few channels, instant on a CPU)."""

from __future__ import annotations

from typing import Any

import torch

from .networks import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig


def tiny_generator_config(**overrides: Any) -> GeneratorConfig:
    kw: dict[str, Any] = dict(
        z_dim=32, w_dim=32, img_resolution=16, channel_base=512, channel_max=32, mapping_layers=2
    )
    kw.update(overrides)
    return GeneratorConfig(**kw)


def tiny_discriminator_config(**overrides: Any) -> DiscriminatorConfig:
    kw: dict[str, Any] = dict(img_resolution=16, channel_base=512, channel_max=32, mapping_layers=2)
    kw.update(overrides)
    return DiscriminatorConfig(**kw)


def randomize_(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every parameter and buffer non-trivial random values (biases, noise strengths and w_avg included), so
    that tests comparing two implementations exercise every tensor."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(module.named_parameters()) + list(module.named_buffers()):
            if name.endswith("resample_filter"):
                continue
            if name.endswith("noise_strength"):
                t.copy_(torch.rand(t.shape, generator=g) * 0.5 + 0.1)
            elif name.endswith("affine.bias"):
                t.copy_(1 + 0.2 * torch.randn(t.shape, generator=g))
            elif t.dtype.is_floating_point:
                t.copy_(torch.randn(t.shape, generator=g) * (0.1 if name.endswith("bias") else 1.0))
    return module


def tiny_generator(seed: int = 0, **overrides: Any) -> Generator:
    """A randomly initialised 16x16 generator in eval mode (random biases, noise strengths and w_avg)."""
    torch.manual_seed(seed)
    return randomize_(Generator(tiny_generator_config(**overrides)), seed).eval()  # type: ignore[return-value]


def tiny_discriminator(seed: int = 0, **overrides: Any) -> Discriminator:
    torch.manual_seed(seed)
    return randomize_(Discriminator(tiny_discriminator_config(**overrides)), seed).eval()  # type: ignore[return-value]

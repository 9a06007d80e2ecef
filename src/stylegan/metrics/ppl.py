"""Perceptual path length (StyleGAN §4.2; StyleGAN2 §3.2) with NVIDIA's protocol.

Per sample: z0, z1 ~ N(0, I) and t ~ U(0, 1) (`*full`) or t = 0 (`*end`); interpolate by `slerp` of the
normalised z (space Z) or by `lerp` of the mapped w (space W) at t and t + epsilon (1e-4); render both with
fresh noise buffers (re-drawn once per batch, `noise_mode='const'`, so both ends see the same noise); crop the
face region (`c = H // 8`, rows 3c:7c, columns 2c:6c; not for `ppl2_*`); box-downsample by
`img_resolution // 256` when that is above 1; scale to [0, 255]; d = LPIPS(img_t, img_t+eps) / epsilon^2.
The result is the mean of d over the samples between the 1st percentile (`method='lower'`) and the 99th
(`method='higher'`). Random draws follow NVIDIA's order per batch: t, then z0 and z1, then the noise buffers.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch
from torch import Tensor, nn

from ..latents import slerp
from .feature_stats import LabelSampler, private_rng

if TYPE_CHECKING:
    from ..networks import Generator


def ppl_images(img: Tensor, *, crop: bool, img_resolution: int) -> Tensor:
    """Generator output [N, C, H, W] in [-1, 1] -> what the perceptual network sees: face crop (optional),
    box-downsampling by img_resolution // 256, [0, 255] range, 3 channels.

    >>> ppl_images(torch.zeros(1, 1, 16, 16), crop=True, img_resolution=16).shape
    torch.Size([1, 3, 8, 8])
    """
    if crop:
        if img.shape[2] != img.shape[3]:
            raise ValueError("the PPL face crop needs square images")
        c = img.shape[2] // 8
        img = img[:, :, c * 3 : c * 7, c * 2 : c * 6]
    factor = img_resolution // 256  # of the network's resolution, as NVIDIA's code: the crop shrinks by it too
    if factor > 1:
        n, ch, h, w = img.shape
        img = img.reshape(n, ch, h // factor, factor, w // factor, factor).mean(dim=(3, 5))
    img = (img + 1) * (255 / 2)
    if img.shape[1] == 1:
        img = img.repeat(1, 3, 1, 1)
    elif img.shape[1] == 4:
        img = img[:, :3]
    return img


def filtered_mean(dist: np.ndarray) -> float:
    """Mean of the values within [1st percentile ('lower'), 99th percentile ('higher')].

    >>> filtered_mean(np.array([1000.0] + [1.0] * 199 + [-1000.0]))
    1.0
    """
    lo = np.percentile(dist, 1, method="lower")
    hi = np.percentile(dist, 99, method="higher")
    return float(np.extract(np.logical_and(dist >= lo, dist <= hi), dist).mean())


class PPLSampler:
    """Distances d for one batch of path samples. Works on a private copy of G (its noise buffers get re-drawn).

    `perceptual(img, resize_images=False, return_lpips=True)` maps images in [0, 255] to LPIPS embeddings whose
    squared distance is the LPIPS distance (NVIDIA's vgg16.pt convention; `LPIPSVGG16` follows it).
    """

    def __init__(
        self,
        G: Generator,
        perceptual: nn.Module,
        *,
        epsilon: float = 1e-4,
        space: Literal["z", "w"] = "w",
        sampling: Literal["full", "end"] = "end",
        crop: bool = False,
    ) -> None:
        if space not in ("z", "w") or sampling not in ("full", "end"):
            raise ValueError(f"bad PPL configuration: space={space!r}, sampling={sampling!r}")
        self.G = copy.deepcopy(G).eval().requires_grad_(False)
        self.perceptual = perceptual
        self.epsilon, self.space, self.sampling, self.crop = epsilon, space, sampling, crop

    @torch.no_grad()
    def __call__(self, c: Tensor | None, n: int) -> Tensor:
        G, eps = self.G, self.epsilon
        device = next(G.parameters()).device
        t = torch.rand([n], device=device) * (1 if self.sampling == "full" else 0)
        z0, z1 = torch.randn([n * 2, G.z_dim], device=device).chunk(2)
        cc = None if c is None else torch.cat([c, c])
        if self.space == "w":
            w0, w1 = G.mapping(torch.cat([z0, z1]), cc).chunk(2)
            wt0 = w0.lerp(w1, t[:, None, None])
            wt1 = w0.lerp(w1, t[:, None, None] + eps)
        else:
            zt0, zt1 = (_unit(slerp(z0, z1, t[:, None] + d)) for d in (0.0, eps))
            wt0, wt1 = G.mapping(torch.cat([zt0, zt1]), cc).chunk(2)
        for name, buf in G.named_buffers():
            if name.endswith(".noise_const"):
                buf.copy_(torch.randn_like(buf))
        img = G.synthesis(torch.cat([wt0, wt1]), noise_mode="const")
        img = ppl_images(img, crop=self.crop, img_resolution=G.img_resolution)
        e0, e1 = self.perceptual(img, resize_images=False, return_lpips=True).chunk(2)
        return (e0 - e1).square().sum(1) / eps**2


def _unit(x: Tensor) -> Tensor:
    return x / x.norm(dim=-1, keepdim=True)


def path_length_distances(
    G: Generator,
    perceptual: nn.Module,
    num_samples: int,
    *,
    labels: LabelSampler,
    epsilon: float = 1e-4,
    space: Literal["z", "w"] = "w",
    sampling: Literal["full", "end"] = "end",
    crop: bool = False,
    batch_size: int = 2,
    seed: int = 0,
    progress: bool | None = None,
    desc: str = "ppl",
) -> np.ndarray:
    """The unfiltered distances d [num_samples] (full batches, then truncated, as NVIDIA)."""
    from ..progress import progress_bar

    sampler = PPLSampler(G, perceptual, epsilon=epsilon, space=space, sampling=sampling, crop=crop)
    device = next(sampler.G.parameters()).device
    out: list[Tensor] = []
    bar = progress_bar(num_samples, desc, enabled=progress)
    try:
        with private_rng(seed, device):
            for start in range(0, num_samples, batch_size):
                out.append(sampler(labels(batch_size), batch_size).cpu())
                bar.update(min(batch_size, num_samples - start))
    finally:
        bar.close()
    return torch.cat(out)[:num_samples].numpy().astype(np.float64)


def perceptual_path_length(
    G: Generator,
    perceptual: nn.Module,
    num_samples: int,
    *,
    labels: LabelSampler,
    epsilon: float = 1e-4,
    space: Literal["z", "w"] = "w",
    sampling: Literal["full", "end"] = "end",
    crop: bool = False,
    batch_size: int = 2,
    seed: int = 0,
    progress: bool | None = None,
    desc: str = "ppl",
) -> float:
    """PPL: the percentile-filtered mean of `path_length_distances` with the same arguments."""
    dist = path_length_distances(
        G,
        perceptual,
        num_samples,
        labels=labels,
        epsilon=epsilon,
        space=space,
        sampling=sampling,
        crop=crop,
        batch_size=batch_size,
        seed=seed,
        progress=progress,
        desc=desc,
    )
    return filtered_mean(dist)

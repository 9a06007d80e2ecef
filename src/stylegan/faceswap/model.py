"""The classic face-swap autoencoder: one shared encoder, one decoder per identity.

Both identities' faces go through the same encoder, so its code has to describe what the two have in common (pose,
expression, lighting); each decoder learns to draw its own person from that code. Swapping is encoding a face of B
and decoding it with A's decoder. Training shows each decoder a randomly warped face and asks for the unwarped one
(`random_warp`), so the networks learn to rebuild a face rather than to copy pixels.

Encoder: 5x5 stride-2 convolutions (LeakyReLU 0.1) from size x size down to 4 x 4, channels width, 2 width, ...
(at most 8 width), a dense bottleneck of 8 width numbers, a dense layer back to 4 x 4 and one upscale to 8 x 8.
Decoder: upscales (3x3 convolution to 4x the channels, then pixel shuffle) to size x size, and a 5x5 convolution
to RGB with a sigmoid. At size 64 and width 128 this is the original network; width 64 (our default) is a quarter
of its cost, for CPUs.

>>> model = FaceSwapModel(FaceSwapConfig(size=32, width=8))
>>> x = torch.rand(2, 3, 32, 32)
>>> model(x, "a").shape, model(x, "b").shape
(torch.Size([2, 3, 32, 32]), torch.Size([2, 3, 32, 32]))
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import StyleGANError

FORMAT = "stylegan-faceswap/1"
IDENTITIES = ("a", "b")


@dataclass(frozen=True)
class FaceSwapConfig:
    """The model's shape: aligned face size (a power of two, 16 to 512) and base channel width."""

    size: int = 64
    width: int = 64

    def __post_init__(self) -> None:
        if self.size not in [2**k for k in range(4, 10)]:
            raise StyleGANError(f"face size must be a power of two from 16 to 512, got {self.size}")
        if not 4 <= self.width <= 1024:
            raise StyleGANError(f"width must be in [4, 1024], got {self.width}")

    @property
    def latent_dim(self) -> int:
        return 8 * self.width

    def channels(self, resolution: int) -> int:
        """Decoder channels at `resolution` (the encoder's mirror image, halving as resolution doubles)."""
        return max(3, min(8 * self.width, self.width * self.size // (2 * resolution)))


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """5x5 stride-2 convolution + LeakyReLU(0.1): halves the resolution."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 5, stride=2, padding=2), nn.LeakyReLU(0.1))


class Upscale(nn.Sequential):
    """3x3 convolution to 4 c_out channels, LeakyReLU(0.1), pixel shuffle: doubles the resolution."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(nn.Conv2d(c_in, 4 * c_out, 3, padding=1), nn.LeakyReLU(0.1), nn.PixelShuffle(2))


class Encoder(nn.Module):
    """Face [N, 3, S, S] in [0, 1] -> shared code [N, C, 8, 8]."""

    def __init__(self, cfg: FaceSwapConfig) -> None:
        super().__init__()
        layers, c = [], 3
        for i in range(int(math.log2(cfg.size)) - 2):  # down to 4 x 4
            c_out = min(8 * cfg.width, cfg.width * 2**i)
            layers.append(conv_block(c, c_out))
            c = c_out
        self.convs = nn.Sequential(*layers)
        self.c4 = c
        self.to_latent = nn.Linear(c * 16, cfg.latent_dim)
        self.from_latent = nn.Linear(cfg.latent_dim, c * 16)
        self.upscale = Upscale(c, cfg.channels(8))

    def forward(self, x: Tensor) -> Tensor:
        h = self.convs(x).flatten(1)
        h = self.from_latent(self.to_latent(h)).view(-1, self.c4, 4, 4)
        return self.upscale(h)


class Decoder(nn.Module):
    """Shared code [N, C, 8, 8] -> one identity's face [N, 3, S, S] in [0, 1]."""

    def __init__(self, cfg: FaceSwapConfig) -> None:
        super().__init__()
        ups, r = [], 8
        while r < cfg.size:
            ups.append(Upscale(cfg.channels(r), cfg.channels(2 * r)))
            r *= 2
        self.ups = nn.Sequential(*ups)
        self.to_rgb = nn.Conv2d(cfg.channels(cfg.size), 3, 5, padding=2)

    def forward(self, code: Tensor) -> Tensor:
        return torch.sigmoid(self.to_rgb(self.ups(code)))


@dataclass
class FaceSwapInfo:
    """What a model file records besides the weights: the sources of A and B, how many faces each had (found by
    the detector / used whole), steps trained, and the loss curve as (step, loss A, loss B) rows."""

    source_a: str = ""
    source_b: str = ""
    faces: dict[str, list[int]] = field(default_factory=dict)
    steps: int = 0
    losses: list[list[float]] = field(default_factory=list)


class FaceSwapModel(nn.Module):
    """The shared encoder and the decoders of identities "a" and "b"; `model(x, "a")` reconstructs x as A."""

    def __init__(self, cfg: FaceSwapConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg or FaceSwapConfig()
        self.encoder = Encoder(self.cfg)
        self.decoder_a = Decoder(self.cfg)
        self.decoder_b = Decoder(self.cfg)
        self.info = FaceSwapInfo()

    def decoder(self, identity: str) -> Decoder:
        if identity not in IDENTITIES:
            raise StyleGANError(f"identity must be 'a' or 'b', not {identity!r}")
        return self.decoder_a if identity == "a" else self.decoder_b

    def forward(self, x: Tensor, identity: str) -> Tensor:
        """Faces [N, 3, S, S] in [0, 1] drawn as `identity` ("a" or "b")."""
        return self.decoder(identity)(self.encoder(x))


def random_warp(
    images: Tensor,
    masks: Tensor,
    generator: torch.Generator,
    *,
    rotate: float = 10.0,
    zoom: float = 0.05,
    shift: float = 0.05,
    flip: float = 0.4,
    warp: float = 0.04,
) -> tuple[Tensor, Tensor, Tensor]:
    """(warped input, target, target mask) for a batch of faces [N, 3, S, S] and masks [N, 1, S, S].

    Each face gets a random similarity transform (rotation in degrees, zoom and shift as fractions of the size,
    a horizontal flip with probability `flip`), applied to input, target and mask alike. The input is also bent by
    a smooth random displacement: offsets drawn on a 5 x 5 grid (standard deviation `warp` of the half-size) and
    interpolated bicubically over the image. The network learns to undo the bend."""
    n, _, s, _ = images.shape
    dev = images.device

    def uniform(lo: float, hi: float) -> Tensor:
        return torch.rand(n, generator=generator).to(dev) * (hi - lo) + lo

    angle = uniform(-rotate, rotate) * (math.pi / 180)
    scale = 1 / uniform(1 - zoom, 1 + zoom)
    mirror = torch.where(torch.rand(n, generator=generator).to(dev) < flip, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3, device=dev)
    theta[:, 0, 0], theta[:, 0, 1] = scale * torch.cos(angle) * mirror, -scale * torch.sin(angle)
    theta[:, 1, 0], theta[:, 1, 1] = scale * torch.sin(angle) * mirror, scale * torch.cos(angle)
    theta[:, 0, 2], theta[:, 1, 2] = uniform(-2 * shift, 2 * shift), uniform(-2 * shift, 2 * shift)
    grid = F.affine_grid(theta, [n, 3, s, s], align_corners=False)
    bend = torch.randn(n, 2, 5, 5, generator=generator).to(dev) * warp
    bend = F.interpolate(bend, size=(s, s), mode="bicubic", align_corners=True).permute(0, 2, 3, 1)
    target = F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    mask = F.grid_sample(masks, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    warped = F.grid_sample(images, grid + bend, mode="bilinear", padding_mode="reflection", align_corners=False)
    return warped, target, mask


def masked_l1(output: Tensor, target: Tensor, mask: Tensor, background: float = 0.1) -> Tensor:
    """Mean absolute error weighted to the face: weight 1 inside the mask, `background` outside.

    loss = sum(w |output - target|) / (3 sum(w)),  w = background + (1 - background) mask"""
    w = background + (1 - background) * mask
    return ((output - target).abs() * w).sum() / (w.sum() * output.shape[1]).clamp_min(1e-8)


def save_faceswap(model: FaceSwapModel, path: str | os.PathLike[str]) -> Path:
    """Write weights + metadata (config, sources, face counts, loss curve) to one .safetensors file, atomically."""
    from ..io.modelfile import save_module_file

    meta = {"format": FORMAT, "config": json.dumps(asdict(model.cfg)), "info": json.dumps(asdict(model.info))}
    return save_module_file(path, model, meta)


def load_faceswap(path: str | os.PathLike[str], device: torch.device | str = "cpu") -> FaceSwapModel:
    """Read a model written by `save_faceswap`; anything else (or a damaged file) is one StyleGANError."""
    from ..io.modelfile import read_module_file

    state, meta = read_module_file(path, FORMAT, "face-swap model", "train one with `stylegan faceswap train`")
    try:
        model = FaceSwapModel(FaceSwapConfig(**json.loads(meta["config"])))
        model.load_state_dict(state, strict=True)
        model.info = FaceSwapInfo(**json.loads(meta["info"]))
    except (KeyError, TypeError, ValueError, RuntimeError, StyleGANError) as e:
        raise StyleGANError(f"{path}: damaged face-swap model file ({str(e).splitlines()[0][:100]})") from None
    return model.eval().requires_grad_(False).to(device)


__all__ = [
    "Decoder",
    "Encoder",
    "FaceSwapConfig",
    "FaceSwapInfo",
    "FaceSwapModel",
    "Upscale",
    "load_faceswap",
    "masked_l1",
    "random_warp",
    "save_faceswap",
]

"""An image -> W+ encoder trained on endless generator samples, used alone or to start projection.

The encoder is a small ResNet: a 1x1 stem, one residual block per octave (two 3x3 convolutions + an average-pool
down-sampling, with a 1x1 skip) from the image resolution down to 4x4, and a linear head that predicts the offset
of every layer's w from G's w_avg. Training draws z, maps it to ws (untruncated), renders it with random noise, and
minimises latent MSE(E(img), ws) + image MSE(G(E(img)), img) (the samples use fresh noise maps each step,
shared by the batch, drawn from the run's own seeded generator). Everything lives in an output folder:
`encoder.safetensors` (weights + JSON config, what `project --init encoder:PATH` reads) and `encoder-state.pt`
(weights, optimiser, step, RNG) so that training resumes where it stopped.

>>> from stylegan.testing import tiny_generator
>>> G = tiny_generator()
>>> E = Encoder(EncoderConfig.for_generator(G))
>>> E(torch.zeros(2, 3, 16, 16)).shape
torch.Size([2, 6, 32])
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import SettingError, StyleGANError
from ..images import from_uint8
from ..latents import class_labels
from ..networks import Generator
from ..networks.config import channels_at

ENCODER_FILE = "encoder.safetensors"
STATE_FILE = "encoder-state.pt"


@dataclass(frozen=True)
class EncoderConfig:
    """Shape of an encoder: what it reads (img_resolution, img_channels) and writes ([num_ws, w_dim])."""

    img_resolution: int
    img_channels: int
    num_ws: int
    w_dim: int
    channel_base: int = 16384
    channel_max: int = 512

    def __post_init__(self) -> None:
        if self.img_resolution < 4 or 2 ** int(math.log2(self.img_resolution)) != self.img_resolution:
            raise StyleGANError(f"encoder img_resolution must be a power of two >= 4, got {self.img_resolution}")

    @classmethod
    def for_generator(cls, G: Generator, **overrides: Any) -> EncoderConfig:
        """A config matching G (channel widths scaled like G's: channel_base / resolution, capped)."""
        kw: dict[str, Any] = dict(
            img_resolution=G.img_resolution,
            img_channels=G.img_channels,
            num_ws=G.num_ws,
            w_dim=G.w_dim,
            channel_base=G.cfg.channel_base // 2,
            channel_max=G.cfg.channel_max,
        )
        kw.update(overrides)
        return cls(**kw)


class _ResBlock(nn.Module):
    """x -> (conv3x3, lrelu, conv3x3, lrelu, avgpool2) + avgpool2(conv1x1(x)), scaled by sqrt(1/2)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv0 = nn.Conv2d(in_ch, in_ch, 3, padding=1)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        y = F.leaky_relu(self.conv0(x), 0.2)
        y = F.avg_pool2d(F.leaky_relu(self.conv1(y), 0.2), 2)
        return (y + F.avg_pool2d(self.skip(x), 2)) * math.sqrt(0.5)


class Encoder(nn.Module):
    """E(img) -> ws [N, num_ws, w_dim] for images [N, C, R, R] in [-1, 1] (the generator's output range).

    The prediction is `w_avg + head(features)`: `w_avg` is a buffer set from the generator before training."""

    w_avg: Tensor

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        res = cfg.img_resolution
        ch = channels_at(res, cfg.channel_base, cfg.channel_max)
        self.stem = nn.Conv2d(cfg.img_channels, ch, 1)
        blocks = []
        while res > 4:
            out = channels_at(res // 2, cfg.channel_base, cfg.channel_max)
            blocks.append(_ResBlock(ch, out))
            ch, res = out, res // 2
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(ch * 16, cfg.num_ws * cfg.w_dim)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.register_buffer("w_avg", torch.zeros(cfg.w_dim))

    def forward(self, img: Tensor) -> Tensor:
        x = F.leaky_relu(self.stem(img), 0.2)
        x = self.blocks(x).flatten(1)
        delta = self.head(x).reshape(-1, self.cfg.num_ws, self.cfg.w_dim)
        return self.w_avg[None, None] + delta

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in asdict(self.cfg).items())


def save_encoder(E: Encoder, path: str | os.PathLike[str]) -> Path:
    """Write weights + config to one .safetensors file (atomically)."""
    from ..io.modelfile import save_module_file

    return save_module_file(path, E, {"format": "stylegan-encoder/1", "config": json.dumps(asdict(E.cfg))})


def load_encoder(path: str | os.PathLike[str], device: torch.device | str = "cpu") -> Encoder:
    """Read an encoder written by `save_encoder` (a folder means its encoder.safetensors)."""
    from ..io.modelfile import read_module_file

    path = Path(path)
    if path.is_dir():
        path = path / ENCODER_FILE
    state, meta = read_module_file(path, "stylegan-encoder/1", "encoder", "train one with `stylegan encoder train`")
    E = Encoder(EncoderConfig(**json.loads(meta["config"])))
    E.load_state_dict(state, strict=True)
    return E.eval().requires_grad_(False).to(device)


def check_compatible(E: Encoder, G: Generator) -> None:
    """Raise a StyleGANError when E was not made for a network shaped like G."""
    c = E.cfg
    if (c.img_resolution, c.img_channels, c.num_ws, c.w_dim) != (G.img_resolution, G.img_channels, G.num_ws, G.w_dim):
        raise StyleGANError(
            f"the encoder reads {c.img_channels}x{c.img_resolution}^2 and writes [{c.num_ws}, {c.w_dim}], but the "
            f"network is {G.img_channels}x{G.img_resolution}^2 with [{G.num_ws}, {G.w_dim}]"
        )


@torch.no_grad()
def encode(E: Encoder, images_0_255: Tensor) -> Tensor:
    """ws [N, num_ws, w_dim] for images [N, C, R, R] in [0, 255]."""
    device = next(E.parameters()).device
    return E(from_uint8(images_0_255.to(device, torch.float32)))


def encoder_init(spec: str, G: Generator, images: np.ndarray) -> tuple[Tensor, str]:
    """A projection's starting point from `encoder:PATH` (an encoder file or its folder): the encoder's ws for
    uint8 images [N, R, R, C] (see `stylegan.inversion.projection.load_targets`). Returns the ws and the PATH."""
    kind, _, path = spec.partition(":")
    if kind != "encoder" or not path:
        raise SettingError(f"{{init}} must be encoder:PATH, got {spec!r}", init="init")
    E = load_encoder(Path(path), device=next(G.parameters()).device)
    check_compatible(E, G)
    return encode(E, torch.from_numpy(images).permute(0, 3, 1, 2)), path


def train_encoder(
    G: Generator,
    outdir: str | os.PathLike[str],
    *,
    steps: int = 1000,
    batch_size: int = 8,
    lr: float = 1e-3,
    latent_weight: float = 1.0,
    image_weight: float = 1.0,
    class_idx: int | None = None,
    seed: int = 0,
    snapshot_every: int = 100,
    config: EncoderConfig | None = None,
    progress: bool = True,
) -> tuple[Encoder, list[float]]:
    """Train (or resume training) an encoder for G until it has done `steps` steps in total.

    Each step: z ~ N(0, I), ws = mapping(z, c), img = synthesis(ws, fresh noise maps), loss =
    latent_weight * MSE(E(img), ws) + image_weight * MSE(synthesis(E(img), noise const), img). Writes
    `encoder.safetensors` and `encoder-state.pt` to outdir every `snapshot_every` steps and at the end.

    Returns the encoder and the losses of the steps run in this call.
    """
    from ..fileio import writing

    outdir = Path(outdir)
    with writing(outdir):  # a read-only or full disk, or a file in the way: one line naming the folder
        outdir.mkdir(parents=True, exist_ok=True)
    device = next(G.parameters()).device
    state_path = outdir / STATE_FILE
    with torch.random.fork_rng(devices=[]):  # seeded initial weights without touching the global RNG
        torch.manual_seed(seed)
        E = Encoder(config or EncoderConfig.for_generator(G)).to(device)
    opt = torch.optim.Adam(E.parameters(), lr=lr, betas=(0.9, 0.99))
    gen = torch.Generator(device=device).manual_seed(seed)
    start = 0
    if state_path.is_file():
        state = torch.load(state_path, map_location=device, weights_only=True)
        try:
            E = Encoder(EncoderConfig(**json.loads(state["config"]))).to(device)
            check_compatible(E, G)
            E.load_state_dict(state["encoder"])
            opt = torch.optim.Adam(E.parameters(), lr=lr, betas=(0.9, 0.99))
            opt.load_state_dict(state["optimizer"])
        except (KeyError, RuntimeError) as e:
            raise StyleGANError(f"{state_path}: cannot resume ({str(e).splitlines()[0][:120]})") from None
        gen.set_state(state["rng"].cpu() if device.type == "cpu" else state["rng"])
        start = int(state["step"])
    else:
        check_compatible(E, G)
        with torch.no_grad():
            E.w_avg.copy_(G.mapping.w_avg if hasattr(G.mapping, "w_avg") else torch.zeros(G.w_dim))
    from .projection import synthesize_with_noise

    noise_buffers = {k: b for k, b in G.synthesis.named_buffers() if k.endswith("noise_const")}
    flags = [p.requires_grad for p in G.parameters()]
    G.requires_grad_(False)
    from ..fileio import atomic_open
    from ..progress import progress_bar

    bar = progress_bar(max(0, steps - start), "encoder", unit="step", enabled=progress)
    losses: list[float] = []

    def snapshot(step: int) -> None:
        save_encoder(E, outdir / ENCODER_FILE)
        with atomic_open(state_path) as f:
            torch.save(
                {
                    "encoder": E.state_dict(),
                    "optimizer": opt.state_dict(),
                    "step": step,
                    "rng": gen.get_state(),
                    "config": json.dumps(asdict(E.cfg)),
                },
                f,
            )

    try:
        E.train()
        for step in range(start, steps):
            z = torch.randn(batch_size, G.z_dim, generator=gen, device=device)
            try:
                c = class_labels(G.c_dim, class_idx, batch_size, device)
            except ValueError as e:
                raise StyleGANError(str(e)) from None
            with torch.no_grad():  # fresh noise maps each step, from our own generator (resumable, reproducible)
                ws = G.mapping(z, c)
                noise = {k: torch.randn(b.shape, generator=gen, device=device) for k, b in noise_buffers.items()}
                img = synthesize_with_noise(G, ws, noise)
            pred = E(img)
            loss = latent_weight * (pred - ws).square().mean()
            if image_weight:
                loss = loss + image_weight * (G.synthesis(pred, noise_mode="const") - img).square().mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            bar.update(1)
            if hasattr(bar, "set_postfix_str"):
                bar.set_postfix_str(f"loss {losses[-1]:.4f}", refresh=False)
            if snapshot_every and (step + 1) % snapshot_every == 0:
                snapshot(step + 1)
        snapshot(max(steps, start))
    finally:
        bar.close()
        E.eval()
        for p, flag in zip(G.parameters(), flags):
            p.requires_grad_(flag)
    return E.requires_grad_(False), losses


__all__ = [
    "Encoder",
    "EncoderConfig",
    "check_compatible",
    "encode",
    "encoder_init",
    "load_encoder",
    "save_encoder",
    "train_encoder",
]

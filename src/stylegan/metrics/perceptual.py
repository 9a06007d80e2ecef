"""The perceptual distance for PPL and projection: LPIPS on VGG16 (Zhang et al. 2018, "The Unreasonable
Effectiveness of Deep Features as a Perceptual Metric").

Two networks share one calling convention, NVIDIA's `vgg16.pt` one, so PPL and the projector do not care which
is loaded:

    emb = net(img, resize_images=False, return_lpips=True)      # img: RGB [N, 3, H, W] in [0, 255]
    lpips(a, b) = (emb_a - emb_b).square().sum(1)

- `vgg16-nvidia`: NVIDIA's TorchScript `vgg16.pt` (used as is when present; see `detectors.py` for where).
- `lpips-vgg16-st (stlpips)`: our own network definition, `LPIPSVGG16`, loaded offline from the weights in the
  `stlpips-pytorch` wheel (`vgg_shift_tolerant.pth`, install with `pip install --no-deps stlpips-pytorch==0.0.2`,
  loaded with `torch.load(weights_only=True)`). These are the *shift-tolerant* ST-LPIPS weights (Ghildyal & Liu,
  ECCV 2022): VGG16 whose max-pools are anti-aliased (max-pool stride 1, then a [1,2,1]^2 blur with stride 2
  after reflect padding) plus LPIPS's linear heads. Distances are LPIPS-like but not equal to NVIDIA's, so results
  made with it carry its own name.

The embedding: for each of the five VGG16 stages l (relu1_2, relu2_2, relu3_3, relu4_3, relu5_3) the features are
unit-normalised over channels, weighted by sqrt(w_l) (the LPIPS linear head, all >= 0) and by 1/sqrt(H_l W_l), and
flattened; the squared distance of two embeddings is exactly LPIPS: sum_l mean_hw sum_c w_lc (f_l(a) - f_l(b))^2.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import StyleGANError
from ..images import from_uint8
from .detectors import (
    VGG16_FILE,
    VGG16_URL,
    DetectorInfo,
    DetectorSource,
    cached_sha256,
    fetch_nvidia_file,
    find_nvidia_file,
    load_torchscript,
    metrics_cache_dir,
    package_file,
    resize_like_nvidia,
)

STLPIPS_PACKAGE, STLPIPS_PIN = "stlpips_pytorch", "stlpips-pytorch==0.0.2"
STLPIPS_WEIGHTS = ("weights", "vST0.0", "vgg_shift_tolerant.pth")

#: VGG16 configuration "D": channels per 3x3 convolution, "M" = pooling (the stage boundaries).
_VGG16_CFG: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]
_STAGE_CHANNELS = (64, 128, 256, 512, 512)


class BlurPool2d(nn.Module):
    """Anti-aliased stride-2 subsampling (Zhang 2019, "Making Convolutional Networks Shift-Invariant Again"):
    reflect-pad by 2 (ST-LPIPS's `pad_more`), then a depthwise [1, 2, 1] x [1, 2, 1] / 16 blur with stride 2."""

    filt: Tensor

    def __init__(self, channels: int) -> None:
        super().__init__()
        a = torch.tensor([1.0, 2.0, 1.0])
        filt = a[:, None] * a[None, :]
        self.register_buffer("filt", (filt / filt.sum())[None, None].repeat(channels, 1, 1, 1))
        self.channels = channels

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), self.filt, stride=2, groups=x.shape[1])

    def extra_repr(self) -> str:
        return f"channels={self.channels}, filter=[1,2,1]^2/16, pad=reflect 2, stride=2"


class MaxPool2x2Stride1(nn.Module):
    """`nn.MaxPool2d(kernel_size=2, stride=1)` as the maximum of four shifted views: the same values, several times
    faster on CPU than the pooling kernel (which also computes indices)."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.maximum(
            torch.maximum(x[:, :, :-1, :-1], x[:, :, :-1, 1:]), torch.maximum(x[:, :, 1:, :-1], x[:, :, 1:, 1:])
        )


class _Scaling(nn.Module):
    """LPIPS's input normalisation: (x - shift) / scale on [-1, 1] RGB."""

    shift: Tensor
    scale: Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188])[None, :, None, None])
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450])[None, :, None, None])

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.shift) / self.scale


class LPIPSVGG16(nn.Module):
    """Shift-tolerant LPIPS on VGG16 (`lpips-vgg16-st`). Parameter names match the stlpips-pytorch state dict
    (`net.slice{1-5}.<index>`, `lin{0-4}.model.1.weight`, `scaling_layer.*`), so its file loads strictly.

    Call it like NVIDIA's `vgg16.pt`: `net(img, resize_images=False, return_lpips=True)` with img in [0, 255].
    Inputs must be at least 32x32 (the reflect padding of the deepest blur-pool needs 4 pixels there).

    >>> net = LPIPSVGG16()
    >>> net(torch.zeros(2, 3, 32, 32), return_lpips=True).shape[0]
    2
    """

    info = DetectorInfo("lpips-vgg16-st", description="LPIPSVGG16 with random weights")
    min_size = 32

    def __init__(self) -> None:
        super().__init__()
        self.scaling_layer = _Scaling()
        self.net = nn.Module()
        index, in_ch, stage = 0, 3, 1
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        for v in [*_VGG16_CFG, "M"]:
            if v == "M":  # a stage ends: its last ReLU is an LPIPS tap; the next stage starts with the pooling
                self.net.add_module(f"slice{stage}", nn.Sequential(layers))
                if stage == 5:
                    break
                stage += 1
                layers = OrderedDict()
                layers[str(index)] = MaxPool2x2Stride1()
                layers[str(index + 1)] = BlurPool2d(in_ch)
                index += 2
            else:
                layers[str(index)] = nn.Conv2d(in_ch, int(v), kernel_size=3, padding=1)
                layers[str(index + 1)] = nn.ReLU(inplace=True)
                in_ch = int(v)
                index += 2
        for i, ch in enumerate(_STAGE_CHANNELS):  # LPIPS linear heads: 1x1 conv, no bias (dropout slot at 0)
            self.add_module(f"lin{i}", _LinHead(ch))
        self.requires_grad_(False)

    def stages(self, x: Tensor) -> list[Tensor]:
        """The five tapped activations for x in [-1, 1]."""
        if min(x.shape[-2:]) < self.min_size:
            raise StyleGANError(
                f"the perceptual network needs images of at least {self.min_size}x{self.min_size}, got "
                f"{x.shape[-1]}x{x.shape[-2]} (PPL's face crop keeps half of each side: use ppl2_* or a bigger network)"
            )
        h = self.scaling_layer(x)
        out = []
        for i in range(1, 6):
            h = getattr(self.net, f"slice{i}")(h)
            out.append(h)
        return out

    def forward(self, img: Tensor, resize_images: bool = False, return_lpips: bool = True) -> Tensor:
        """img: RGB [N, 3, H, W] in [0, 255] -> LPIPS embedding [N, D] (see the module docstring).

        `resize_images=True` first resizes to 224x224 with NVIDIA's bilinear grid, as `vgg16.pt` does."""
        if not return_lpips:
            raise StyleGANError("lpips-vgg16-st has no classifier features (return_lpips=False); use NVIDIA's vgg16.pt")
        x = img.to(torch.float32)
        if resize_images:
            x = resize_like_nvidia(x, 224)
        feats = self.stages(from_uint8(x))
        parts = []
        for i, f in enumerate(feats):
            f = f / (f.square().sum(dim=1, keepdim=True).sqrt() + 1e-10)  # unit norm over channels (LPIPS eps)
            w = getattr(self, f"lin{i}").model[-1].weight.reshape(1, -1, 1, 1)  # [1, C, 1, 1], all >= 0
            parts.append((f * w.clamp(min=0).sqrt()).flatten(1) / math.sqrt(f.shape[2] * f.shape[3]))
        return torch.cat(parts, dim=1)

    def distance(self, a: Tensor, b: Tensor) -> Tensor:
        """LPIPS distance [N] of two batches in [0, 255] (the sum over stages of spatially averaged weighted
        squared differences of unit-normalised features)."""
        ea, eb = self(torch.cat([a, b]), return_lpips=True).chunk(2)
        return (ea - eb).square().sum(1)


class _LinHead(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.model = nn.Sequential(OrderedDict([("1", nn.Conv2d(channels, 1, kernel_size=1, bias=False))]))

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class TorchScriptPerceptual(nn.Module):
    """NVIDIA's `vgg16.pt` behind the same interface (and an `info` record) as `LPIPSVGG16`."""

    def __init__(self, module: torch.jit.ScriptModule, info: DetectorInfo) -> None:
        super().__init__()
        self.module = module
        self.info = info

    def forward(self, img: Tensor, resize_images: bool = False, return_lpips: bool = True) -> Tensor:
        return self.module(img, resize_images=resize_images, return_lpips=return_lpips)

    def distance(self, a: Tensor, b: Tensor) -> Tensor:
        ea, eb = self(torch.cat([a, b]), return_lpips=True).chunk(2)
        return (ea - eb).square().sum(1)


def find_offline_lpips() -> Path | None:
    """`vgg_shift_tolerant.pth` of an installed stlpips-pytorch, or None."""
    return package_file(STLPIPS_PACKAGE, *STLPIPS_WEIGHTS)


def load_lpips_st(path: str | os.PathLike[str] | None = None, device: torch.device | str = "cpu") -> LPIPSVGG16:
    """`LPIPSVGG16` with the stlpips-pytorch weights (`torch.load(weights_only=True)`, strict key match)."""
    path = Path(path) if path is not None else find_offline_lpips()
    if path is None or not path.is_file():
        raise StyleGANError(f"no perceptual network: {_where_perceptual()}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # any unreadable file is the same user error
        raise StyleGANError(f"{path}: not a weights file ({type(e).__name__})") from None
    net = LPIPSVGG16()
    try:
        net.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, AttributeError) as e:
        raise StyleGANError(f"{path}: not stlpips-pytorch VGG16 weights ({str(e).splitlines()[0][:120]})") from None
    net.info = DetectorInfo(
        "lpips-vgg16-st",
        path.name,
        cached_sha256(path),
        str(path),
        "shift-tolerant LPIPS VGG16 (stlpips-pytorch weights) in stylegan's own network definition",
    )
    return net.eval().requires_grad_(False).to(device)


def _where_perceptual() -> str:
    return (
        f"put NVIDIA's {VGG16_FILE} ({VGG16_URL}) in {metrics_cache_dir()}/ or pass --vgg16 FILE, or install the "
        f"offline ST-LPIPS weights: pip install --no-deps {STLPIPS_PIN}"
    )


def load_perceptual(
    source: DetectorSource = "auto",
    *,
    file: str | os.PathLike[str] | None = None,
    device: torch.device | str = "cpu",
) -> Any:
    """The LPIPS-VGG16 network for PPL and projection.

    Args:
        source: "nvidia" = NVIDIA's `vgg16.pt` (found locally, else downloaded); "offline" = `lpips-vgg16-st` from
            the stlpips-pytorch wheel; "auto" = NVIDIA's file if it is on this machine, else the offline weights,
            else a download.
        file: an explicit `vgg16.pt` (TorchScript) file; overrides `source`.
        device: where to run it.

    Returns:
        A module called as `net(img_0_255, resize_images=False, return_lpips=True) -> [N, D]`, with `.distance(a, b)`
        and `.info` (a `DetectorInfo`: name `vgg16-nvidia` or `lpips-vgg16-st`, file, sha256). Gradients flow
        through it (projection); its parameters are frozen.

    >>> load_perceptual("offline").info.name
    'lpips-vgg16-st'
    """
    if source not in ("auto", "nvidia", "offline"):
        raise StyleGANError(f"perceptual source must be auto, nvidia or offline, got {source!r}")
    if file is None and (source == "offline" or (source == "auto" and find_nvidia_file("vgg16") is None)):
        offline = find_offline_lpips()
        if offline is not None:
            return load_lpips_st(offline, device)
        if source == "offline":
            raise StyleGANError(f"the offline ST-LPIPS weights are not installed: {_where_perceptual()}")
    if file is not None:
        path = Path(file).expanduser()
    else:
        try:
            path = fetch_nvidia_file("vgg16")
        except StyleGANError as e:
            raise StyleGANError(f"{str(e).split('; offline,')[0]}; offline, {_where_perceptual()}") from None
    module = load_torchscript(path, device)
    info = DetectorInfo("vgg16-nvidia", path.name, cached_sha256(path), str(path), "NVIDIA's TorchScript VGG16 LPIPS")
    return TorchScriptPerceptual(module, info).eval().requires_grad_(False).to(device)

"""Stand-ins for the real detectors, for tests, doctests and quick experiments: small, deterministic, offline.

Numbers made with them are labelled with the stub's name and mean nothing outside a test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from .detectors import Detector, DetectorInfo


class RandomProjectionDetector(Detector):
    """Features = a fixed random projection of the image, area-resized to 8x8, scaled to [0, 1] (64 features by
    default); probabilities = softmax of a second projection. Cheap, deterministic, and sensitive to content.

    >>> det = RandomProjectionDetector(dim=4)
    >>> det.features(torch.zeros(2, 3, 16, 16, dtype=torch.uint8)).shape
    torch.Size([2, 4])
    """

    def __init__(self, dim: int = 64, classes: int = 10, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        module = nn.Module()
        module.register_buffer("proj", torch.randn(3 * 8 * 8, dim, generator=g) / 8)
        module.register_buffer("cls", torch.randn(3 * 8 * 8, classes, generator=g))
        super().__init__(module, DetectorInfo("stub-random-projection", description="test stand-in"))
        self.feature_dim = dim
        self.calls: list[Tensor] = []

    def _flat(self, images: Tensor) -> Tensor:
        x = self._prepare(images)
        self.calls.append(x.detach().cpu())
        return F.adaptive_avg_pool2d(x / 255, 8).flatten(1)

    @torch.no_grad()
    def features(self, images: Tensor) -> Tensor:
        return self._flat(images) @ self.module.get_buffer("proj")

    @torch.no_grad()
    def probabilities(self, images: Tensor) -> Tensor:
        return torch.softmax(self._flat(images) @ self.module.get_buffer("cls"), dim=1)


class FlattenPerceptual(nn.Module):
    """A "perceptual network" whose LPIPS is the mean squared pixel difference on the [0, 255] / 255 scale:
    embedding = flatten(img / 255) / sqrt(pixels). Lets PPL tests compute the expected answer by hand."""

    info = DetectorInfo("stub-flatten", description="test stand-in: mean squared pixel difference")

    def forward(self, img: Tensor, resize_images: bool = False, return_lpips: bool = True) -> Tensor:
        x = img.to(torch.float32) / 255
        return x.flatten(1) / float(np.sqrt(x[0].numel()))


def write_image_folder(
    path: str | os.PathLike[str],
    n: int = 16,
    *,
    resolution: int = 16,
    channels: int = 3,
    labels: list[int] | None = None,
    seed: int = 0,
) -> Path:
    """Write `n` random smooth PNG images (and `dataset.json` when `labels` are given) into a folder."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    rng = np.random.RandomState(seed)
    for i in range(n):
        small = rng.randint(0, 256, size=(4, 4, channels)).astype(np.uint8)
        img = Image.fromarray(small[:, :, 0] if channels == 1 else small).resize((resolution, resolution))
        img.save(path / f"img{i:05d}.png")
    if labels is not None:
        meta = {"labels": [[f"img{i:05d}.png", int(labels[i])] for i in range(n)]}
        (path / "dataset.json").write_text(json.dumps(meta))
    return path

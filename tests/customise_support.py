"""Shared by the customisation tests: a two-class image source (reddish vs bluish noise with a random square) and a
tiny 64 px generator whose images depend on z."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from stylegan import Generator
from stylegan.testing import tiny_generator


def make_red_blue(root: Path, per_class: int = 40, seed: int = 0) -> Path:
    """`root/red/*.png` and `root/blue/*.png`, 64x64: noise with a strong red or blue cast and a random square."""
    rng = np.random.RandomState(seed)
    for name, channel in (("red", 0), ("blue", 2)):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = rng.randint(0, 90, (64, 64, 3))
            img[:, :, channel] += rng.randint(100, 165)
            y, x = rng.randint(0, 48, 2)
            img[y : y + 16, x : x + 16] = rng.randint(0, 256, 3)
            Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(folder / f"{name}{i:03d}.png")
    return root


def tiny_generator_64(seed: int = 0) -> Generator:
    """A random 64 px tiny generator whose images depend on z: a random mapping network keeps its learning-rate
    multiplier of 0.01 in its weight gain, so its w hardly moves with z; its weights are scaled back up by 100."""
    G = tiny_generator(seed=seed, img_resolution=64)
    with torch.no_grad():
        for name, p in G.mapping.named_parameters():
            if name.endswith("weight"):
                p.mul_(100)
    return G

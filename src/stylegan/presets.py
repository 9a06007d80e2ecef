"""The `--cfg` presets: NVIDIA's configurations (StyleGAN2-ADA's `train.py` `cfg_specs`) plus two that train on a
CPU. One table serves the networks (`PRESETS[name].generator(resolution)`) and training
(`stylegan.train.build_config`).

>>> PRESETS["paper256"].generator(256).channel_base
16384
>>> auto = PRESETS["auto"].resolve(64, gpus=1)
>>> auto.batch, round(auto.r1_gamma, 4), auto.ema_kimg, auto.mapping_layers, auto.mbstd_group_size
(32, 0.0256, 10.0, 2, 4)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .errors import SettingError
from .networks.config import Architecture, DiscriminatorConfig, GeneratorConfig


@dataclass(frozen=True, kw_only=True)
class Preset:
    """One named configuration. `None` fields follow NVIDIA's `auto` formulas (see `resolve`)."""

    description: str
    # Networks.
    channel_base: int | None = None
    channel_max: int = 512
    mapping_layers: int = 8
    z_dim: int = 512
    w_dim: int = 512
    d_architecture: Architecture = "resnet"
    conv_clamp: float | None = 256  # NVIDIA's value (it matters for fp16); the CPU presets skip the clamp
    mbstd_group_size: int | None = None
    # Training.
    batch: int | None = None
    lr: float | None = None
    r1_gamma: float | None = None
    pl_weight: float = 2.0
    style_mixing_prob: float = 0.9
    ema_kimg: float | None = None
    ema_rampup: float | None = None
    kimg: float = 25000.0
    kimg_per_tick: float = 4.0
    snap: int = 50
    image_grid: tuple[int, int] = (8, 8)

    def resolve(self, resolution: int, *, gpus: int = 1, batch: int | None = None) -> Preset:
        """This preset with every `None` filled by `auto`'s formulas for images of `resolution` on `gpus` processes;
        `batch`, when given, replaces the preset's batch (and feeds the formulas that depend on it):
        batch = max(min(gpus·min(4096 // res, 32), 64), gpus), mbstd = min(batch // gpus, 4),
        channel_base = 32768 if res >= 512 else 16384, lr = 0.002 if res >= 1024 else 0.0025,
        r1_gamma = 0.0002·res² / batch, ema_kimg = batch·10 / 32."""
        res = resolution
        batch = batch or self.batch or max(min(gpus * min(4096 // res, 32), 64), gpus)
        return dataclasses.replace(
            self,
            batch=batch,
            mbstd_group_size=self.mbstd_group_size or min(batch // gpus, 4),
            channel_base=self.channel_base or (32768 if res >= 512 else 16384),
            lr=self.lr or (0.002 if res >= 1024 else 0.0025),
            r1_gamma=self.r1_gamma if self.r1_gamma is not None else 0.0002 * res**2 / batch,
            ema_kimg=self.ema_kimg or batch * 10 / 32,
        )

    def generator(self, img_resolution: int, *, img_channels: int = 3, c_dim: int = 0) -> GeneratorConfig:
        """The preset's generator for `img_resolution` images."""
        p = self.resolve(img_resolution)
        assert p.channel_base is not None
        return GeneratorConfig(
            z_dim=p.z_dim,
            w_dim=p.w_dim,
            c_dim=c_dim,
            img_resolution=img_resolution,
            img_channels=img_channels,
            mapping_layers=p.mapping_layers,
            channel_base=p.channel_base,
            channel_max=p.channel_max,
            conv_clamp=p.conv_clamp,
        )

    def discriminator(
        self, img_resolution: int, *, img_channels: int = 3, c_dim: int = 0, gpus: int = 1, batch: int | None = None
    ) -> DiscriminatorConfig:
        """The preset's discriminator for `img_resolution` images (the minibatch-stddev group of `auto` depends on
        the batch per process)."""
        p = self.resolve(img_resolution, gpus=gpus, batch=batch)
        assert p.channel_base is not None
        return DiscriminatorConfig(
            c_dim=c_dim,
            img_resolution=img_resolution,
            img_channels=img_channels,
            architecture=p.d_architecture,
            channel_base=p.channel_base,
            channel_max=p.channel_max,
            conv_clamp=p.conv_clamp,
            mbstd_group_size=p.mbstd_group_size,
        )


PRESETS: dict[str, Preset] = {
    "auto": Preset(
        description="NVIDIA's 'auto': sizes from the resolution and GPU count; 2-layer mapping, EMA ramp-up",
        mapping_layers=2,
        ema_rampup=0.05,
    ),
    "stylegan2": Preset(
        description="config F (StyleGAN2 paper, 1024x1024 FFHQ)",
        channel_base=32768,
        mbstd_group_size=4,
        batch=32,
        lr=0.002,
        r1_gamma=10.0,
        ema_kimg=10.0,
    ),
    "paper256": Preset(
        description="StyleGAN2-ADA paper's 256x256 setting",
        channel_base=16384,
        mbstd_group_size=8,
        batch=64,
        lr=0.0025,
        r1_gamma=1.0,
        ema_kimg=20.0,
    ),
    "paper512": Preset(
        description="StyleGAN2-ADA paper's 512x512 setting",
        channel_base=32768,
        mbstd_group_size=8,
        batch=64,
        lr=0.0025,
        r1_gamma=0.5,
        ema_kimg=20.0,
    ),
    "paper1024": Preset(
        description="StyleGAN2-ADA paper's 1024x1024 setting",
        channel_base=32768,
        mbstd_group_size=4,
        batch=32,
        lr=0.002,
        r1_gamma=2.0,
        ema_kimg=10.0,
    ),
    "cifar": Preset(
        description="CIFAR-10 setting: no path length, no mixing, orig D, 2-layer mapping",
        channel_base=32768,
        mapping_layers=2,
        d_architecture="orig",
        mbstd_group_size=32,
        batch=64,
        lr=0.0025,
        r1_gamma=0.01,
        pl_weight=0.0,
        style_mixing_prob=0.0,
        ema_kimg=500.0,
        ema_rampup=0.05,
        kimg=100000.0,
    ),
    "cpu-small": Preset(
        description="a real run on a CPU: 4096 channel base, 256 max, 2-layer mapping, 256-d latents",
        channel_base=4096,
        channel_max=256,
        mapping_layers=2,
        z_dim=256,
        w_dim=256,
        conv_clamp=None,
        mbstd_group_size=4,
        batch=8,
        lr=0.0025,
        ema_rampup=0.05,
        kimg=200.0,
        kimg_per_tick=1.0,
        snap=10,
        image_grid=(6, 8),
    ),
    "cpu-tiny": Preset(
        description="smoke tests on a CPU: 1024 channel base, 64 max, 64-d latents",
        channel_base=1024,
        channel_max=64,
        mapping_layers=2,
        z_dim=64,
        w_dim=64,
        conv_clamp=None,
        mbstd_group_size=2,
        batch=4,
        lr=0.0025,
        ema_rampup=0.05,
        kimg=10.0,
        kimg_per_tick=0.2,
        snap=5,
        image_grid=(4, 4),
    ),
}


def get_preset(name: str) -> Preset:
    """The preset called `name`; an error naming the known ones otherwise."""
    if name not in PRESETS:
        raise SettingError(f"unknown {{preset}} {name!r}; choose from {', '.join(PRESETS)}", "preset")
    return PRESETS[name]

"""Typed network configurations and NVIDIA's published presets.

`GeneratorConfig` / `DiscriminatorConfig` hold every architecture choice; the field names follow the
reference implementation's constructor arguments so that foreign checkpoints map onto them directly.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

Architecture = Literal["orig", "skip", "resnet"]
ARCHITECTURES: tuple[str, ...] = ("orig", "skip", "resnet")


def _check_resolution(name: str, res: int) -> None:
    if res < 4 or res & (res - 1):
        raise ValueError(f"{name} must be a power of two >= 4, got {res}")


def _check_channels(channel_base: int, channel_max: int, res: int) -> None:
    if channel_max < 1 or channel_base // res < 1:
        raise ValueError(
            f"channel_base={channel_base} gives no channels at {res}x{res}: it must be >= the resolution "
            f"(channels = min(channel_base // res, channel_max))"
        )


def channels_at(res: int, channel_base: int, channel_max: int) -> int:
    """Feature maps at a resolution: min(channel_base // res, channel_max)."""
    return min(channel_base // res, channel_max)


@dataclass(frozen=True)
class GeneratorConfig:
    """Architecture of a StyleGAN2 generator G = synthesis ∘ mapping."""

    z_dim: int = 512
    c_dim: int = 0  # 0 = unconditional
    w_dim: int = 512
    img_resolution: int = 1024
    img_channels: int = 3
    # Mapping network f: z -> w.
    mapping_layers: int = 8
    mapping_lr_multiplier: float = 0.01
    mapping_embed_features: int | None = None  # None = w_dim
    mapping_layer_features: int | None = None  # None = w_dim
    w_avg_beta: float = 0.995
    # Synthesis network g: w -> image.
    channel_base: int = 32768
    channel_max: int = 512
    architecture: Architecture = "skip"
    conv_clamp: float | None = None
    use_noise: bool = True
    resample_filter: tuple[int, ...] = (1, 3, 3, 1)

    def __post_init__(self) -> None:
        _check_resolution("img_resolution", self.img_resolution)
        _check_channels(self.channel_base, self.channel_max, self.img_resolution)
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {self.architecture!r}")
        if self.img_channels < 1:
            raise ValueError(f"img_channels must be >= 1, got {self.img_channels}")
        if self.c_dim < 0 or self.z_dim < 1 or self.w_dim < 1 or self.mapping_layers < 1:
            raise ValueError("z_dim, w_dim and mapping_layers must be >= 1 and c_dim >= 0")
        object.__setattr__(self, "resample_filter", tuple(self.resample_filter))

    @property
    def num_ws(self) -> int:
        """Number of per-layer latents: two per block above 4x4, one for the 4x4 block, one for the last ToRGB."""
        return 2 * int(math.log2(self.img_resolution)) - 2

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GeneratorConfig:
        return _from_dict(cls, d)


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Architecture of a StyleGAN2 discriminator."""

    c_dim: int = 0
    img_resolution: int = 1024
    img_channels: int = 3
    architecture: Architecture = "resnet"
    channel_base: int = 32768
    channel_max: int = 512
    conv_clamp: float | None = None
    cmap_dim: int | None = None  # None = channels at 4x4
    mbstd_group_size: int | None = 4  # None = whole minibatch
    mbstd_num_channels: int = 1
    mapping_layers: int = 8  # label-mapping network used for projection conditioning
    mapping_lr_multiplier: float = 0.01
    freeze_layers: int = 0  # Freeze-D (Mo et al. 2020): number of leading layers that do not train
    resample_filter: tuple[int, ...] = (1, 3, 3, 1)

    def __post_init__(self) -> None:
        _check_resolution("img_resolution", self.img_resolution)
        _check_channels(self.channel_base, self.channel_max, self.img_resolution)
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {self.architecture!r}")
        object.__setattr__(self, "resample_filter", tuple(self.resample_filter))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DiscriminatorConfig:
        return _from_dict(cls, d)


#: Fields that files written by earlier versions hold and that nothing reads: accepted and dropped when reading.
#: `num_fp16_res` (NVIDIA's number of float16 resolutions) was stored but never used: we always run in float32.
RETIRED_FIELDS = frozenset({"num_fp16_res"})


def _from_dict(cls: type, d: dict[str, Any]) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names - RETIRED_FIELDS)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {', '.join(unknown)}")
    return cls(**{k: v for k, v in d.items() if k in names})


def config_json(cfg: GeneratorConfig | DiscriminatorConfig) -> str:
    return json.dumps(cfg.to_dict(), sort_keys=True)


@dataclass(frozen=True)
class NetworkPreset:
    """A named architecture: what NVIDIA's `--cfg` gives for G and D (mixed precision excluded)."""

    name: str
    description: str
    channel_base: int
    channel_max: int = 512
    mapping_layers: int = 8
    mbstd_group_size: int = 4
    d_architecture: Architecture = "resnet"
    conv_clamp: float | None = 256
    extra: dict[str, Any] = field(default_factory=dict)

    def generator(self, img_resolution: int, **overrides: Any) -> GeneratorConfig:
        kw: dict[str, Any] = dict(
            img_resolution=img_resolution,
            channel_base=self.channel_base,
            channel_max=self.channel_max,
            mapping_layers=self.mapping_layers,
            conv_clamp=self.conv_clamp,
        )
        kw.update(overrides)
        return GeneratorConfig(**kw)

    def discriminator(self, img_resolution: int, **overrides: Any) -> DiscriminatorConfig:
        kw: dict[str, Any] = dict(
            img_resolution=img_resolution,
            channel_base=self.channel_base,
            channel_max=self.channel_max,
            mbstd_group_size=self.mbstd_group_size,
            architecture=self.d_architecture,
            conv_clamp=self.conv_clamp,
        )
        kw.update(overrides)
        return DiscriminatorConfig(**kw)


#: NVIDIA's configurations (stylegan2-ada-pytorch `train.py --cfg`), plus small presets that train on a CPU.
PRESETS: dict[str, NetworkPreset] = {
    p.name: p
    for p in [
        NetworkPreset("stylegan2", "config F: 32768 channel base, 8-layer mapping", 32768, mbstd_group_size=4),
        NetworkPreset("paper256", "paper's 256x256 setting (half width)", 16384, mbstd_group_size=8),
        NetworkPreset("paper512", "paper's 512x512 setting", 32768, mbstd_group_size=8),
        NetworkPreset("paper1024", "paper's 1024x1024 setting", 32768, mbstd_group_size=4),
        NetworkPreset("cifar", "CIFAR-10: 2-layer mapping, orig D", 32768, 512, 2, 32, "orig"),
        NetworkPreset("auto-256", "NVIDIA 'auto' at <512 px: half width, 2-layer mapping", 16384, 512, 2, 4),
        NetworkPreset("cpu-small", "small CPU network: 4096 base, 256 max, 2-layer mapping", 4096, 256, 2, 4),
        NetworkPreset("cpu-tiny", "tiny CPU network for smoke tests: 1024 base, 64 max", 1024, 64, 2, 4),
    ]
}

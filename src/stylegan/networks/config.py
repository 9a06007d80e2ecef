"""Typed network configurations (the presets that use them are in `stylegan.presets`).

`GeneratorConfig` / `DiscriminatorConfig` hold every architecture choice; the field names follow the
reference implementation's constructor arguments so that foreign checkpoints map onto them directly.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
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


def check_fields(cls: type, names: list[str]) -> None:
    """An error naming the `names` that are not fields of the dataclass `cls`."""
    unknown = sorted(set(names) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {', '.join(unknown)}")


#: Fields that files written by earlier versions hold and that nothing reads: accepted and dropped when reading.
#: `num_fp16_res` (NVIDIA's number of float16 resolutions) was stored but never used: we always run in float32.
RETIRED_FIELDS = frozenset({"num_fp16_res"})


def _from_dict(cls: type, d: dict[str, Any]) -> Any:
    kept = {k: v for k, v in d.items() if k not in RETIRED_FIELDS}
    check_fields(cls, list(kept))
    return cls(**kept)

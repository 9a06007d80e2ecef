"""Typed network configurations (the presets that use them are in `stylegan.presets`).

`GeneratorConfig` / `DiscriminatorConfig` hold every architecture choice; the field names follow the
reference implementation's constructor arguments so that foreign checkpoints map onto them directly.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import reprlib
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Architecture = Literal["orig", "skip", "resnet"]
ARCHITECTURES: tuple[str, ...] = ("orig", "skip", "resnet")


#: Ranges every configuration is checked against, whoever builds it (a preset, a user, a file being read), so
#: that nonsense values fail at once with a message naming the field instead of allocating without bound.
MAX_RESOLUTION = 2**13
MAX_FEATURES = 2**14  # z_dim, w_dim, channel_max, mapping widths, cmap_dim
MAX_CHANNEL_BASE = 2**27
MAX_IMG_CHANNELS = 64
MAX_C_DIM = 2**17
MAX_MAPPING_LAYERS = 64
MAX_FILTER_TAPS = 16
MAX_FP16_RES = 16  # more float16 resolutions than a network has (2**13 px: 12 blocks) mean all of them


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _check_int(name: str, value: Any, lo: int, hi: int, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if not _is_int(value):
        none = " or null" if optional else ""
        raise TypeError(f"{name} must be an integer{none}, got {type(value).__name__} {_short(value)}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")


def _check_real(name: str, value: Any, lo: float, hi: float, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        none = " or null" if optional else ""
        raise TypeError(f"{name} must be a number{none}, got {type(value).__name__} {_short(value)}")
    if not (math.isfinite(value) and lo <= float(value) <= hi):
        raise ValueError(f"{name} must be a finite number in [{lo:g}, {hi:g}], got {value}")


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be true or false, got {type(value).__name__} {_short(value)}")


class _BoundedRepr(reprlib.Repr):
    """`reprlib.Repr` that never calls the `repr` of an object it does not know (which could walk a huge or
    shared structure): containers are shown in part, numbers and strings as such, anything else by type name."""

    def repr_instance(self, x: Any, level: int) -> str:
        if isinstance(x, dict):
            return self.repr_dict(x, level)
        if isinstance(x, list):
            return self.repr_list(x, level)
        if isinstance(x, tuple):
            return self.repr_tuple(x, level)
        if isinstance(x, (int, float, complex, str, bytes, np.generic)) or x is None:
            return reprlib.Repr.repr_instance(self, x, level)
        return f"<{type(x).__name__}>"


_REPR = _BoundedRepr()
_REPR.maxlevel = 3
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlong = 60


def short_value(value: Any) -> str:
    """A short repr of a value read from a file, bounded in length and in time whatever the value holds.

    >>> x = []
    >>> for _ in range(64):
    ...     x = [x, x]
    >>> short_value(x), short_value("a" * 100)[:12], short_value(object())
    ('[[[[...], [...]], [[...], [...]]], [[[...], [...]], [[...], [...]]]]', "'aaaaaaaaaaa", '<object>')
    """
    text = _REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_short = short_value


def _check_architecture(value: Any) -> None:
    if not isinstance(value, str) or value not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {_short(value)}")


def _check_progressive(value: Any, architecture: str) -> None:
    _check_bool("progressive", value)
    if value and architecture != "skip":
        raise ValueError(
            f"progressive growing uses the skip architecture's per-resolution RGB layers: set architecture 'skip', "
            f"not {architecture!r}"
        )


def _check_filter(value: Any) -> tuple[Any, ...]:
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= MAX_FILTER_TAPS:
        raise ValueError(f"resample_filter must be a list of 1 to {MAX_FILTER_TAPS} numbers, got {_short(value)}")
    for tap in value:
        _check_real("resample_filter", tap, -1e6, 1e6)
    if sum(value) == 0:
        raise ValueError(f"resample_filter {list(value)} sums to zero; it cannot be normalised")
    return tuple(value)


def _check_resolution(name: str, res: Any) -> None:
    _check_int(name, res, 4, MAX_RESOLUTION)
    if res & (res - 1):
        raise ValueError(f"{name} must be a power of two >= 4, got {res}")


def _check_channels(channel_base: Any, channel_max: Any, res: int) -> None:
    _check_int("channel_base", channel_base, 1, MAX_CHANNEL_BASE)
    _check_int("channel_max", channel_max, 1, MAX_FEATURES)
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
    # NVIDIA's mixed precision: the blocks of the `num_fp16_res` highest resolutions run in float16 on CUDA devices
    # (`stylegan.nn.mixed`); 0 = float32 throughout. Pair it with `conv_clamp` (NVIDIA's 256).
    num_fp16_res: int = 0
    use_noise: bool = True
    resample_filter: tuple[int, ...] = (1, 3, 3, 1)
    # Progressive growing (the StyleGAN2 paper's configurations B-D): the skip architecture's ToRGB layers, blended
    # by the level of detail (buffer `synthesis.lod`) instead of summed.
    progressive: bool = False

    def __post_init__(self) -> None:
        _check_resolution("img_resolution", self.img_resolution)
        _check_channels(self.channel_base, self.channel_max, self.img_resolution)
        _check_architecture(self.architecture)
        _check_progressive(self.progressive, self.architecture)
        _check_int("img_channels", self.img_channels, 1, MAX_IMG_CHANNELS)
        _check_int("z_dim", self.z_dim, 1, MAX_FEATURES)
        _check_int("w_dim", self.w_dim, 1, MAX_FEATURES)
        _check_int("c_dim", self.c_dim, 0, MAX_C_DIM)
        _check_int("mapping_layers", self.mapping_layers, 1, MAX_MAPPING_LAYERS)
        _check_int("mapping_embed_features", self.mapping_embed_features, 1, MAX_FEATURES, optional=True)
        _check_int("mapping_layer_features", self.mapping_layer_features, 1, MAX_FEATURES, optional=True)
        _check_real("mapping_lr_multiplier", self.mapping_lr_multiplier, 1e-12, 1e6)
        _check_real("w_avg_beta", self.w_avg_beta, 0, 1, optional=True)
        _check_real("conv_clamp", self.conv_clamp, 0, 1e12, optional=True)
        _check_int("num_fp16_res", self.num_fp16_res, 0, MAX_FP16_RES)
        _check_bool("use_noise", self.use_noise)
        object.__setattr__(self, "resample_filter", _check_filter(self.resample_filter))

    @property
    def num_ws(self) -> int:
        """Number of per-layer latents: two per block above 4x4, one for the 4x4 block, one for the last ToRGB."""
        return 2 * int(math.log2(self.img_resolution)) - 2

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict; `num_fp16_res` only when not 0 (float32 networks' files stay as they were)."""
        return _without_zeros(dataclasses.asdict(self), "num_fp16_res")

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
    num_fp16_res: int = 0  # the blocks of this many highest resolutions run in float16 on CUDA devices
    cmap_dim: int | None = None  # None = channels at 4x4
    mbstd_group_size: int | None = 4  # None = whole minibatch
    mbstd_num_channels: int = 1
    mapping_layers: int = 8  # label-mapping network used for projection conditioning
    mapping_lr_multiplier: float = 0.01
    freeze_layers: int = 0  # Freeze-D (Mo et al. 2020): number of leading layers that do not train
    resample_filter: tuple[int, ...] = (1, 3, 3, 1)
    # Progressive growing: the skip architecture's FromRGB layers, one of them read at the level of detail (`lod`).
    progressive: bool = False
    # InfoGAN's Q head (Info-StyleGAN, `stylegan.infocodes`): outputs predicting G's latent codes from the features
    # before D's last layer; 0 = none (the network is then exactly a StyleGAN2 discriminator).
    q_dim: int = 0

    def __post_init__(self) -> None:
        _check_resolution("img_resolution", self.img_resolution)
        _check_channels(self.channel_base, self.channel_max, self.img_resolution)
        _check_architecture(self.architecture)
        _check_progressive(self.progressive, self.architecture)
        _check_int("img_channels", self.img_channels, 1, MAX_IMG_CHANNELS)
        _check_int("c_dim", self.c_dim, 0, MAX_C_DIM)
        _check_int("q_dim", self.q_dim, 0, MAX_FEATURES)
        _check_real("conv_clamp", self.conv_clamp, 0, 1e12, optional=True)
        _check_int("num_fp16_res", self.num_fp16_res, 0, MAX_FP16_RES)
        _check_int("cmap_dim", self.cmap_dim, 1, MAX_FEATURES, optional=True)
        _check_int("mbstd_group_size", self.mbstd_group_size, 1, 2**16, optional=True)
        _check_int("mbstd_num_channels", self.mbstd_num_channels, 0, MAX_FEATURES)
        _check_int("mapping_layers", self.mapping_layers, 0, MAX_MAPPING_LAYERS)
        _check_real("mapping_lr_multiplier", self.mapping_lr_multiplier, 1e-12, 1e6)
        _check_int("freeze_layers", self.freeze_layers, 0, 4 * MAX_MAPPING_LAYERS)
        object.__setattr__(self, "resample_filter", _check_filter(self.resample_filter))

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict; `q_dim` only when there is a Q head and `num_fp16_res` only when not 0 (files
        without them stay as they were)."""
        return _without_zeros(dataclasses.asdict(self), "q_dim", "num_fp16_res")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DiscriminatorConfig:
        return _from_dict(cls, d)


def check_fields(cls: type, names: list[str]) -> None:
    """An error naming the `names` that are not fields of the dataclass `cls`."""
    unknown = sorted(set(names) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {', '.join(unknown)}")


def _without_zeros(d: dict[str, Any], *names: str) -> dict[str, Any]:
    """`d` without the fields `names` whose value is 0 (fields added later, left out at their default)."""
    return {k: v for k, v in d.items() if not (k in names and v == 0)}


def _from_dict(cls: type, d: dict[str, Any]) -> Any:
    if not isinstance(d, dict):
        raise TypeError(f"a {cls.__name__} must be a JSON object, got {type(d).__name__}")
    check_fields(cls, list(d))
    return cls(**d)


# ---------------------------------------------------------------------------------------------------------
# Size of a network, computed from its configuration alone (nothing is allocated).


def _linear(fan_in: int, fan_out: int, bias: bool = True) -> int:
    return fan_in * fan_out + (fan_out if bias else 0)


def _mapping_counts(
    z_dim: int, c_dim: int, w_dim: int, layers: int, embed: int | None, width: int | None, w_avg: bool
) -> tuple[int, int]:
    embed_features = (w_dim if embed is None else embed) if c_dim > 0 else 0
    width = w_dim if width is None else width
    features = [z_dim + embed_features] + [width] * (layers - 1) + [w_dim]
    params = _linear(c_dim, embed_features) if c_dim > 0 else 0
    params += sum(_linear(features[i], features[i + 1]) for i in range(layers))
    return params, (w_dim if w_avg else 0)


DEFAULT_TAPS = 16  # layers built without a resample_filter argument keep the default 4x4 filter as a buffer


def count_parameters(cfg: GeneratorConfig | DiscriminatorConfig) -> tuple[int, int]:
    """(parameters, buffer values) of the network `cfg` describes, computed arithmetically (nothing is built).

    >>> count_parameters(GeneratorConfig())
    (30370060, 2797104)
    """
    taps = len(cfg.resample_filter) ** 2
    log2 = int(math.log2(cfg.img_resolution))

    def ch(res: int) -> int:
        return channels_at(res, cfg.channel_base, cfg.channel_max)

    if isinstance(cfg, GeneratorConfig):
        params, buffers = 0, 0
        for res in (2**i for i in range(2, log2 + 1)):
            out_ch = ch(res)
            buffers += taps  # the block's resample filter
            layers = [(out_ch, out_ch)]
            if res == 4:
                params += out_ch * res * res
            else:
                layers.append((ch(res // 2), out_ch))
                if cfg.architecture == "resnet":
                    params += ch(res // 2) * out_ch
                    buffers += taps
            for in_ch, o in layers:
                params += _linear(cfg.w_dim, in_ch) + o * in_ch * 9 + o
                buffers += taps
                if cfg.use_noise:
                    params += 1
                    buffers += res * res
            if res == cfg.img_resolution or cfg.architecture == "skip":
                params += _linear(cfg.w_dim, out_ch) + _linear(out_ch, cfg.img_channels)
        num_ws = 2 * log2 - 2
        mp, mb = _mapping_counts(
            cfg.z_dim,
            cfg.c_dim,
            cfg.w_dim,
            cfg.mapping_layers,
            cfg.mapping_embed_features,
            cfg.mapping_layer_features,
            num_ws > 0 and cfg.w_avg_beta is not None,
        )
        return params + mp, buffers + mb + int(cfg.progressive)
    params, buffers = 0, int(cfg.progressive)
    layer_idx = 0

    def conv(n: int, frozen_aware: bool = True) -> None:
        nonlocal params, buffers, layer_idx
        if frozen_aware:
            if layer_idx < cfg.freeze_layers:
                buffers += n
            else:
                params += n
            layer_idx += 1
        else:
            params += n

    for res in (2**i for i in range(log2, 2, -1)):
        tmp, out = ch(res), ch(res // 2)
        buffers += taps
        if res == cfg.img_resolution or cfg.architecture == "skip":
            conv(_linear(cfg.img_channels, tmp))
            buffers += DEFAULT_TAPS
        conv(tmp * tmp * 9 + tmp)
        conv(out * tmp * 9 + out)
        buffers += DEFAULT_TAPS + taps
        if cfg.architecture == "resnet":
            conv(out * tmp)
            buffers += taps
    c4 = ch(4)
    cmap_dim = (c4 if cfg.cmap_dim is None else cfg.cmap_dim) if cfg.c_dim > 0 else 0
    if cfg.c_dim > 0:
        mp, _ = _mapping_counts(0, cfg.c_dim, cmap_dim, cfg.mapping_layers, None, None, False)
        params += mp
    if cfg.architecture == "skip" or cfg.img_resolution == 4:
        params += _linear(cfg.img_channels, c4)
        buffers += DEFAULT_TAPS
    params += c4 * (c4 + cfg.mbstd_num_channels) * 9 + c4
    buffers += DEFAULT_TAPS
    params += _linear(c4 * 16, c4) + _linear(c4, 1 if cmap_dim == 0 else cmap_dim)
    if cfg.q_dim:
        params += _linear(c4, c4) + _linear(c4, cfg.q_dim)
    return params, buffers


#: The largest network (float32 weights and buffers) that is built from a file: 16 GiB, or half the machine's
#: memory when that is less. Published StyleGAN2 networks need well under 1 GiB.
MAX_WEIGHTS_BYTES = 16 * 2**30


def weights_limit() -> int:
    """`MAX_WEIGHTS_BYTES`, or half of this machine's physical memory when that is smaller."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return MAX_WEIGHTS_BYTES
    return min(MAX_WEIGHTS_BYTES, ram // 2) if ram > 0 else MAX_WEIGHTS_BYTES

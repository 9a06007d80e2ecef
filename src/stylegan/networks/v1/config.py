"""Typed configurations of the StyleGAN (version 1) networks (Karras, Laine & Aila 2019).

The fields follow the arguments of NVIDIA's TensorFlow `G_style` / `G_synthesis` / `G_mapping` / `D_basic`, renamed
to this package's conventions: `channel_base` is twice TF's `fmap_base`, so that, as for version 2, a block at
resolution r has min(channel_base // r, channel_max) feature maps. The paper's configurations B-F of Table 1 are
switches of the same generator (`use_styles`, `const_input_layer`, `use_noise`, `mapping_layers`, ...).

A configuration written to a checkpoint carries `"version": 1`; version-2 configurations carry no version key.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

from ..config import (
    MAX_C_DIM,
    MAX_FEATURES,
    MAX_FILTER_TAPS,
    MAX_IMG_CHANNELS,
    MAX_MAPPING_LAYERS,
    _check_bool,
    _check_channels,
    _check_int,
    _check_real,
    _check_resolution,
    _short,
    channels_at,
    check_fields,
)

Structure = Literal["linear", "fixed"]
FusedScale = bool | Literal["auto"]

#: Output resolution from which `fused_scale="auto"` uses the fused (transposed / strided) resampling convolution.
FUSED_MIN_RESOLUTION = 128


def _check_blur(value: Any) -> tuple[float, ...] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= MAX_FILTER_TAPS:
        raise ValueError(f"blur_filter must be null or a list of 1 to {MAX_FILTER_TAPS} numbers, got {_short(value)}")
    for tap in value:
        _check_real("blur_filter", tap, -1e6, 1e6)
    if sum(value) == 0:
        raise ValueError(f"blur_filter {list(value)} sums to zero; it cannot be normalised")
    return tuple(value)


def _check_fused(value: Any) -> None:
    if value != "auto" and not isinstance(value, bool):
        raise ValueError(f"fused_scale must be true, false or 'auto', got {_short(value)}")


def _check_structure(value: Any) -> None:
    if value not in ("linear", "fixed"):
        raise ValueError(f"structure must be 'linear' (progressive growing) or 'fixed', got {_short(value)}")


def uses_fused_scale(fused_scale: FusedScale, resolution: int) -> bool:
    """Whether a resampling convolution whose larger side is `resolution` runs fused: 'auto' fuses from 128 px."""
    return resolution >= FUSED_MIN_RESOLUTION if fused_scale == "auto" else bool(fused_scale)


class _Versioned:
    """to_dict / from_dict with the `"version": 1` tag."""

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)  # type: ignore[call-overload]
        return {"version": 1, **d}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Any:
        if not isinstance(d, dict):
            raise TypeError(f"a {cls.__name__} must be a JSON object, got {type(d).__name__}")
        if d.get("version") != 1:
            raise ValueError(f"not a StyleGAN (v1) configuration (version {_short(d.get('version'))})")
        kept = {k: v for k, v in d.items() if k != "version"}
        check_fields(cls, list(kept))
        return cls(**kept)


@dataclass(frozen=True)
class GeneratorConfig(_Versioned):
    """Architecture of a StyleGAN (v1) generator: mapping network f, then the style-based synthesis network g."""

    z_dim: int = 512
    c_dim: int = 0  # labels are embedded to z_dim features and concatenated to z
    w_dim: int = 512
    img_resolution: int = 1024
    img_channels: int = 3
    # Mapping network f: z -> w (0 layers: w = normalised z, the baseline configurations).
    mapping_layers: int = 8
    mapping_layer_features: int | None = None  # None = w_dim
    mapping_lr_multiplier: float = 0.01
    normalize_latents: bool = True
    w_avg_beta: float | None = 0.995
    truncation_cutoff: int | None = 8  # layers truncated when a caller gives no cutoff (None = all)
    # Synthesis network g: w -> image.
    channel_base: int = 16384
    channel_max: int = 512
    use_styles: bool = True  # AdaIN style modulation after every layer
    const_input_layer: bool = True  # learned 4x4 constant (False: the traditional input, a dense layer on w)
    use_noise: bool = True
    use_pixel_norm: bool = False
    use_instance_norm: bool = True
    fused_scale: FusedScale = "auto"
    blur_filter: tuple[float, ...] | None = (1, 2, 1)
    structure: Structure = "linear"  # linear: ToRGB at every resolution (progressive growing); fixed: the last only

    def __post_init__(self) -> None:
        _check_resolution("img_resolution", self.img_resolution)
        _check_channels(self.channel_base, self.channel_max, self.img_resolution)
        _check_int("img_channels", self.img_channels, 1, MAX_IMG_CHANNELS)
        _check_int("z_dim", self.z_dim, 1, MAX_FEATURES)
        _check_int("w_dim", self.w_dim, 1, MAX_FEATURES)
        _check_int("c_dim", self.c_dim, 0, MAX_C_DIM)
        _check_int("mapping_layers", self.mapping_layers, 0, MAX_MAPPING_LAYERS)
        _check_int("mapping_layer_features", self.mapping_layer_features, 1, MAX_FEATURES, optional=True)
        _check_real("mapping_lr_multiplier", self.mapping_lr_multiplier, 1e-12, 1e6)
        _check_real("w_avg_beta", self.w_avg_beta, 0, 1, optional=True)
        _check_int("truncation_cutoff", self.truncation_cutoff, 0, 2 * MAX_MAPPING_LAYERS, optional=True)
        for name in ("normalize_latents", "use_styles", "const_input_layer", "use_noise", "use_pixel_norm"):
            _check_bool(name, getattr(self, name))
        _check_bool("use_instance_norm", self.use_instance_norm)
        _check_fused(self.fused_scale)
        _check_structure(self.structure)
        object.__setattr__(self, "blur_filter", _check_blur(self.blur_filter))
        if self.mapping_layers == 0 and self.z_dim + (self.z_dim if self.c_dim else 0) != self.w_dim:
            raise ValueError(
                f"without mapping layers w is the normalised z (and embedded label): z_dim {self.z_dim} must give "
                f"w_dim {self.w_dim}"
            )

    @property
    def num_layers(self) -> int:
        """Number of synthesis layers: two per resolution (4x4 included), 18 at 1024 px."""
        return 2 * int(math.log2(self.img_resolution)) - 2

    @property
    def num_ws(self) -> int:
        """Number of per-layer latents: one per layer, or a single w (read by the dense input) without styles."""
        return self.num_layers if self.use_styles else 1

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GeneratorConfig:
        return super().from_dict(d)


@dataclass(frozen=True)
class DiscriminatorConfig(_Versioned):
    """Architecture of a StyleGAN (v1) discriminator (the Progressive GAN discriminator with blurred resampling)."""

    c_dim: int = 0  # one output per class, the label picks one (no projection)
    img_resolution: int = 1024
    img_channels: int = 3
    channel_base: int = 16384
    channel_max: int = 512
    mbstd_group_size: int = 4
    mbstd_num_features: int = 1
    fused_scale: FusedScale = "auto"
    blur_filter: tuple[float, ...] | None = (1, 2, 1)
    structure: Structure = "linear"  # linear: FromRGB at every resolution (progressive growing)

    def __post_init__(self) -> None:
        _check_resolution("img_resolution", self.img_resolution)
        _check_channels(self.channel_base, self.channel_max, self.img_resolution)
        _check_int("img_channels", self.img_channels, 1, MAX_IMG_CHANNELS)
        _check_int("c_dim", self.c_dim, 0, MAX_C_DIM)
        _check_int("mbstd_group_size", self.mbstd_group_size, 1, 2**16)
        _check_int("mbstd_num_features", self.mbstd_num_features, 0, MAX_FEATURES)
        _check_fused(self.fused_scale)
        _check_structure(self.structure)
        object.__setattr__(self, "blur_filter", _check_blur(self.blur_filter))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DiscriminatorConfig:
        return super().from_dict(d)


def _linear(fan_in: int, fan_out: int, bias: bool = True) -> int:
    return fan_in * fan_out + (fan_out if bias else 0)


def count_parameters(cfg: GeneratorConfig | DiscriminatorConfig) -> tuple[int, int]:
    """(parameters, buffer values) of the v1 network `cfg` describes, computed arithmetically.

    >>> count_parameters(GeneratorConfig())  # NVIDIA's published FFHQ generator: 26,219,627 parameters
    (26219627, 2796705)
    >>> count_parameters(DiscriminatorConfig())[0]
    23087249
    """
    log2 = int(math.log2(cfg.img_resolution))

    def ch(res: int) -> int:
        return channels_at(res, cfg.channel_base, cfg.channel_max)

    resolutions = [2**i for i in range(2, log2 + 1)]
    if isinstance(cfg, GeneratorConfig):
        params, buffers = 0, 1  # the lod
        for res in resolutions:
            c = ch(res)
            if res == 4:
                params += c * 16 if cfg.const_input_layer else cfg.w_dim * c * 16  # constant or dense input
                convs = [0, c * ch(4) * 9]  # the input layer has no convolution
            else:
                convs = [ch(res // 2) * c * 9, c * c * 9]
            for weights in convs:
                params += weights + c  # convolution and bias
                if cfg.use_noise:
                    params += c
                    buffers += res * res
                if cfg.use_styles:
                    params += _linear(cfg.w_dim, 2 * c)
            if cfg.structure == "linear" or res == cfg.img_resolution:
                params += _linear(c, cfg.img_channels)
        width = cfg.w_dim if cfg.mapping_layer_features is None else cfg.mapping_layer_features
        features = [cfg.z_dim * (2 if cfg.c_dim else 1)] + [width] * (cfg.mapping_layers - 1) + [cfg.w_dim]
        params += sum(_linear(features[i], features[i + 1]) for i in range(cfg.mapping_layers))
        params += cfg.c_dim * cfg.z_dim
        return params, buffers + (cfg.w_dim if cfg.w_avg_beta is not None else 0)
    params = 0
    for res in reversed(resolutions):
        if cfg.structure == "linear" or res == cfg.img_resolution:
            params += _linear(cfg.img_channels, ch(res))
        if res > 4:
            params += _linear(ch(res) * 9, ch(res)) + _linear(ch(res) * 9, ch(res // 2))
    c4, c2 = ch(4), channels_at(2, cfg.channel_base, cfg.channel_max)
    mbstd = cfg.mbstd_num_features if cfg.mbstd_group_size > 1 else 0
    params += _linear((c4 + mbstd) * 9, c4) + _linear(c4 * 16, c2) + _linear(c2, max(cfg.c_dim, 1))
    return params, 1

"""The `--cfg` presets: NVIDIA's configurations (StyleGAN2-ADA's `train.py` `cfg_specs`), the configurations of
the StyleGAN paper's Table 1 (`sg1-a` ... `sg1-f`, F = `stylegan1`, with progressive growing) and of the StyleGAN2
paper's Table 1 (`config-a` ... `config-f`, F = `stylegan2`), plus two that train on a CPU. One table serves the
networks (`PRESETS[name].generator(resolution)`) and training (`stylegan.train.build_config`).

>>> PRESETS["paper256"].generator(256).channel_base
16384
>>> auto = PRESETS["auto"].resolve(64, gpus=1)
>>> auto.batch, round(auto.r1_gamma, 4), auto.ema_kimg, auto.mapping_layers, auto.mbstd_group_size
(32, 0.0256, 10.0, 2, 4)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import SettingError
from .networks import v1
from .networks.config import Architecture, DiscriminatorConfig, GeneratorConfig

LossKind = Literal["logistic", "wgan-gp"]


@dataclass(frozen=True)
class GrowthTables:
    """Progressive growing's per-resolution settings for one GPU count, as NVIDIA's training schedule takes them:
    the global minibatch (`batch` for the resolutions `batch_dict` does not list), the micro-batch per GPU (None =
    the whole per-GPU share) and the learning rate of both networks."""

    batch: int
    batch_dict: Mapping[int, int] = field(default_factory=dict)
    lr: float = 0.001
    lr_dict: Mapping[int, float] = field(default_factory=dict)
    batch_gpu: int | None = None
    batch_gpu_dict: Mapping[int, int] = field(default_factory=dict)

    def rounded(self, gpus: int, group: int) -> GrowthTables:
        """The minibatches rounded down to a multiple of `gpus` (NVIDIA's rule), and of the micro-batch, or the
        minibatch-stddev `group`, on each GPU (which NVIDIA's tables are for 1, 2, 4 and 8 GPUs, and other counts
        need); never below one micro-batch or group per GPU."""

        def down(b: int, micro: int | None) -> int:
            step = gpus * (micro or group)
            return max(b - b % step, step)

        def micro(res: int | None) -> int | None:
            return self.batch_gpu_dict.get(res, self.batch_gpu) if res is not None else self.batch_gpu

        return dataclasses.replace(
            self,
            batch=down(self.batch, micro(None)),
            batch_dict={r: down(b, micro(r)) for r, b in self.batch_dict.items()},
        )


#: StyleGAN's FFHQ schedule (NVlabs/stylegan train.py), one line per GPU count: smaller minibatches at high
#: resolutions, and learning rates raised where the minibatch is small enough.
SG1_GROWTH: dict[int, GrowthTables] = {
    1: GrowthTables(4, {4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8, 512: 4}, 0.001, {1024: 0.0015}),
    2: GrowthTables(8, {4: 256, 8: 256, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8}, 0.001, {512: 0.0015, 1024: 0.002}),
    4: GrowthTables(
        16, {4: 512, 8: 256, 16: 128, 32: 64, 64: 32, 128: 16}, 0.001, {256: 0.0015, 512: 0.002, 1024: 0.003}
    ),
    8: GrowthTables(
        32, {4: 512, 8: 256, 16: 128, 32: 64, 64: 32}, 0.001, {128: 0.0015, 256: 0.002, 512: 0.003, 1024: 0.003}
    ),
}

#: The StyleGAN2 paper's config A (NVlabs/stylegan2 run_training.py): the same for every GPU count, with
#: gradient accumulation over micro-batches of `batch_gpu` per GPU.
SG2_CONFIG_A_GROWTH = GrowthTables(
    batch=32,
    batch_dict={8: 256, 16: 128, 32: 64, 64: 32},
    lr=0.001,
    lr_dict={128: 0.0015, 256: 0.002, 512: 0.003, 1024: 0.003},
    batch_gpu=4,
    batch_gpu_dict={8: 32, 16: 16, 32: 8, 64: 4},
)


@dataclass(frozen=True, kw_only=True)
class Preset:
    """One named configuration. `None` fields follow NVIDIA's `auto` formulas (see `resolve`)."""

    description: str
    # Networks.
    version: Literal[1, 2] = 2  # 1: StyleGAN (v1) G_style / D_basic networks; 2: StyleGAN2
    channel_base: int | None = None
    channel_max: int = 512
    mapping_layers: int = 8
    z_dim: int = 512
    w_dim: int = 512
    g_architecture: Architecture = "skip"
    d_architecture: Architecture = "resnet"
    conv_clamp: float | None = 256  # NVIDIA's value (it matters for fp16); the CPU presets skip the clamp
    # NVIDIA's mixed precision (StyleGAN2-ADA's train.py): the blocks of the 4 highest resolutions of G and D in
    # float16 on CUDA devices (float32 on a CPU). The StyleGAN2 paper's configurations A-E trained in float32.
    num_fp16_res: int = 4
    mbstd_group_size: int | None = None
    # StyleGAN (v1) generator switches (its paper's Table 1) and the resampling blur of both v1 networks.
    use_styles: bool = True
    const_input_layer: bool = True
    use_noise: bool = True
    use_pixel_norm: bool = False
    use_instance_norm: bool = True
    blur_filter: tuple[float, ...] | None = (1, 2, 1)
    # Training.
    batch: int | None = None
    lr: float | None = None
    loss: LossKind = "logistic"  # non-saturating logistic + R1, or WGAN-GP (Progressive GAN)
    r1_gamma: float | None = None
    pl_weight: float = 2.0
    G_reg_interval: int | None = 4  # lazy regularisation; None = with the main loss, every step
    D_reg_interval: int | None = 16
    style_mixing_prob: float = 0.9
    ema_kimg: float | None = None
    ema_rampup: float | None = None
    kimg: float = 25000.0
    kimg_per_tick: float = 4.0
    snap: int = 50
    image_grid: tuple[int, int] = (8, 8)
    # Progressive growing: the first resolution and the tables by GPU count; None = no growing.
    lod_initial_res: int | None = None
    growth: Mapping[int, GrowthTables] | None = None

    def growth_tables(self, gpus: int) -> GrowthTables | None:
        """The growth tables for `gpus` processes: the line of the largest GPU count NVIDIA lists that does not
        exceed `gpus` (the smallest for fewer), minibatches rounded down to a multiple of `gpus`."""
        if self.growth is None:
            return None
        counts = sorted(self.growth)
        fitting = [n for n in counts if n <= gpus]
        return self.growth[fitting[-1] if fitting else counts[0]].rounded(gpus, self.mbstd_group_size or 4)

    def resolve(self, resolution: int, *, gpus: int = 1, batch: int | None = None) -> Preset:
        """This preset with every `None` filled by `auto`'s formulas for images of `resolution` on `gpus` processes;
        `batch`, when given, replaces the preset's batch (and feeds the formulas that depend on it):
        batch = max(min(gpus·min(4096 // res, 32), 64), gpus), mbstd = min(batch // gpus, 4),
        channel_base = 32768 if res >= 512 else 16384, lr = 0.002 if res >= 1024 else 0.0025,
        r1_gamma = 0.0002·res² / batch, ema_kimg = batch·10 / 32."""
        res = resolution
        tables = self.growth_tables(gpus)
        batch = batch or self.batch or (tables.batch if tables else max(min(gpus * min(4096 // res, 32), 64), gpus))
        return dataclasses.replace(
            self,
            batch=batch,
            mbstd_group_size=self.mbstd_group_size or min(batch // gpus, 4),
            channel_base=self.channel_base or (32768 if res >= 512 else 16384),
            lr=self.lr or (tables.lr if tables else (0.002 if res >= 1024 else 0.0025)),
            r1_gamma=self.r1_gamma if self.r1_gamma is not None else 0.0002 * res**2 / batch,
            ema_kimg=self.ema_kimg or batch * 10 / 32,
        )

    def generator(
        self, img_resolution: int, *, img_channels: int = 3, c_dim: int = 0
    ) -> GeneratorConfig | v1.GeneratorConfig:
        """The preset's generator for `img_resolution` images."""
        p = self.resolve(img_resolution)
        assert p.channel_base is not None
        common: dict[str, Any] = dict(
            z_dim=p.z_dim,
            w_dim=p.w_dim,
            c_dim=c_dim,
            img_resolution=img_resolution,
            img_channels=img_channels,
            mapping_layers=p.mapping_layers,
            channel_base=p.channel_base,
            channel_max=p.channel_max,
        )
        if p.version == 1:
            return v1.GeneratorConfig(
                **common,
                use_styles=p.use_styles,
                const_input_layer=p.const_input_layer,
                use_noise=p.use_noise,
                use_pixel_norm=p.use_pixel_norm,
                use_instance_norm=p.use_instance_norm,
                blur_filter=p.blur_filter,
            )
        return GeneratorConfig(
            **common,
            architecture=p.g_architecture,
            conv_clamp=p.conv_clamp,
            num_fp16_res=p.num_fp16_res,
            progressive=p.lod_initial_res is not None,
        )

    def discriminator(
        self, img_resolution: int, *, img_channels: int = 3, c_dim: int = 0, gpus: int = 1, batch: int | None = None
    ) -> DiscriminatorConfig | v1.DiscriminatorConfig:
        """The preset's discriminator for `img_resolution` images (the minibatch-stddev group of `auto` depends on
        the batch per process)."""
        p = self.resolve(img_resolution, gpus=gpus, batch=batch)
        assert p.channel_base is not None and p.mbstd_group_size is not None
        common: dict[str, Any] = dict(
            c_dim=c_dim,
            img_resolution=img_resolution,
            img_channels=img_channels,
            channel_base=p.channel_base,
            channel_max=p.channel_max,
            mbstd_group_size=p.mbstd_group_size,
        )
        if p.version == 1:
            return v1.DiscriminatorConfig(**common, blur_filter=p.blur_filter)
        return DiscriminatorConfig(
            **common,
            architecture=p.d_architecture,
            conv_clamp=p.conv_clamp,
            num_fp16_res=p.num_fp16_res,
            progressive=p.lod_initial_res is not None,
        )


#: The StyleGAN (v1) FFHQ recipe: progressive growing from 8x8 (600 kimg per resolution, 600 kimg fades), the
#: minibatch and learning-rate tables, non-saturating logistic loss with R1 (gamma 10) every step, no path length,
#: G_ema half-life 10 kimg, minibatch-stddev groups of 4, 25000 kimg.
_SG1_RECIPE: dict[str, object] = {
    "version": 1,
    "channel_base": 16384,
    "mbstd_group_size": 4,
    "conv_clamp": None,
    "num_fp16_res": 0,
    "r1_gamma": 10.0,
    "pl_weight": 0.0,
    "G_reg_interval": None,
    "D_reg_interval": None,
    "ema_kimg": 10.0,
    "lod_initial_res": 8,
    "growth": SG1_GROWTH,
}

#: The StyleGAN paper's Table 1 (F = `stylegan1`); each row adds to the one above it.
_SG1_TABLE: list[tuple[str, str, dict[str, object]]] = [
    (
        "stylegan1",
        "StyleGAN (v1) FFHQ recipe, config F of its paper: progressive growing from 8x8, R1 every step, mixing 0.9",
        {},
    ),
    (
        "sg1-a",
        "StyleGAN paper config A, the Progressive GAN baseline: v1 networks without styles, mapping, noise or blur, "
        "pixel norm, the traditional input; WGAN-GP; growing from 4x4, 12000 kimg",
        {
            "use_styles": False,
            "use_pixel_norm": True,
            "use_instance_norm": False,
            "mapping_layers": 0,
            "const_input_layer": False,
            "use_noise": False,
            "style_mixing_prob": 0.0,
            "blur_filter": None,
            "loss": "wgan-gp",
            "r1_gamma": 0.0,
            "lod_initial_res": 4,
            "kimg": 12000.0,
        },
    ),
    (
        "sg1-b",
        "StyleGAN paper config B: A + tuning (bilinear up/down = the [1, 2, 1] blur, logistic loss + R1, growing "
        "from 8x8, 25000 kimg)",
        {
            "use_styles": False,
            "use_pixel_norm": True,
            "use_instance_norm": False,
            "mapping_layers": 0,
            "const_input_layer": False,
            "use_noise": False,
            "style_mixing_prob": 0.0,
        },
    ),
    (
        "sg1-c",
        "StyleGAN paper config C: B + mapping network and styles (AdaIN), still the traditional input",
        {"const_input_layer": False, "use_noise": False, "style_mixing_prob": 0.0},
    ),
    (
        "sg1-d",
        "StyleGAN paper config D: C with a learned constant input",
        {"use_noise": False, "style_mixing_prob": 0.0},
    ),
    ("sg1-e", "StyleGAN paper config E: D + noise inputs", {"style_mixing_prob": 0.0}),
    ("sg1-f", "StyleGAN paper config F: E + mixing regularisation 0.9 (= stylegan1)", {}),
]

#: The StyleGAN2 paper's config E without growing: 8192 TF fmap_base (channel base 16384), batch 32, lr 0.002.
_SG2_SMALL: dict[str, object] = {
    "channel_base": 16384,
    "num_fp16_res": 0,
    "mbstd_group_size": 4,
    "batch": 32,
    "lr": 0.002,
    "r1_gamma": 10.0,
    "pl_weight": 0.0,
    "G_reg_interval": None,
    "D_reg_interval": None,
    "ema_kimg": 10.0,
}

#: The StyleGAN2 paper's configs B-D: its networks growing progressively (the per-resolution RGB layers of the skip
#: layout, read at the level of detail, as its TF code's revised G and D), with config A's schedule.
_SG2_GROWING: dict[str, object] = {
    **_SG2_SMALL,
    "g_architecture": "skip",
    "d_architecture": "skip",
    "batch": None,
    "lr": None,
    "lod_initial_res": 8,
    "growth": {1: SG2_CONFIG_A_GROWTH},
}

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
    **{
        name: Preset(description=description, **{**_SG1_RECIPE, **changes})  # type: ignore[arg-type]
        for name, description, changes in _SG1_TABLE
    },
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
        num_fp16_res=0,
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
        num_fp16_res=0,
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


PRESETS.update(
    {
        "config-a": Preset(
            description="StyleGAN2 paper config A: the StyleGAN (v1) networks and recipe as the StyleGAN2 code "
            "trains them (progressive growing from 8x8, R1 every step, its batch and micro-batch tables)",
            **{**_SG1_RECIPE, "growth": {1: SG2_CONFIG_A_GROWTH}},  # type: ignore[arg-type]
        ),
        "config-b": Preset(
            description="StyleGAN2 paper config B, weight demodulation: StyleGAN2 G and D growing progressively "
            "(per-resolution RGB layers read at the level of detail), config A's schedule, R1 every step",
            **_SG2_GROWING,  # type: ignore[arg-type]
        ),
        "config-c": Preset(
            description="StyleGAN2 paper config C: B + lazy R1 (every 16 steps)",
            **{**_SG2_GROWING, "D_reg_interval": 16},  # type: ignore[arg-type]
        ),
        "config-d": Preset(
            description="StyleGAN2 paper config D: C + path length regularisation (every 4 steps)",
            **{**_SG2_GROWING, "D_reg_interval": 16, "G_reg_interval": 4, "pl_weight": 2.0},  # type: ignore[arg-type]
        ),
        "config-e": Preset(
            description="StyleGAN2 paper config E: no growing, skip G and resnet D, channel base 16384, gamma 100",
            **{**_SG2_SMALL, "D_reg_interval": 16, "G_reg_interval": 4, "pl_weight": 2.0, "r1_gamma": 100.0},  # type: ignore[arg-type]
        ),
        "config-f": dataclasses.replace(PRESETS["stylegan2"], description="StyleGAN2 paper config F (= stylegan2)"),
    }
)


def get_preset(name: str) -> Preset:
    """The preset called `name`; an error naming the known ones otherwise."""
    if name not in PRESETS:
        raise SettingError(f"unknown {{preset}} {name!r}; choose from {', '.join(PRESETS)}", "preset")
    return PRESETS[name]

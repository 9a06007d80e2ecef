"""Training configuration: typed, nested, frozen dataclasses, and NVIDIA's `--cfg` presets (StyleGAN2-ADA's train.py).

`TrainConfig` is what a run is: it is written to `run_dir/config.json` and read back on `--resume`.
`build_config(preset, resolution=..., ...)` resolves a preset (including `auto`'s formulas) for a dataset.

>>> cfg = build_config("paper256", resolution=256)
>>> cfg.batch, cfg.loss.r1_gamma, cfg.G.channel_base, cfg.G.mapping_layers
(64, 1.0, 16384, 8)
>>> auto = build_config("auto", resolution=64, gpus=1)
>>> auto.batch, round(auto.loss.r1_gamma, 4), auto.ema_kimg, auto.G.mapping_layers, auto.D.mbstd_group_size
(32, 0.0256, 10.0, 2, 4)
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import StyleGANError
from ..networks.config import DiscriminatorConfig, GeneratorConfig, _from_dict
from .losses import PRECISIONS, LossSettings

AugmentKind = Literal["ada", "fixed", "none"]


@dataclass(frozen=True)
class OptimizerConfig:
    """Adam settings before the lazy-regularisation correction (lr·c, betas**c, c = I/(I+1))."""

    lr: float = 0.002
    betas: tuple[float, float] = (0.0, 0.99)
    eps: float = 1e-8

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(self.betas))
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")


@dataclass(frozen=True)
class AugmentConfig:
    """Adaptive discriminator augmentation (Karras et al. 2020). `kind`: `ada` adjusts p towards `target`
    (the mean sign of D on reals), `fixed` keeps `p`, `none` disables augmentation."""

    kind: AugmentKind = "none"
    p: float = 0.0  # initial (ada) or constant (fixed) probability
    target: float = 0.6  # ada_target
    interval: int = 4  # steps between p updates
    kimg: float = 500.0  # p can go 0 -> 1 in this many kimg
    pipe: str = "bgc"  # b = blit (xflip, rot90, integer shift), g = geometric, c = colour, n = noise, o = cutout

    def __post_init__(self) -> None:
        if self.kind not in ("ada", "fixed", "none"):
            raise ValueError(f"augment kind must be ada, fixed or none, got {self.kind!r}")
        if not 0 <= self.p <= 1:
            raise ValueError(f"augment p must be in [0, 1], got {self.p}")
        bad = sorted(set(self.pipe) - set("bgcno"))
        if bad:
            raise ValueError(f"unknown augment pipe letters {''.join(bad)!r} (known: b, g, c, n, o)")


@dataclass(frozen=True)
class DataConfig:
    """Where the images come from and how they are read."""

    path: str = ""
    mirror: bool = False  # x-flips double the dataset
    cond: bool = False  # train on the dataset's labels
    max_size: int | None = None  # random subset
    workers: int = 0  # DataLoader processes per rank; 0 = read in the training process
    cache: bool = True  # keep decoded images in memory


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run. Batch sizes are global (all ranks together)."""

    G: GeneratorConfig
    D: DiscriminatorConfig
    loss: LossSettings = field(default_factory=LossSettings)
    G_opt: OptimizerConfig = field(default_factory=OptimizerConfig)
    D_opt: OptimizerConfig = field(default_factory=OptimizerConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    data: DataConfig = field(default_factory=DataConfig)
    preset: str = "custom"
    batch: int = 32
    batch_gpu: int | None = None  # per-rank micro-batch (gradient accumulation when smaller than batch / ranks)
    G_reg_interval: int | None = 4  # lazy path-length regularisation; None = every step, with the main loss
    D_reg_interval: int | None = 16  # lazy R1
    ema_kimg: float = 10.0  # G_ema half-life in kimg
    ema_rampup: float | None = None  # half-life at most cur_nimg * rampup early in training
    kimg: float = 25000.0  # training length; fractional values (0.1) make smoke runs
    kimg_per_tick: float = 4.0
    snap: int = 50  # network snapshot + training state every `snap` ticks
    snap_minutes: float | None = 60.0  # ... and at least every this many minutes
    image_grid: tuple[int, int] = (8, 8)  # rows, cols of reals.png and the fakes grids
    seed: int = 0
    resume_from: str | None = None  # network to fine-tune from (any format stylegan.io.load reads)
    metrics: tuple[str, ...] = ()  # evaluated on G_ema at every network snapshot (e.g. fid50k_full)
    precision: str = "fp32"  # forward passes in "fp32", or "bf16" autocast (weights and optimiser stay fp32)

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_grid", tuple(self.image_grid))
        object.__setattr__(self, "metrics", tuple(self.metrics))
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.batch < 1:
            raise ValueError(f"batch must be >= 1, got {self.batch}")
        if self.batch_gpu is not None and (self.batch_gpu < 1 or self.batch % self.batch_gpu):
            raise ValueError(f"batch ({self.batch}) must be a multiple of batch_gpu ({self.batch_gpu})")
        if self.kimg <= 0 or self.kimg_per_tick <= 0:
            raise ValueError("kimg and kimg_per_tick must be > 0")
        if self.G.img_resolution != self.D.img_resolution or self.G.img_channels != self.D.img_channels:
            raise ValueError("G and D must have the same img_resolution and img_channels")
        if self.G.c_dim != self.D.c_dim:
            raise ValueError(f"G.c_dim ({self.G.c_dim}) and D.c_dim ({self.D.c_dim}) differ")

    # ---- derived sizes -----------------------------------------------------------------------------------------
    def per_rank(self, world_size: int) -> tuple[int, int, int]:
        """(batch per rank, micro-batch per rank, accumulation rounds); a clear error when they do not divide."""
        if self.batch % world_size:
            raise StyleGANError(f"--batch {self.batch} must be divisible by the number of processes ({world_size})")
        per_rank = self.batch // world_size
        batch_gpu = min(self.batch_gpu or per_rank, per_rank)
        if per_rank % batch_gpu:
            raise StyleGANError(f"--batch-gpu {batch_gpu} must divide the per-process batch {per_rank}")
        group = self.D.mbstd_group_size
        if group is not None and batch_gpu % min(group, batch_gpu):
            raise StyleGANError(
                f"--batch-gpu {batch_gpu} must be a multiple of the minibatch-stddev group ({group}); "
                "use --mbstd-group to change it"
            )
        return per_rank, batch_gpu, per_rank // batch_gpu

    # ---- serialisation -----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly dict (tuples become lists)."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """Indented JSON, as written to `config.json`."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of `to_dict` (unknown keys are an error naming them)."""
        nested = {
            "G": GeneratorConfig,
            "D": DiscriminatorConfig,
            "loss": LossSettings,
            "G_opt": OptimizerConfig,
            "D_opt": OptimizerConfig,
            "augment": AugmentConfig,
            "data": DataConfig,
        }
        kw = dict(d)
        for key, typ in nested.items():
            if key in kw and isinstance(kw[key], dict):
                kw[key] = _from_dict(typ, kw[key])
        return _from_dict(cls, kw)


# ---- presets ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainPreset:
    """One row of the `cfg_specs` table of StyleGAN2-ADA's train.py, plus our CPU presets. `None` fields are resolved by
    `auto`'s formulas: batch = max(min(gpus·min(4096 // res, 32), 64), gpus), mbstd = min(batch // gpus, 4),
    channel_base = 32768 if res >= 512 else 16384, lr = 0.002 if res >= 1024 else 0.0025,
    gamma = 0.0002·res² / batch, ema_kimg = batch·10 / 32."""

    name: str
    description: str
    batch: int | None = None
    mbstd_group: int | None = None
    channel_base: int | None = None
    channel_max: int = 512
    lr: float | None = None
    gamma: float | None = None
    ema_kimg: float | None = None
    ema_rampup: float | None = None
    mapping_layers: int = 8
    z_dim: int = 512
    w_dim: int = 512
    pl_weight: float = 2.0
    style_mixing_prob: float = 0.9
    d_architecture: Literal["orig", "skip", "resnet"] = "resnet"
    kimg: float = 25000.0
    kimg_per_tick: float = 4.0
    snap: int = 50
    image_grid: tuple[int, int] = (8, 8)
    conv_clamp: float | None = 256  # NVIDIA's value (it matters for fp16); the CPU presets skip the clamp


TRAIN_PRESETS: dict[str, TrainPreset] = {
    p.name: p
    for p in [
        TrainPreset(
            "auto",
            "NVIDIA's 'auto': sizes from the resolution and GPU count; 2-layer mapping, EMA ramp-up",
            ema_rampup=0.05,
            mapping_layers=2,
        ),
        TrainPreset("stylegan2", "config F (StyleGAN2 paper, 1024x1024 FFHQ)", 32, 4, 32768, 512, 0.002, 10.0, 10.0),
        TrainPreset("paper256", "StyleGAN2-ADA paper's 256x256 setting", 64, 8, 16384, 512, 0.0025, 1.0, 20.0),
        TrainPreset("paper512", "StyleGAN2-ADA paper's 512x512 setting", 64, 8, 32768, 512, 0.0025, 0.5, 20.0),
        TrainPreset("paper1024", "StyleGAN2-ADA paper's 1024x1024 setting", 32, 4, 32768, 512, 0.002, 2.0, 10.0),
        TrainPreset(
            "cifar",
            "CIFAR-10 setting: no path length, no mixing, orig D, 2-layer mapping",
            64,
            32,
            32768,
            512,
            0.0025,
            0.01,
            500.0,
            0.05,
            2,
            pl_weight=0.0,
            style_mixing_prob=0.0,
            d_architecture="orig",
            kimg=100000.0,
        ),
        TrainPreset(
            "cpu-small",
            "a real run on a CPU: 4096 channel base, 256 max, 2-layer mapping, 256-d latents",
            batch=8,
            mbstd_group=4,
            channel_base=4096,
            channel_max=256,
            lr=0.0025,
            ema_rampup=0.05,
            mapping_layers=2,
            z_dim=256,
            w_dim=256,
            kimg=200.0,
            kimg_per_tick=1.0,
            snap=10,
            image_grid=(6, 8),
            conv_clamp=None,
        ),
        TrainPreset(
            "cpu-tiny",
            "smoke tests on a CPU: 1024 channel base, 64 max, 64-d latents",
            batch=4,
            mbstd_group=2,
            channel_base=1024,
            channel_max=64,
            lr=0.0025,
            ema_rampup=0.05,
            mapping_layers=2,
            z_dim=64,
            w_dim=64,
            kimg=10.0,
            kimg_per_tick=0.2,
            snap=5,
            image_grid=(4, 4),
            conv_clamp=None,
        ),
    ]
}


def build_config(
    preset: str,
    *,
    resolution: int,
    img_channels: int = 3,
    c_dim: int = 0,
    gpus: int = 1,
    data: DataConfig | None = None,
    **overrides: Any,
) -> TrainConfig:
    """Resolve a preset for a dataset of `resolution` / `img_channels` / `c_dim` on `gpus` processes.

    `overrides` are optional flags, by TrainConfig-like names: batch, batch_gpu, gamma, cbase, cmax, map,
    mbstd_group, glr, dlr, kimg, kimg_per_tick, snap, snap_minutes, seed, freezed, augment (AugmentConfig),
    ema_kimg, image_grid, pl_weight, style_mixing_prob, resume_from, z_dim, w_dim, g_arch, d_arch, metrics,
    precision.
    A None value means "not given".
    """
    if preset not in TRAIN_PRESETS:
        raise StyleGANError(f"unknown --cfg {preset!r}; choose from {', '.join(TRAIN_PRESETS)}")
    p = TRAIN_PRESETS[preset]
    o = {k: v for k, v in overrides.items() if v is not None}
    unknown = sorted(set(o) - _OVERRIDES)
    if unknown:
        raise TypeError(f"unknown build_config overrides: {', '.join(unknown)}")
    res = resolution
    batch = o.get("batch") or p.batch or max(min(gpus * min(4096 // res, 32), 64), gpus)
    mbstd = o.get("mbstd_group") or p.mbstd_group or min(batch // gpus, 4)
    cbase = o.get("cbase") or p.channel_base or (32768 if res >= 512 else 16384)
    cmax = o.get("cmax") or p.channel_max
    lr = p.lr or (0.002 if res >= 1024 else 0.0025)
    gamma = o["gamma"] if "gamma" in o else (p.gamma if p.gamma is not None else 0.0002 * res**2 / batch)
    ema_kimg = o.get("ema_kimg") or p.ema_kimg or batch * 10 / 32
    mapping = o.get("map") or p.mapping_layers
    G = GeneratorConfig(
        z_dim=o.get("z_dim", p.z_dim),
        w_dim=o.get("w_dim", p.w_dim),
        c_dim=c_dim,
        img_resolution=res,
        img_channels=img_channels,
        mapping_layers=mapping,
        channel_base=cbase,
        channel_max=cmax,
        architecture=o.get("g_arch", "skip"),
        conv_clamp=p.conv_clamp,
    )
    D = DiscriminatorConfig(
        c_dim=c_dim,
        img_resolution=res,
        img_channels=img_channels,
        architecture=o.get("d_arch", p.d_architecture),
        channel_base=cbase,
        channel_max=cmax,
        conv_clamp=p.conv_clamp,
        mbstd_group_size=mbstd,
        freeze_layers=o.get("freezed", 0),
    )
    loss = LossSettings(
        r1_gamma=gamma,
        pl_weight=o.get("pl_weight", p.pl_weight),
        style_mixing_prob=o.get("style_mixing_prob", p.style_mixing_prob),
    )
    try:
        return TrainConfig(
            G=G,
            D=D,
            loss=loss,
            G_opt=OptimizerConfig(lr=o.get("glr", lr)),
            D_opt=OptimizerConfig(lr=o.get("dlr", lr)),
            augment=o.get("augment", AugmentConfig()),
            data=data or DataConfig(),
            preset=preset,
            batch=batch,
            batch_gpu=o.get("batch_gpu"),
            ema_kimg=ema_kimg,
            ema_rampup=p.ema_rampup,
            kimg=o.get("kimg", p.kimg),
            kimg_per_tick=o.get("kimg_per_tick", p.kimg_per_tick),
            snap=o.get("snap", p.snap),
            snap_minutes=o.get("snap_minutes", 60.0),
            image_grid=o.get("image_grid", p.image_grid),
            seed=o.get("seed", 0),
            resume_from=o.get("resume_from"),
            metrics=tuple(o.get("metrics", ())),
            precision=o.get("precision", "fp32"),
        )
    except ValueError as e:
        raise StyleGANError(str(e)) from None


_OVERRIDES = {
    "batch",
    "batch_gpu",
    "gamma",
    "cbase",
    "cmax",
    "map",
    "mbstd_group",
    "glr",
    "dlr",
    "kimg",
    "kimg_per_tick",
    "snap",
    "snap_minutes",
    "seed",
    "freezed",
    "augment",
    "ema_kimg",
    "image_grid",
    "pl_weight",
    "style_mixing_prob",
    "resume_from",
    "z_dim",
    "w_dim",
    "g_arch",
    "d_arch",
    "metrics",
    "precision",
}


def describe_cost(cfg: TrainConfig, world_size: int = 1) -> str:
    """A short human-readable estimate of what the run will do (for `--dry-run`)."""
    per_rank, batch_gpu, rounds = cfg.per_rank(world_size)
    steps = int(round(cfg.kimg * 1000)) // cfg.batch + (1 if int(round(cfg.kimg * 1000)) % cfg.batch else 0)
    g_params = _count_params(cfg.G)
    d_params = _count_params(cfg.D)
    ticks = max(1, int(cfg.kimg / cfg.kimg_per_tick + 0.999))
    per_image = estimate_flops_per_image(cfg)
    return "\n".join(
        [
            f"{cfg.kimg:g} kimg = {steps} steps of {cfg.batch} images "
            f"({world_size} process{'es' if world_size > 1 else ''} x {rounds} round(s) of {batch_gpu})",
            f"G: {g_params / 1e6:.2f} M parameters, D: {d_params / 1e6:.2f} M parameters, "
            f"{cfg.G.img_resolution}x{cfg.G.img_resolution}x{cfg.G.img_channels}",
            f"{ticks} ticks of {cfg.kimg_per_tick:g} kimg; snapshot every {cfg.snap} ticks"
            + (f" or {cfg.snap_minutes:g} minutes" if cfg.snap_minutes else ""),
            f"compute: about {per_image * 1000 / 1e12:.3g} TFLOP per kimg, "
            f"{per_image * cfg.kimg * 1e3 / 1e12:.3g} TFLOP "
            f"in all; at 50 GFLOP/s (about one CPU core) {format_duration(per_image * 1000 / 50e9)} per kimg, "
            f"{format_duration(per_image * cfg.kimg * 1000 / 50e9)} in all",
        ]
    )


def estimate_flops_per_image(cfg: TrainConfig) -> float:
    """Rough training FLOPs per real image, from counted forward FLOPs of G and D (one image each, on the CPU):
    Gmain ≈ 3G + 2D, Dmain ≈ G + 4D, path length ≈ 5G on half the batch every G_reg_interval steps, R1 ≈ 5D
    every D_reg_interval steps (backward ≈ 2x forward; double backward ≈ 4x)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ..networks import Discriminator, Generator

    torch.manual_seed(0)
    G, D = Generator(cfg.G).eval(), Discriminator(dataclasses.replace(cfg.D, mbstd_group_size=1)).eval()
    c = torch.zeros(1, cfg.G.c_dim)
    with torch.no_grad(), FlopCounterMode(display=False) as g_count:
        img = G(torch.zeros(1, cfg.G.z_dim), c if cfg.G.c_dim else None, noise_mode="const")
    with torch.no_grad(), FlopCounterMode(display=False) as d_count:
        D(img, c if cfg.D.c_dim else None)
    g, d = float(g_count.get_total_flops()), float(d_count.get_total_flops())
    pl = 5 * g / max(cfg.loss.pl_batch_shrink, 1) / (cfg.G_reg_interval or 1) if cfg.loss.pl_weight else 0.0
    r1 = 5 * d / (cfg.D_reg_interval or 1) if cfg.loss.r1_gamma else 0.0
    return 3 * g + 2 * d + g + 4 * d + pl + r1


def format_duration(seconds: float) -> str:
    """`3d04h`, `1h02m`, `3m05s`, `12s`."""
    from .reporting import format_duration as fmt

    return fmt(seconds)


def _count_params(cfg: GeneratorConfig | DiscriminatorConfig) -> int:
    import torch

    from ..networks import Discriminator, Generator

    with torch.device("meta"):
        net = Generator(cfg) if isinstance(cfg, GeneratorConfig) else Discriminator(cfg)
    return sum(p.numel() for p in net.parameters())

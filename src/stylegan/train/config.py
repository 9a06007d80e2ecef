"""Training configuration: typed, nested, frozen dataclasses, and `build_config`, which resolves a preset.

`TrainConfig` is what a run is: it is written to `run_dir/config.json` and read back on `--resume`.
`build_config(preset, resolution=..., options=TrainOptions(...))` resolves a preset of `stylegan.presets.PRESETS`
(including `auto`'s formulas) for a dataset and applies the settings the user gave.

>>> cfg = build_config("paper256", resolution=256)
>>> cfg.batch, cfg.loss.r1_gamma, cfg.G.channel_base, cfg.G.mapping_layers
(64, 1.0, 16384, 8)
>>> auto = build_config("auto", resolution=64, gpus=1)
>>> auto.batch, round(auto.loss.r1_gamma, 4), auto.ema_kimg, auto.G.mapping_layers, auto.D.mbstd_group_size
(32, 0.0256, 10.0, 2, 4)
>>> build_config("auto", resolution=64, options=TrainOptions(batch=16, r1_gamma=0.5)).loss.r1_gamma
0.5
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import SettingError, StyleGANError
from ..infocodes import InfoCodes
from ..networks import AnyDiscriminatorConfig, AnyGeneratorConfig, NetworkConfig, config_from_dict, v1
from ..networks.config import DiscriminatorConfig, _from_dict, check_fields
from ..precision import PRECISION_CHOICES, PrecisionChoice
from ..presets import Preset, get_preset
from .losses import LossSettings
from .progressive import ProgressiveConfig, lod_resolution, lookup

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


def grows(cfg: NetworkConfig) -> bool:
    """Whether the network `cfg` describes can grow progressively (has a level of detail): a StyleGAN (v1)
    network with structure 'linear', or a StyleGAN2 one built with `progressive=True`."""
    if isinstance(cfg, (v1.GeneratorConfig, v1.DiscriminatorConfig)):
        return cfg.structure == "linear"
    return cfg.progressive


@dataclass(frozen=True)
class StepSchedule:
    """What one training step uses: the level of detail (0 = full resolution), the resolution it trains, the global
    minibatch and micro-batch, and the learning rates (before the lazy-regularisation correction)."""

    lod: float
    resolution: int
    batch: int
    batch_gpu: int | None
    G_lr: float
    D_lr: float


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run. Batch sizes are global (all ranks together). With `progressive`
    set (networks that grow), `batch`, `batch_gpu` and the learning rates are the values of the resolutions its
    tables do not list."""

    G: AnyGeneratorConfig
    D: AnyDiscriminatorConfig
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
    snap_minutes: float | None = 60.0  # ... and at least every this many minutes (None or 0 = off, stored as None)
    image_grid: tuple[int, int] = (8, 8)  # rows, cols of reals.png and the fakes grids
    seed: int = 0
    resume_from: str | None = None  # network to fine-tune from (any format stylegan.io.load reads)
    metrics: tuple[str, ...] = ()  # evaluated on G_ema at every network snapshot (e.g. fid50k_full)
    # Forward passes in "fp32", or "bf16" autocast (weights and optimiser stay fp32); "auto" is resolved when the run
    # starts (bf16 where the device runs it natively, `stylegan.precision`) and the run records the result.
    precision: PrecisionChoice = "auto"
    compile: bool = False  # torch.compile G's synthesis network and D for the main losses (`stylegan.compiling`)
    progressive: ProgressiveConfig | None = None  # progressive growing (networks that grow); None = fixed resolution
    info: InfoCodes | None = None  # Info-StyleGAN's latent codes (G's c ends with them; D has a Q head); None = off

    def __post_init__(self) -> None:
        object.__setattr__(self, "image_grid", tuple(self.image_grid))
        object.__setattr__(self, "metrics", tuple(self.metrics))
        if self.snap_minutes == 0:
            object.__setattr__(self, "snap_minutes", None)
        if self.precision not in PRECISION_CHOICES:
            raise ValueError(f"precision must be one of {', '.join(PRECISION_CHOICES)}, got {self.precision!r}")
        if self.batch < 1:
            raise ValueError(f"batch must be >= 1, got {self.batch}")
        if self.batch_gpu is not None and (self.batch_gpu < 1 or self.batch % self.batch_gpu):
            raise SettingError(
                f"{{batch}} ({self.batch}) must be a multiple of {{batch_gpu}} ({self.batch_gpu})", "batch", "batch_gpu"
            )
        if self.kimg <= 0 or self.kimg_per_tick <= 0:
            raise ValueError("kimg and kimg_per_tick must be > 0")
        if self.G.img_resolution != self.D.img_resolution or self.G.img_channels != self.D.img_channels:
            raise ValueError("G and D must have the same img_resolution and img_channels")
        self._check_info()
        if isinstance(self.D, DiscriminatorConfig):
            layers = discriminator_layers(self.D)
            if self.D.freeze_layers > layers:
                raise SettingError(
                    f"{{freeze_layers}} {self.D.freeze_layers}: D has {layers} layers at "
                    f"{self.D.img_resolution}x{self.D.img_resolution}; freeze at most {layers}",
                    "freeze_layers",
                )
        if self.progressive is not None:
            if not (grows(self.G) and grows(self.D)):
                raise SettingError(
                    "progressive growing ({lod_initial_res}) needs networks that grow: StyleGAN (v1) ones with "
                    "structure 'linear', or StyleGAN2 ones with progressive true (the presets stylegan1, sg1-a ... "
                    "sg1-f and config-a ... config-d)",
                    "lod_initial_res",
                )
            self.progressive.check_resolution(self.G.img_resolution)

    def _check_info(self) -> None:
        """G's c is D's labels followed by the info codes; D's Q head predicts the codes."""
        info, q_dim = self.info, getattr(self.D, "q_dim", 0)
        if info is None:
            if self.G.c_dim != self.D.c_dim:
                raise ValueError(f"G.c_dim ({self.G.c_dim}) and D.c_dim ({self.D.c_dim}) differ")
            if q_dim:
                raise ValueError(f"D has a Q head (q_dim {q_dim}) but the run has no info codes")
            return
        if not isinstance(self.D, DiscriminatorConfig):
            raise SettingError(
                "{info_cat} / {info_cont} (Info-StyleGAN) need a StyleGAN2 discriminator: use a StyleGAN2 preset "
                "(e.g. cpu-tiny, auto, paper256), not a StyleGAN (v1) one",
                "info_cat",
                "info_cont",
            )
        if info.label_dim != self.D.c_dim or self.G.c_dim != self.D.c_dim + info.dim:
            raise ValueError(
                f"G.c_dim ({self.G.c_dim}) must be D.c_dim ({self.D.c_dim}) plus the info codes' {info.dim}, and "
                f"info.label_dim ({info.label_dim}) equal to D.c_dim"
            )
        if q_dim != info.dim:
            raise ValueError(f"D.q_dim ({q_dim}) must equal the info codes' {info.dim} dimensions")

    # ---- derived sizes -----------------------------------------------------------------------------------------
    def schedule(self, cur_nimg: int) -> StepSchedule:
        """The step that starts after `cur_nimg` real images: a pure function of `cur_nimg`, so resuming anywhere
        (also within a fade) continues the same schedule.

        >>> cfg = build_config("stylegan1", resolution=32, gpus=1)
        >>> cfg.schedule(0), cfg.schedule(900_000).lod
        (StepSchedule(lod=2.0, resolution=8, batch=128, batch_gpu=None, G_lr=0.001, D_lr=0.001), 1.5)
        """
        res = self.G.img_resolution
        p = self.progressive
        if p is None:
            return StepSchedule(0.0, res, self.batch, self.batch_gpu, self.G_opt.lr, self.D_opt.lr)
        lod = p.lod(cur_nimg, res)
        r = lod_resolution(res, lod)
        return StepSchedule(
            lod=lod,
            resolution=r,
            batch=lookup(p.batch, r, self.batch),
            batch_gpu=lookup(p.batch_gpu, r, self.batch_gpu),
            G_lr=lookup(p.G_lr, r, self.G_opt.lr),
            D_lr=lookup(p.D_lr, r, self.D_opt.lr),
        )

    def resolutions(self) -> list[int]:
        """The resolutions the run trains at: the data's alone, or every one from the first of the growth."""
        res = self.G.img_resolution
        return [res] if self.progressive is None else self.progressive.resolutions(res)

    def per_rank(self, world_size: int, resolution: int | None = None) -> tuple[int, int, int]:
        """(batch per rank, micro-batch per rank, accumulation rounds) at `resolution` (default: the data's; the
        per-resolution tables of progressive growing apply); a clear error when they do not divide."""
        res = self.G.img_resolution if resolution is None else resolution
        batch, batch_gpu = self.batch, self.batch_gpu
        if self.progressive is not None:
            batch = lookup(self.progressive.batch, res, batch)
            batch_gpu = lookup(self.progressive.batch_gpu, res, batch_gpu)
        at = f" at {res}x{res}" if self.progressive is not None else ""
        if batch % world_size:
            raise SettingError(
                f"{{batch}} {batch}{at} must be divisible by the number of processes ({world_size})", "batch"
            )
        per_rank = batch // world_size
        batch_gpu = min(batch_gpu or per_rank, per_rank)
        if per_rank % batch_gpu:
            raise SettingError(
                f"{{batch_gpu}} {batch_gpu}{at} must divide the per-process batch {per_rank}", "batch_gpu"
            )
        group = self.D.mbstd_group_size
        if group is not None and batch_gpu % min(group, batch_gpu):
            raise SettingError(
                f"{{batch_gpu}} {batch_gpu}{at} must be a multiple of the minibatch-stddev group ({group}); "
                "use {mbstd_group_size} to change it",
                "batch_gpu",
                "mbstd_group_size",
            )
        return per_rank, batch_gpu, per_rank // batch_gpu

    def check_sizes(self, world_size: int) -> None:
        """`per_rank` at every resolution the run trains at: a clear error now rather than in the middle of a run."""
        for res in self.resolutions():
            self.per_rank(world_size, res)

    def replace(self, changes: Mapping[str, Any]) -> TrainConfig:
        """A copy with `changes` ({dotted path: value}, e.g. `G.channel_base`, `loss.r1_gamma`, `batch`) applied;
        each nested configuration is rebuilt once, so settings that must agree may change together. An unknown
        path is an error naming it."""
        top: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for path, value in changes.items():
            group, _, name = path.rpartition(".")
            if group:
                nested.setdefault(group, {})[name] = value
            else:
                top[name] = value
        for group, values in nested.items():
            check_fields(type(self), [group])
            top[group] = _replace(getattr(self, group), values)
        return _replace(self, top)

    # ---- serialisation -----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly dict (tuples become lists); a StyleGAN (v1) network config has `"version": 1`."""
        return {**dataclasses.asdict(self), "G": self.G.to_dict(), "D": self.D.to_dict()}

    def to_json(self) -> str:
        """Indented JSON, as written to `config.json`."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of `to_dict` (unknown keys are an error naming them)."""
        nested: dict[str, Any] = {
            "G": lambda d: config_from_dict(d, "G"),
            "D": lambda d: config_from_dict(d, "D"),
            "progressive": ProgressiveConfig,
            "loss": LossSettings,
            "G_opt": OptimizerConfig,
            "D_opt": OptimizerConfig,
            "augment": AugmentConfig,
            "data": DataConfig,
            "info": InfoCodes,
        }
        kw = dict(d)
        for key, typ in nested.items():
            if key in kw and isinstance(kw[key], dict):
                kw[key] = typ(kw[key]) if key in ("G", "D") else _from_dict(typ, kw[key])
        return _from_dict(cls, kw)


# ---- building a configuration ---------------------------------------------------------------------------------
def _setting(*paths: str) -> Any:
    """A `TrainOptions` field: None (the preset's value) by default; `paths` are the TrainConfig fields it sets."""
    return field(default=None, metadata={"paths": paths})


#: The ranges of TrainOptions' numbers: (int or float, lowest, lowest excluded, highest; None = no limit).
#: Every float must also be finite.
OPTION_RANGES: dict[str, tuple[type, float, bool, float | None]] = {
    "max_size": (int, 1, False, None),
    "workers": (int, 0, False, 256),
    "channel_base": (int, 1, False, 1 << 20),
    "channel_max": (int, 1, False, 4096),
    "mapping_layers": (int, 1, False, 64),
    "z_dim": (int, 1, False, 4096),
    "w_dim": (int, 1, False, 4096),
    "mbstd_group_size": (int, 1, False, 1 << 16),
    "freeze_layers": (int, 0, False, 1000),
    "r1_gamma": (float, 0, False, 1e6),
    "pl_weight": (float, 0, False, 1e6),
    "style_mixing_prob": (float, 0, False, 1),
    "G_lr": (float, 0, True, 1),
    "D_lr": (float, 0, True, 1),
    "ema_kimg": (float, 0, True, 1e6),
    "augment_p": (float, 0, False, 1),
    "augment_target": (float, 0, False, 1),
    "batch": (int, 1, False, 1 << 16),
    "batch_gpu": (int, 1, False, 1 << 16),
    "info_cat": (int, 0, False, 1024),
    "info_cont": (int, 0, False, 64),
    "info_weight": (float, 0, False, 1e6),
    "num_fp16_res": (int, 0, False, 16),
    "lod_initial_res": (int, 4, False, 8192),
    "lod_training_kimg": (float, 0, False, 1e9),
    "lod_transition_kimg": (float, 0, False, 1e9),
    "kimg": (float, 0.001, False, 1e9),  # at least one image
    "kimg_per_tick": (float, 0, True, 1e9),
    "snap": (int, 1, False, None),
    "snap_minutes": (float, 0, False, 1e7),
    "seed": (int, 0, False, (1 << 32) - 1),
}


def check_range(
    name: str, value: object, kind: type, low: float, high: float | None, *, low_open: bool = False
) -> None:
    """A SettingError naming `name` unless `value` is a `kind` (an int, or a finite number for float) within
    [low, high] (low excluded when `low_open`; high None = no limit).

    >>> check_range("kimg", 0.5, float, 0, 1e9, low_open=True)
    >>> check_range("kimg", float("nan"), float, 0, 1e9, low_open=True)
    Traceback (most recent call last):
    stylegan.errors.SettingError: kimg must be a finite number in (0, 1e+09], got nan
    """

    def show(x: float) -> str:
        return str(int(x)) if kind is int else f"{x:g}"

    interval = f"{'(' if low_open else '['}{show(low)}, {'inf)' if high is None else show(high) + ']'}"
    if kind is int:
        typed = isinstance(value, int) and not isinstance(value, bool)
        what = f"must be an integer in {interval}"
    else:
        typed = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        what = f"must be a finite number in {interval}"
    if typed:
        assert isinstance(value, (int, float))
        if value <= low if low_open else value < low:
            what = f"must be {'>' if low_open else '>='} {show(low)}"
        elif high is not None and value > high:
            what = f"must be <= {show(high)}"
        else:
            return
    raise SettingError(f"{{{name}}} must be {what.removeprefix('must be ')}, got {value!r}", name)


def discriminator_layers(D: DiscriminatorConfig) -> int:
    """How many layers D's blocks have (what Freeze-D counts; the 4x4 epilogue is not among them)."""
    blocks = max(D.img_resolution.bit_length() - 3, 0)  # 2**log2(res) down to 8x8
    per_block = 2 + (D.architecture == "resnet")  # conv0, conv1 (+ the resnet skip)
    from_rgb = blocks if D.architecture == "skip" else min(blocks, 1)
    return blocks * per_block + from_rgb


@dataclass(frozen=True)
class TrainOptions:
    """Settings that replace a preset's values (None = the preset's, or TrainConfig's default). Each is named after
    the TrainConfig field it sets (prefixed by its group where the bare name would be unclear: `G_lr`, `augment_p`);
    the field's metadata lists the dotted TrainConfig paths. `snap_minutes` 0 turns the timed snapshots off."""

    # Data.
    data_path: str | None = _setting("data.path")
    mirror: bool | None = _setting("data.mirror")
    cond: bool | None = _setting("data.cond")
    max_size: int | None = _setting("data.max_size")
    workers: int | None = _setting("data.workers")
    # Networks.
    channel_base: int | None = _setting("G.channel_base", "D.channel_base")
    channel_max: int | None = _setting("G.channel_max", "D.channel_max")
    mapping_layers: int | None = _setting("G.mapping_layers")
    z_dim: int | None = _setting("G.z_dim")
    w_dim: int | None = _setting("G.w_dim")
    mbstd_group_size: int | None = _setting("D.mbstd_group_size")
    freeze_layers: int | None = _setting("D.freeze_layers")
    num_fp16_res: int | None = _setting("G.num_fp16_res", "D.num_fp16_res")  # float16 resolutions (CUDA only)
    # Losses, optimisers, G_ema.
    r1_gamma: float | None = _setting("loss.r1_gamma")
    pl_weight: float | None = _setting("loss.pl_weight")
    style_mixing_prob: float | None = _setting("loss.style_mixing_prob")
    G_lr: float | None = _setting("G_opt.lr")
    D_lr: float | None = _setting("D_opt.lr")
    ema_kimg: float | None = _setting("ema_kimg")
    # Augmentation.
    augment_kind: AugmentKind | None = _setting("augment.kind")
    augment_p: float | None = _setting("augment.p")
    augment_target: float | None = _setting("augment.target")
    augment_pipe: str | None = _setting("augment.pipe")
    # Progressive growing (presets that grow: stylegan1, sg1-*, config-a).
    lod_initial_res: int | None = _setting("progressive.initial_res")
    lod_training_kimg: float | None = _setting("progressive.training_kimg")
    lod_transition_kimg: float | None = _setting("progressive.transition_kimg")
    # Batch and schedule.
    batch: int | None = _setting("batch")
    batch_gpu: int | None = _setting("batch_gpu")
    kimg: float | None = _setting("kimg")
    kimg_per_tick: float | None = _setting("kimg_per_tick")
    snap: int | None = _setting("snap")
    snap_minutes: float | None = _setting("snap_minutes")
    image_grid: tuple[int, int] | None = _setting("image_grid")
    seed: int | None = _setting("seed")
    metrics: tuple[str, ...] | None = _setting("metrics")
    precision: PrecisionChoice | None = _setting("precision")
    compile: bool | None = _setting("compile")
    resume_from: str | None = _setting("resume_from")
    # Info-StyleGAN (InfoGAN's latent codes): set together as `info` by `apply`, see `with_info_codes`.
    info_cat: int | None = _setting("info.cat")
    info_cont: int | None = _setting("info.cont")
    info_weight: float | None = _setting("info.weight")

    def __post_init__(self) -> None:
        for name, (kind, low, low_open, high) in OPTION_RANGES.items():
            value = getattr(self, name)
            if value is not None:
                check_range(name, value, kind, low, high, low_open=low_open)
        if self.image_grid is not None:
            if len(self.image_grid) != 2:
                raise SettingError(f"{{image_grid}} {self.image_grid!r}: expected (rows, columns)", "image_grid")
            for n in self.image_grid:
                check_range("image_grid", n, int, 1, 256)
        if self.metrics:  # a typo fails now rather than at the first snapshot
            from ..metrics import parse_metric

            for name in self.metrics:
                try:
                    parse_metric(name)
                except (ValueError, KeyError) as e:
                    raise SettingError(f"{{metrics}}: {e}", "metrics") from None

    def given(self) -> list[str]:
        """Names of the settings this holds (the ones not None)."""
        return [f.name for f in dataclasses.fields(self) if getattr(self, f.name) is not None]

    def changes(self) -> dict[str, Any]:
        """{TrainConfig path: value} for every setting given."""
        return {
            path: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
            for path in f.metadata["paths"]
        }

    def apply(self, cfg: TrainConfig) -> TrainConfig:
        """`cfg` with these settings; an unusable combination is an error that names the problem.

        With progressive growing, a given `batch` is the minibatch of every resolution (it replaces the per-resolution
        table; so does `batch_gpu` for the micro-batch table, which `batch` also clears), and a given `G_lr` / `D_lr`
        is the learning rate of every resolution."""
        changes = self.changes()
        growing = [n for n in ("lod_initial_res", "lod_training_kimg", "lod_transition_kimg") if n in self.given()]
        if cfg.progressive is None and growing:
            raise SettingError(
                f"{{{growing[0]}}} applies to progressive growing: use a preset that grows (stylegan1, sg1-a ... "
                "sg1-f, config-a)",
                growing[0],
            )
        if cfg.progressive is not None:
            if self.batch is not None:
                changes.update({"progressive.batch": (), "progressive.batch_gpu": ()})
            if self.batch_gpu is not None:
                changes["progressive.batch_gpu"] = ()
            for name in ("G_lr", "D_lr"):
                if getattr(self, name) is not None:
                    changes[f"progressive.{name}"] = ()
        info_names = ("info_cat", "info_cont", "info_weight")
        info_given = [n for n in info_names if n in self.given()]
        for path in ("info.cat", "info.cont", "info.weight"):
            changes.pop(path, None)
        if info_given and not (self.info_cat or self.info_cont):
            raise SettingError(f"{{{info_given[0]}}} needs {{info_cat}} or {{info_cont}}", info_given[0], *info_names)
        if self.freeze_layers and isinstance(cfg.D, v1.DiscriminatorConfig):
            raise SettingError("{freeze_layers} (Freeze-D) needs a StyleGAN2 discriminator", "freeze_layers")
        if self.freeze_layers == 0 and isinstance(cfg.D, v1.DiscriminatorConfig):
            changes.pop("D.freeze_layers")
        if self.num_fp16_res is not None:
            del changes["G.num_fp16_res"], changes["D.num_fp16_res"]
            changes.update(_fp16_changes(cfg, self.num_fp16_res))
        try:
            out = cfg.replace(changes)
            if info_given:
                codes = InfoCodes(
                    cat=self.info_cat or 0,
                    cont=self.info_cont or 0,
                    weight=1.0 if self.info_weight is None else self.info_weight,
                )
                out = with_info_codes(out, codes)
            return out
        except SettingError:
            raise
        except ValueError as e:
            raise StyleGANError(str(e)) from None


#: NVIDIA's clamp of the convolutions' outputs, paired with float16 blocks (`num_fp16_res` > 0).
FP16_CONV_CLAMP = 256.0


def _fp16_changes(cfg: TrainConfig, num_fp16_res: int) -> dict[str, Any]:
    """The changes that give `cfg`'s networks `num_fp16_res` float16 resolutions: with `conv_clamp` 256 when they
    have none and there are float16 blocks (what keeps them inside float16's range, as in NVIDIA's configurations).
    StyleGAN (v1) networks have no float16 blocks: 0 is accepted, anything else refused."""
    if isinstance(cfg.G, v1.GeneratorConfig) or isinstance(cfg.D, v1.DiscriminatorConfig):
        if num_fp16_res:
            raise SettingError(
                "{num_fp16_res} (float16 blocks) needs StyleGAN2 networks; StyleGAN (v1) ones run in float32",
                "num_fp16_res",
            )
        return {}
    changes: dict[str, Any] = {"G.num_fp16_res": num_fp16_res, "D.num_fp16_res": num_fp16_res}
    for net in ("G", "D"):
        if num_fp16_res and getattr(cfg, net).conv_clamp is None:
            changes[f"{net}.conv_clamp"] = FP16_CONV_CLAMP
    return changes


def with_info_codes(cfg: TrainConfig, codes: InfoCodes | None) -> TrainConfig:
    """`cfg` training Info-StyleGAN with `codes` (None: without): G's c_dim is D's plus the codes' dimensions
    (the codes follow the dataset's labels), D gets a Q head of that many outputs. A StyleGAN (v1) discriminator
    is refused in one line."""
    if codes is not None and not isinstance(cfg.D, DiscriminatorConfig):
        raise SettingError(
            "{info_cat} / {info_cont} (Info-StyleGAN) need a StyleGAN2 discriminator: use a StyleGAN2 preset "
            "(e.g. cpu-tiny, auto, paper256), not a StyleGAN (v1) one",
            "info_cat",
            "info_cont",
        )
    labels = cfg.D.c_dim
    if codes is not None:
        codes = dataclasses.replace(codes, label_dim=labels)
    dim = codes.dim if codes is not None else 0
    G = dataclasses.replace(cfg.G, c_dim=labels + dim)
    D = dataclasses.replace(cfg.D, q_dim=dim) if isinstance(cfg.D, DiscriminatorConfig) else cfg.D
    return dataclasses.replace(cfg, G=G, D=D, info=codes)


def build_config(
    preset: str,
    *,
    resolution: int,
    img_channels: int = 3,
    c_dim: int = 0,
    gpus: int = 1,
    options: TrainOptions = TrainOptions(),
) -> TrainConfig:
    """Resolve a preset (`stylegan.presets.PRESETS`, with `auto`'s formulas) for a dataset of `resolution` /
    `img_channels` / `c_dim` on `gpus` processes, then apply `options`. A given `options.batch` feeds the formulas
    that depend on the batch (auto's mbstd group, R1 gamma, EMA half-life)."""
    p = get_preset(preset).resolve(resolution, gpus=gpus, batch=options.batch)
    assert p.batch is not None and p.lr is not None and p.r1_gamma is not None and p.ema_kimg is not None
    try:
        loss = LossSettings(
            kind=p.loss, r1_gamma=p.r1_gamma, pl_weight=p.pl_weight, style_mixing_prob=p.style_mixing_prob
        )
        base = TrainConfig(
            G=p.generator(resolution, img_channels=img_channels, c_dim=c_dim),
            D=p.discriminator(resolution, img_channels=img_channels, c_dim=c_dim, gpus=gpus, batch=options.batch),
            loss=loss,
            G_opt=OptimizerConfig(lr=p.lr),
            D_opt=OptimizerConfig(lr=p.lr),
            preset=preset,
            batch=p.batch,
            batch_gpu=_growth_batch_gpu(p, gpus),
            G_reg_interval=p.G_reg_interval,
            D_reg_interval=p.D_reg_interval,
            progressive=_progressive(p, resolution, gpus),
            ema_kimg=p.ema_kimg,
            ema_rampup=p.ema_rampup,
            kimg=p.kimg,
            kimg_per_tick=p.kimg_per_tick,
            snap=p.snap,
            image_grid=p.image_grid,
        )
    except ValueError as e:
        raise StyleGANError(str(e)) from None
    return options.apply(base)


def _growth_batch_gpu(p: Preset, gpus: int) -> int | None:
    tables = p.growth_tables(gpus)
    return tables.batch_gpu if tables is not None else None


def _progressive(p: Preset, resolution: int, gpus: int) -> ProgressiveConfig | None:
    """The preset's progressive growing for data of `resolution` on `gpus` processes (None when it does not grow)."""
    tables = p.growth_tables(gpus)
    if p.lod_initial_res is None or tables is None:
        return None
    return ProgressiveConfig(
        initial_res=min(p.lod_initial_res, resolution),
        batch=tuple(tables.batch_dict.items()),
        batch_gpu=tuple(tables.batch_gpu_dict.items()),
        G_lr=tuple(tables.lr_dict.items()),
        D_lr=tuple(tables.lr_dict.items()),
    )


def _replace(obj: Any, changes: dict[str, Any]) -> Any:
    check_fields(type(obj), list(changes))
    return dataclasses.replace(obj, **changes)


def describe_cost(cfg: TrainConfig, world_size: int = 1) -> str:
    """A short human-readable estimate of what the run will do (for `--dry-run`)."""
    cfg.check_sizes(world_size)
    steps, images = count_steps(cfg)
    g_params = _count_params(cfg.G)
    d_params = _count_params(cfg.D)
    ticks = max(1, int(cfg.kimg / cfg.kimg_per_tick + 0.999))
    flops = sum(n * estimate_flops_per_image(cfg, _integer_lod(cfg, res)) for res, n in images.items())
    per_image = flops / max(sum(images.values()), 1)
    lines = []
    if cfg.progressive is None:
        per_rank, batch_gpu, rounds = cfg.per_rank(world_size)
        lines.append(
            f"{cfg.kimg:g} kimg = {steps} steps of {cfg.batch} images "
            f"({world_size} process{'es' if world_size > 1 else ''} x {rounds} round(s) of {batch_gpu})"
        )
    else:
        p, res = cfg.progressive, cfg.G.img_resolution
        full = (math.log2(res) - math.log2(p.initial_res)) * (p.training_kimg + p.transition_kimg)
        sizes = []
        for r in cfg.resolutions():
            _, batch_gpu, rounds = cfg.per_rank(world_size, r)
            s = cfg.schedule(0) if r == p.initial_res else None
            batch = lookup(p.batch, r, cfg.batch) if s is None else s.batch
            lr = (lookup(p.G_lr, r, cfg.G_opt.lr), lookup(p.D_lr, r, cfg.D_opt.lr))
            lrs = f"lr {lr[0]:g}" if lr[0] == lr[1] else f"lr G {lr[0]:g} D {lr[1]:g}"
            sizes.append(f"{r}: batch {batch} ({rounds} x {batch_gpu} per process), {lrs}")
        lines += [
            f"{cfg.kimg:g} kimg = {steps} steps; progressive growing from {p.initial_res}x{p.initial_res}: "
            f"{p.training_kimg:g} kimg per resolution, {p.transition_kimg:g} kimg fade-ins, {res}x{res} from "
            f"{full:g} kimg{'' if full < cfg.kimg else ' (after the run ends)'}",
            "per resolution: " + "; ".join(sizes),
        ]
    return "\n".join(
        [
            *lines,
            f"G: {g_params / 1e6:.2f} M parameters, D: {d_params / 1e6:.2f} M parameters, "
            f"{cfg.G.img_resolution}x{cfg.G.img_resolution}x{cfg.G.img_channels}",
            f"{ticks} ticks of {cfg.kimg_per_tick:g} kimg; snapshot every {cfg.snap} ticks"
            + (f" or {cfg.snap_minutes:g} minutes" if cfg.snap_minutes else ""),
            f"compute: about {per_image * 1000 / 1e12:.3g} TFLOP per kimg, "
            f"{flops / 1e12:.3g} TFLOP "
            f"in all; at 50 GFLOP/s (about one CPU core) {format_duration(per_image * 1000 / 50e9)} per kimg, "
            f"{format_duration(flops / 50e9)} in all",
        ]
    )


def count_steps(cfg: TrainConfig) -> tuple[int, dict[int, int]]:
    """(steps, {resolution: real images shown}) of the whole run, following the schedule (its batch changes
    only with the resolution, so each resolution's stretch is found by bisection rather than step by step).

    >>> count_steps(build_config("cpu-tiny", resolution=16, options=TrainOptions(kimg=0.01)))
    (3, {16: 12})
    """
    total = int(round(cfg.kimg * 1000))
    nimg, steps = 0, 0
    images: dict[int, int] = {}
    while nimg < total:
        s = cfg.schedule(nimg)
        lo, hi = 1, -(-(total - nimg) // s.batch)  # the most steps this stretch can last
        while lo < hi:  # the last step that still trains s.resolution
            mid = (lo + hi + 1) // 2
            if cfg.schedule(nimg + (mid - 1) * s.batch).resolution == s.resolution:
                lo = mid
            else:
                hi = mid - 1
        steps += lo
        images[s.resolution] = images.get(s.resolution, 0) + lo * s.batch
        nimg += lo * s.batch
    return steps, images


def _integer_lod(cfg: TrainConfig, resolution: int) -> float:
    return math.log2(cfg.G.img_resolution) - math.log2(resolution)


def estimate_flops_per_image(cfg: TrainConfig, lod: float = 0.0) -> float:
    """Rough training FLOPs per real image, from counted forward FLOPs of G and D (one image each, on the CPU, at
    level of detail `lod` for networks that grow): Gmain ≈ 3G + 2D, Dmain ≈ G + 4D, path length ≈ 5G on half the
    batch every G_reg_interval steps, R1 (or WGAN-GP's penalty) ≈ 5D every D_reg_interval steps (backward ≈ 2x
    forward; double backward ≈ 4x)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ..networks import build_network

    torch.manual_seed(0)
    G = build_network(cfg.G).eval().requires_grad_(False)
    D = build_network(dataclasses.replace(cfg.D, mbstd_group_size=1)).eval().requires_grad_(False)
    v1.set_lod(G, lod)
    v1.set_lod(D, lod)
    c = torch.zeros(1, cfg.G.c_dim)
    with torch.no_grad(), FlopCounterMode(display=False) as g_count:
        img = G(torch.zeros(1, cfg.G.z_dim), c if cfg.G.c_dim else None, noise_mode="const")
    with torch.no_grad(), FlopCounterMode(display=False) as d_count:
        D(img, c if cfg.D.c_dim else None)
    g, d = float(g_count.get_total_flops()), float(d_count.get_total_flops())
    pl = 5 * g / max(cfg.loss.pl_batch_shrink, 1) / (cfg.G_reg_interval or 1) if cfg.loss.pl_weight else 0.0
    regularised = cfg.loss.wgan_lambda if cfg.loss.kind == "wgan-gp" else cfg.loss.r1_gamma
    r1 = 5 * d / (cfg.D_reg_interval or 1) if regularised else 0.0
    return 3 * g + 2 * d + g + 4 * d + pl + r1


def format_duration(seconds: float) -> str:
    """`3d04h`, `1h02m`, `3m05s`, `12s`."""
    from .reporting import format_duration as fmt

    return fmt(seconds)


def _count_params(cfg: NetworkConfig) -> int:
    from ..networks import count_parameters

    return count_parameters(cfg)[0]

"""The StyleGAN2 (and StyleGAN v1) training loop, as small named steps read top to bottom:

    run = setup_run(...)                       # data, networks, optimisers, phases, resume
    while not finished:
        begin_step(run)                        # the schedule: level of detail, batch sizes, learning rates
        batch = fetch_batch(run)               # reals for this rank, latents and labels for every phase
        for phase in run.phases:               # Gmain, Greg (every 4), Dmain, Dreg (every 16)
            run_phase(run, phase, batch)
        update_ema(run)                        # G_ema with ramp-up
        adjust_ada(run)                        # p towards the target
        end_tick(run) / maybe_snapshot(run)    # stats, fakes grid, snapshot + full state

Only rank 0 writes files. A SIGINT/SIGTERM finishes the current step, saves the full state and returns.
"""

from __future__ import annotations

import copy
import dataclasses
import errno
import json
import math
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import OutputError, SettingError, StyleGANError
from ..images import make_grid, save_image, to_uint8
from ..networks import AnyDiscriminator, Generator, build_network, v1
from ..nn.mixed import fp16_active
from ..precision import MIN_CPU_SPEEDUP, bf16_speedup, native_bf16, resolve_precision
from .augment import AdaController, AugmentPipe
from .config import StepSchedule, TrainConfig
from .data import BatchStream
from .distributed import (
    DistInfo,
    all_reduce_sum,
    average_gradients,
    broadcast_module,
    gather_objects,
    init_distributed,
    is_distributed,
)
from .ema import ema_beta
from .ema import update_ema as ema_update
from .losses import Phase, StyleGAN2Loss, lazy_regularization_correction
from .progressive import lod_levels, process_reals
from .reporting import Reporter, format_duration
from .runs import RunLock
from .state import STATE_FILENAME, load_training_state, rng_state, save_training_state, set_rng_state

#: Consecutive steps with NaN/Inf losses after which the run stops (each one is skipped and reported).
MAX_NONFINITE_STEPS = 10


@dataclass
class PhaseSpec:
    """One optimisation phase: which network, which optimiser, and how often (lazy regularisation)."""

    name: Phase
    module: nn.Module
    opt: torch.optim.Optimizer
    interval: int


@dataclass
class Batch:
    """One step's inputs, split into accumulation rounds: reals [rounds] and latents/labels [phases][rounds]."""

    real_img: list[Tensor]
    real_c: list[Tensor | None]
    gen_z: list[list[Tensor]]
    gen_c: list[list[Tensor | None]]


@dataclass
class TrainResult:
    """What a call to `train` did."""

    run_dir: Path
    cur_nimg: int
    batch_idx: int
    stopped_early: bool
    snapshot: Path | None = None
    state: Path | None = None


@dataclass
class TrainingRun:
    """Everything the loop's steps read and update."""

    cfg: TrainConfig
    run_dir: Path
    dist: DistInfo
    device: torch.device
    reporter: Reporter
    data: BatchStream
    G: Generator
    D: AnyDiscriminator
    G_ema: Generator
    G_opt: torch.optim.Optimizer
    D_opt: torch.optim.Optimizer
    phases: list[PhaseSpec]
    loss: StyleGAN2Loss
    augment: AugmentPipe | None
    ada: AdaController | None
    generators: dict[str, torch.Generator]
    batch_per_rank: int
    batch_gpu: int
    rounds: int
    total_nimg: int
    grid_z: Tensor
    grid_c: Tensor | None
    step: StepSchedule  # what the current (or next) step uses: lod, batch sizes, learning rates
    precision_note: str = ""  # the precision and why it was chosen ("precision bf16 (auto: ...)")
    mixed_fp16: bool = False  # float16 blocks run (num_fp16_res on CUDA, precision fp32)
    lod_levels: tuple[int, int] | None = None  # (floor, ceil) of the last step's lod: a change resets Adam
    cur_nimg: int = 0
    batch_idx: int = 0
    cur_tick: int = 0
    tick_start_nimg: int = 0
    elapsed_before: float = 0.0  # seconds spent in earlier sessions of this run
    start_time: float = field(default_factory=time.monotonic)
    tick_start_time: float = field(default_factory=time.monotonic)
    last_state_time: float = field(default_factory=time.monotonic)
    sec_per_kimg: float = float("nan")
    nonfinite_streak: int = 0
    last_snapshot: Path | None = None
    last_state: Path | None = None

    @property
    def kimg(self) -> float:
        return self.cur_nimg / 1000

    @property
    def elapsed(self) -> float:
        return self.elapsed_before + time.monotonic() - self.start_time


# ---- setup -----------------------------------------------------------------------------------------------------
def configure_backends(device: torch.device) -> None:
    """Backend flags, set once by the CLI: cuDNN autotuning on, TF32 off (NVIDIA's choice, for reproducible
    numbers); nothing to do on a CPU."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False


def _seed_generator(seed: int, stream: int) -> torch.Generator:
    """A CPU generator per random stream (latents, loss, augmentation): the same numbers on every device."""
    return torch.Generator().manual_seed(seed * 1_000_003 + stream)


def memory_format(device: torch.device) -> torch.memory_format:
    """The layout the networks train in: channels-last on a CPU (oneDNN's convolutions and their gradients run
    faster on it: about 1.2x in float32 and 2x with bfloat16 on a 32 px network), PyTorch's default elsewhere."""
    return torch.channels_last if device.type == "cpu" else torch.contiguous_format


_Net = TypeVar("_Net", bound=torch.nn.Module)


def _to_device(net: _Net, device: torch.device) -> _Net:
    """`net` on `device`, in the layout it trains in there."""
    return net.to(device, memory_format=memory_format(device))  # type: ignore[call-overload]  # stubs omit it


def build_networks(cfg: TrainConfig, device: torch.device) -> tuple[Generator, AnyDiscriminator, Generator]:
    """Fresh G, D and G_ema (a copy of G), seeded by `cfg.seed`, or initialised from `cfg.resume_from`."""
    torch.manual_seed(cfg.seed)
    G = _to_device(Generator(cfg.G).train().requires_grad_(False), device)
    D = build_network(cfg.D)
    assert not isinstance(D, Generator)
    D = _to_device(D.train().requires_grad_(False), device)
    G_ema = copy.deepcopy(G).eval()
    if cfg.resume_from:
        _load_pretrained(cfg.resume_from, G, D, G_ema)
    return G, D, G_ema


def _load_pretrained(source: str, G: Generator, D: AnyDiscriminator, G_ema: Generator) -> None:
    from .. import io as sgio

    nets = sgio.load(source, which="all", device="cpu")
    src_G_ema = nets.G_ema if nets.G_ema is not None else nets.G
    if src_G_ema is None:
        raise StyleGANError(f"--resume-from {source}: the checkpoint holds no generator")
    src_G = nets.G if nets.G is not None else src_G_ema
    G.load_state_dict(src_G.state_dict())
    G_ema.load_state_dict(src_G_ema.state_dict())
    if nets.D is not None:
        state = nets.D.state_dict()
        if any(k.startswith("q_head.") for k in D.state_dict()) and not any(k.startswith("q_head.") for k in state):
            state.update({k: v for k, v in D.state_dict().items() if k.startswith("q_head.")})  # a new Q head
        D.load_state_dict(state)


def build_phases(
    cfg: TrainConfig, G: nn.Module, D: nn.Module
) -> tuple[list[PhaseSpec], torch.optim.Optimizer, torch.optim.Optimizer]:
    """NVIDIA's phases with lazy regularisation: one Adam per network with lr·c and betas**c (c = I/(I+1)), a
    main phase every step and a regularisation phase every I steps (its loss multiplied by I)."""
    phases: list[PhaseSpec] = []
    opts = []
    names: tuple[tuple[Phase, Phase, Phase], ...] = (("Gmain", "Greg", "Gboth"), ("Dmain", "Dreg", "Dboth"))
    for (main, reg, both), module, opt_cfg, interval in [
        (names[0], G, cfg.G_opt, cfg.G_reg_interval),
        (names[1], D, cfg.D_opt, cfg.D_reg_interval),
    ]:
        c = lazy_regularization_correction(interval)
        betas = (opt_cfg.betas[0] ** c, opt_cfg.betas[1] ** c)
        opt = torch.optim.Adam(list(module.parameters()), lr=opt_cfg.lr * c, betas=betas, eps=opt_cfg.eps)
        opts.append(opt)
        if interval:
            phases.append(PhaseSpec(main, module, opt, 1))
            phases.append(PhaseSpec(reg, module, opt, interval))
        else:
            phases.append(PhaseSpec(both, module, opt, 1))
    return phases, opts[0], opts[1]


def setup_run(
    cfg: TrainConfig,
    run_dir: Path,
    *,
    device: torch.device,
    dist_info: DistInfo,
    reporter: Reporter,
    resume: bool = False,
) -> TrainingRun:
    """Open the dataset, build networks, optimisers, loss and augmentation, then restore a saved state. The
    precision `auto` is resolved for `device` here (the run's config.json and state record the result; the choice
    and its reason are logged in one line; with several processes every one takes rank 0's decision, since `auto`
    times a convolution on each)."""
    decision = gather_objects(resolve_precision(cfg.precision, device))[0]
    cfg = dataclasses.replace(cfg, precision=decision.precision)
    if decision.warning is not None:
        reporter.log(decision.warning)
    step = cfg.schedule(0)
    per_rank, batch_gpu, rounds = cfg.per_rank(dist_info.world_size, step.resolution)
    data = BatchStream.open(
        cfg, rank=dist_info.rank, world_size=dist_info.world_size, batch=per_rank, pin_memory=device.type == "cuda"
    )
    check_dataset_matches(cfg, data, reporter)
    G, D, G_ema = build_networks(cfg, device)
    phases, G_opt, D_opt = build_phases(cfg, G, D)
    seed = cfg.seed * dist_info.world_size + dist_info.rank
    torch.manual_seed(seed)
    generators = {name: _seed_generator(seed, i) for i, name in enumerate(["latents", "loss", "augment"])}
    augment = ada = None
    if cfg.augment.kind != "none":
        augment = AugmentPipe(cfg.augment.pipe, cfg.augment.p, generator=generators["augment"]).to(device)
        if cfg.augment.kind == "ada":
            ada = AdaController(cfg.augment.target, cfg.augment.interval, cfg.augment.kimg, cfg.batch)
    assert cfg.precision != "auto"
    loss = StyleGAN2Loss(
        G,
        D,
        cfg.loss,
        augment=augment,
        generator=generators["loss"],
        precision=cfg.precision,
        info=cfg.info,
        compile=cfg.compile,
        warn=reporter.log,
    )
    grid_z, grid_c = _grid_latents(cfg, data, device)
    run = TrainingRun(
        cfg=cfg,
        run_dir=run_dir,
        dist=dist_info,
        device=device,
        reporter=reporter,
        data=data,
        G=G,
        D=D,
        G_ema=G_ema,
        G_opt=G_opt,
        D_opt=D_opt,
        phases=phases,
        loss=loss,
        augment=augment,
        ada=ada,
        generators=generators,
        batch_per_rank=per_rank,
        batch_gpu=batch_gpu,
        rounds=rounds,
        total_nimg=int(round(cfg.kimg * 1000)),
        grid_z=grid_z,
        grid_c=grid_c,
        step=step,
        precision_note=decision.note,
        mixed_fp16=cfg.precision == "fp32" and fp16_active(num_fp16_res(cfg), device),
    )
    if resume:
        restore_state(run, load_training_state(run_dir / STATE_FILENAME))
    else:
        for net in (G, D, G_ema):  # identical start on every rank
            broadcast_module(net)
    apply_schedule(run, cfg.schedule(run.cur_nimg))
    run.data.seek(run.cur_nimg // dist_info.world_size)  # every step takes batch / world_size items on each rank
    return run


def num_fp16_res(cfg: TrainConfig) -> int:
    """The number of float16 resolutions of the run's networks (0 for StyleGAN (v1) ones, which have none)."""
    return max(getattr(cfg.G, "num_fp16_res", 0), getattr(cfg.D, "num_fp16_res", 0))


def check_dataset_matches(cfg: TrainConfig, data: BatchStream, reporter: Reporter) -> None:
    """Resolution, channels and labels of the dataset against the networks: clear errors, never silence."""
    ds = data.dataset
    if ds.resolution != cfg.G.img_resolution or ds.num_channels != cfg.G.img_channels:
        raise StyleGANError(
            f"dataset {ds.path} is {ds.resolution}x{ds.resolution}x{ds.num_channels} but the networks are "
            f"{cfg.G.img_resolution}x{cfg.G.img_resolution}x{cfg.G.img_channels}"
        )
    if cfg.data.cond and ds.label_dim != cfg.D.c_dim:
        raise StyleGANError(
            f"dataset {ds.path} has {ds.label_dim} label dimensions but the networks expect c_dim={cfg.D.c_dim}"
        )
    if not cfg.data.cond and cfg.D.c_dim:
        raise SettingError(
            f"the networks are conditional (c_dim={cfg.D.c_dim}); add {{cond}} to train on labels", "cond"
        )
    if ds.has_labels and not cfg.data.cond:
        reporter.log(
            f"warning: dataset {ds.path.name} has labels ({ds.label_dim} classes) but --cond is off: "
            "training an unconditional model and ignoring them"
        )


def _grid_latents(cfg: TrainConfig, data: BatchStream, device: torch.device) -> tuple[Tensor, Tensor | None]:
    """The fakes grids' latents and labels. With info codes, every column shares one z and row r shows the
    categorical value r % cat (without one, the first continuous code from -1 to 1 down the rows)."""
    rows, cols = cfg.image_grid
    g = torch.Generator().manual_seed(cfg.seed + 123)
    z = torch.randn([rows * cols, cfg.G.z_dim], generator=g).to(device)
    if cfg.G.c_dim == 0:
        return z, None
    labels = torch.zeros([rows * cols, cfg.D.c_dim])
    if cfg.D.c_dim:
        found = np.stack([data.dataset.get_label(i) for i in data.grid_indices(rows * cols, cfg.seed)])
        labels = torch.from_numpy(found).float()
    if cfg.info is None:
        return z, labels.to(device)
    info = cfg.info
    z = z[:cols].repeat(rows, 1)
    codes = torch.zeros([rows * cols, info.dim])
    for r in range(rows):
        if info.cat:
            codes[r * cols : (r + 1) * cols, r % info.cat] = 1.0
        else:
            codes[r * cols : (r + 1) * cols, 0] = -1 + 2 * r / max(rows - 1, 1)
    return z, torch.cat([labels, codes], dim=1).to(device)


# ---- the steps -------------------------------------------------------------------------------------------------
def apply_schedule(run: TrainingRun, step: StepSchedule) -> None:
    """Make `step` current: the level of detail of G, D and G_ema (networks that grow; 0 when the run does not
    grow), this step's batch sizes (the data stream follows), and the learning rates."""
    for net in (run.G, run.D, run.G_ema):
        v1.set_lod(net, step.lod)
    run.batch_per_rank, run.batch_gpu, run.rounds = run.cfg.per_rank(run.dist.world_size, step.resolution)
    run.data.set_batch(run.batch_per_rank)
    for opt, lr, interval in (
        (run.G_opt, step.G_lr, run.cfg.G_reg_interval),
        (run.D_opt, step.D_lr, run.cfg.D_reg_interval),
    ):
        for group in opt.param_groups:
            group["lr"] = lr * lazy_regularization_correction(interval)
    if run.ada is not None:
        run.ada.batch = step.batch
    run.step = step


def begin_step(run: TrainingRun) -> None:
    """The schedule at `cur_nimg` (a pure function of it) made current; with progressive growing, both Adam states
    are reset whenever floor(lod) or ceil(lod) changes, i.e. at the start and at the end of every fade."""
    step = run.cfg.schedule(run.cur_nimg)
    if step != run.step:
        apply_schedule(run, step)
    levels = lod_levels(step.lod)
    p = run.cfg.progressive
    if p is not None and p.reset_optimizers and run.lod_levels is not None and levels != run.lod_levels:
        for opt in (run.G_opt, run.D_opt):
            opt.state.clear()
        what = "fading in" if levels[0] != levels[1] else "training"
        run.reporter.log(
            f"kimg {run.kimg:.3f}: lod {step.lod:.2f}, {what} {step.resolution}x{step.resolution} "
            f"(batch {step.batch}, lr {step.G_lr:g}): optimiser states reset"
        )
    run.lod_levels = levels


def fetch_batch(run: TrainingRun) -> Batch:
    """This rank's real images (in [-1, 1], at the step's level of detail) and labels, plus latents and labels for
    every phase, in rounds."""
    images, labels = run.data.next()
    real = (
        process_reals(images.to(run.device, non_blocking=True), run.step.lod)
        .contiguous(memory_format=memory_format(run.device))
        .split(run.batch_gpu)
    )
    use_labels, info = run.cfg.D.c_dim > 0, run.cfg.info
    real_c = list(labels.to(run.device).split(run.batch_gpu)) if use_labels else [None] * run.rounds
    g = run.generators["latents"]
    n = len(run.phases) * run.batch_per_rank
    z = torch.randn([n, run.cfg.G.z_dim], generator=g, device=g.device).to(run.device)
    gen_z = [list(chunk.split(run.batch_gpu)) for chunk in z.split(run.batch_per_rank)]
    if use_labels or info is not None:
        c = run.data.random_labels(n, g).float() if use_labels else torch.zeros([n, 0])
        if info is not None:  # G's labels end with the codes it is to make recognisable
            c = torch.cat([c, info.sample(n, g).cpu()], dim=1)
        c = c.to(run.device)
        gen_c: list[list[Tensor | None]] = [list(chunk.split(run.batch_gpu)) for chunk in c.split(run.batch_per_rank)]
    else:
        gen_c = [[None] * run.rounds for _ in run.phases]
    return Batch(list(real), real_c, gen_z, gen_c)


def run_phase(run: TrainingRun, phase_idx: int, batch: Batch) -> None:
    """Accumulate one phase's gradients over the rounds, average them over ranks, and take an Adam step unless a
    loss or gradient is NaN/Inf (then the step is skipped and reported)."""
    phase = run.phases[phase_idx]
    if run.batch_idx % phase.interval:
        return
    pl_mean_before = run.loss.pl_mean.clone()
    phase.module.requires_grad_(True)
    phase.opt.zero_grad(set_to_none=True)
    all_stats: dict[str, list[Tensor]] = {}
    for r in range(run.rounds):
        stats = run.loss.accumulate_gradients(
            phase.name,
            batch.real_img[r],
            batch.real_c[r],
            batch.gen_z[phase_idx][r],
            batch.gen_c[phase_idx][r],
            gain=phase.interval / run.rounds,
        )
        for k, v in stats.items():
            all_stats.setdefault(k, []).append(v)
    phase.module.requires_grad_(False)
    params = [p for p in phase.module.parameters() if p.grad is not None]
    average_gradients(phase.module.parameters())
    if run.mixed_fp16:  # float16 blocks: NaN -> 0 and ±inf -> ±1e5 in the gradients, as StyleGAN2-ADA does
        for p in params:
            assert p.grad is not None
            torch.nan_to_num(p.grad, nan=0.0, posinf=1e5, neginf=-1e5, out=p.grad)
    stats_cat = {k: torch.cat(v) for k, v in all_stats.items()}
    finite = all(bool(torch.isfinite(v).all()) for v in stats_cat.values()) and _all_finite(
        [p.grad for p in params if p.grad is not None]
    )
    if is_distributed():
        finite = bool(all_reduce_sum(torch.tensor([0.0 if finite else 1.0])).item() == 0)
    if finite:
        phase.opt.step()
    else:
        run.loss.pl_mean = pl_mean_before
        bad = sorted(k for k, v in stats_cat.items() if not torch.isfinite(v).all()) or ["gradients"]
        run.reporter.log(
            f"warning: NaN/Inf in {', '.join(bad)} at step {run.batch_idx} (kimg {run.kimg:.3f}, "
            f"phase {phase.name}); step skipped"
        )
        run.nonfinite_streak += 1
    for k, v in stats_cat.items():
        run.reporter.add(k, v)
    if run.ada is not None and "Loss/signs/real" in stats_cat:
        run.ada.accumulate(stats_cat["Loss/signs/real"])


def _all_finite(tensors: list[Tensor]) -> bool:
    """Whether no element of `tensors` is NaN or ±inf: max |x| of each (one fused pass over all, NaN propagates),
    checked with one synchronisation."""
    if not tensors:
        return True
    return bool(torch.stack([n.float() for n in torch._foreach_norm(tensors, float("inf"))]).isfinite().all())


def update_ema(run: TrainingRun) -> None:
    """G_ema ← lerp(G, G_ema, β) with NVIDIA's half-life and ramp-up."""
    beta = ema_beta(run.step.batch, run.cfg.ema_kimg, run.cfg.ema_rampup, run.cur_nimg)
    ema_update(run.G_ema, run.G, beta)


def adjust_ada(run: TrainingRun) -> None:
    """Move the augmentation probability towards the overfitting target (every `interval` steps)."""
    if run.ada is not None and run.augment is not None:
        run.ada.maybe_update(run.augment, run.batch_idx)


def check_divergence(run: TrainingRun, step_was_finite: bool) -> None:
    """Stop with a clear error after MAX_NONFINITE_STEPS consecutive steps with NaN/Inf losses."""
    if step_was_finite:
        run.nonfinite_streak = 0
    elif run.nonfinite_streak >= MAX_NONFINITE_STEPS:
        raise StyleGANError(
            f"losses were NaN/Inf for {run.nonfinite_streak} phases in a row, last at step {run.batch_idx} "
            f"(kimg {run.kimg:.3f}): training diverged; lower --glr/--dlr or raise --gamma and resume from "
            f"{run.last_state or 'the start'}"
        )


def show_progress(run: TrainingRun, step_seconds: float) -> None:
    """The live line: kimg, sec/kimg, ETA, latest losses and ADA p."""
    kimg_step = run.step.batch / 1000
    rate = step_seconds / kimg_step
    run.sec_per_kimg = rate if math.isnan(run.sec_per_kimg) else 0.9 * run.sec_per_kimg + 0.1 * rate
    eta = (run.total_nimg - run.cur_nimg) / 1000 * run.sec_per_kimg
    m = run.reporter.means()
    parts = [
        f"kimg {run.kimg:.3f}/{run.total_nimg / 1000:g}",
        f"{run.sec_per_kimg:.1f} s/kimg",
        f"ETA {format_duration(eta)}",
    ]
    parts += [f"{label} {m[key]:.3f}" for label, key in _LOSS_COLUMNS if key in m]
    if run.augment is not None:
        parts.append(f"p {float(run.augment.p):.3f}")
    run.reporter.progress("  ".join(parts))


_LOSS_COLUMNS = [
    ("G", "Loss/G/loss"),
    ("D", "Loss/D/loss"),
    ("r1", "Loss/r1_penalty"),
    ("gp", "Loss/gp_penalty"),
    ("pl", "Loss/pl_penalty"),
    ("Q", "Loss/info/cat"),
    ("Qcont", "Loss/info/cont"),
    ("Qacc", "Info/accuracy"),
]


def end_tick(run: TrainingRun) -> None:
    """Average the tick's statistics over ranks, print the tick line, append stats.jsonl, draw the fakes grid."""
    now = time.monotonic()
    tick_sec = now - run.tick_start_time
    tick_kimg = (run.cur_nimg - run.tick_start_nimg) / 1000
    run.reporter.reduce(all_reduce_sum)
    means = run.reporter.means()
    sec_per_kimg = tick_sec / max(tick_kimg, 1e-9)
    record: dict[str, Any] = {
        "Progress/tick": run.cur_tick,
        "Progress/kimg": run.kimg,
        "Progress/step": run.batch_idx,
        "Timing/total_sec": run.elapsed,
        "Timing/sec_per_tick": tick_sec,
        "Timing/sec_per_kimg": sec_per_kimg,
        "timestamp": time.time(),
    }
    if run.cfg.progressive is not None:  # the level of detail of the tick's last step, and its minibatch
        record.update({"Progress/lod": run.step.lod, "Progress/minibatch": run.step.batch})
    record.update(means)
    if run.augment is not None:
        record["Progress/augment"] = float(run.augment.p)
        if run.ada is not None and not math.isnan(run.ada.last_rt):
            record["Progress/ada_rt"] = run.ada.last_rt
    eta = (run.total_nimg - run.cur_nimg) / 1000 * sec_per_kimg
    parts = [
        f"tick {run.cur_tick:<4d}",
        f"kimg {run.kimg:<8.3f}",
        *([f"lod {run.step.lod:<5.2f}", f"batch {run.step.batch:<4d}"] if run.cfg.progressive is not None else []),
        f"time {format_duration(run.elapsed):<7s}",
        f"sec/kimg {sec_per_kimg:<7.1f}",
    ]
    parts += [f"{label} {means[key]:<7.3f}" for label, key in _LOSS_COLUMNS if key in means]
    if run.augment is not None:
        parts.append(f"augment {float(run.augment.p):.3f}")
    parts.append(f"eta {format_duration(eta)}")
    run.reporter.log("  ".join(parts))
    run.reporter.write_stats(record, step=int(run.cur_nimg))
    run.reporter.reset()
    if run.dist.is_main:
        save_fakes(run, run.run_dir / f"fakes{run.cur_nimg // 1000:06d}.png")
    run.cur_tick += 1
    run.tick_start_nimg = run.cur_nimg
    run.tick_start_time = time.monotonic()


def maybe_snapshot(run: TrainingRun, *, tick_ended: bool, force: bool) -> None:
    """Network snapshot + full state every `snap` ticks, every `snap_minutes`, and when forced. Collective."""
    minutes = run.cfg.snap_minutes
    due_by_time = minutes is not None and time.monotonic() - run.last_state_time >= minutes * 60
    due = force or (tick_ended and run.cur_tick % max(run.cfg.snap, 1) == 0)
    due = bool(all_reduce_sum(torch.tensor([1.0 if (due or due_by_time) else 0.0])).item() > 0)
    if due:
        save_snapshot(run)


def save_snapshot(run: TrainingRun) -> None:
    """Write `network-snapshot-<kimg>.safetensors` (our checkpoint format) and the full training state."""
    state = state_dict(run)  # collective: gathers every rank's RNG state
    if run.dist.is_main:
        path = run.run_dir / f"network-snapshot-{run.cur_nimg // 1000:06d}.safetensors"
        save_network(path, run)
        run.last_snapshot = path
        run.last_state = save_training_state(run.run_dir / STATE_FILENAME, state)
        run.reporter.log(f"saved {path.name} and {STATE_FILENAME} at kimg {run.kimg:.3f}")
        evaluate_metrics(run, path)
    run.last_state_time = time.monotonic()


def evaluate_metrics(run: TrainingRun, snapshot: Path) -> None:
    """Run the configured metrics on G_ema for this snapshot (rank 0), appending to metric-<name>.jsonl."""
    if not run.cfg.metrics:
        return
    from ..metrics import compute_metric

    for name in run.cfg.metrics:
        res = compute_metric(
            run.G_ema,
            name,
            data=run.cfg.data.path,
            network=str(snapshot),
            progress=False,
            jsonl=run.run_dir / f"metric-{name}.jsonl",
            extra={"kimg": run.kimg},
        )
        run.reporter.log(f"metric {res}")


def save_network(path: Path, run: TrainingRun) -> Path:
    """Snapshot G_ema, G and D in our checkpoint format, with the run's provenance in the metadata."""
    from .. import io as sgio

    metadata: dict[str, Any] = {
        "training": {
            "kimg": run.kimg,
            "preset": run.cfg.preset,
            "dataset": run.data.dataset.name,
            "run": run.run_dir.name,
            "augment_p": float(run.augment.p) if run.augment is not None else 0.0,
        },
        "class_names": list(run.data.dataset.class_names or []),
    }
    if run.cfg.info is not None:  # what `stylegan generate --info-code` reads
        from ..infocodes import METADATA_KEY

        metadata[METADATA_KEY] = run.cfg.info.to_dict()
    return sgio.save(path, G_ema=run.G_ema, G=run.G, D=run.D, metadata=metadata)


def save_fakes(run: TrainingRun, path: Path) -> None:
    """A grid of G_ema images for the fixed grid latents (constant noise: comparable from tick to tick)."""
    rows, cols = run.cfg.image_grid
    images = []
    with torch.no_grad():
        for i in range(0, run.grid_z.shape[0], max(run.batch_gpu, 8)):
            c = run.grid_c[i : i + max(run.batch_gpu, 8)] if run.grid_c is not None else None
            images.append(to_uint8(run.G_ema(run.grid_z[i : i + max(run.batch_gpu, 8)], c, noise_mode="const")))
    save_image(make_grid(np.concatenate(images), rows, cols), path)


def save_reals(run: TrainingRun, path: Path) -> None:
    """A grid of real training images (the fakes grids' labels come from the same images)."""
    rows, cols = run.cfg.image_grid
    idx = run.data.grid_indices(rows * cols, run.cfg.seed)
    images = np.stack([run.data.dataset[i][0] for i in idx]).transpose(0, 2, 3, 1)
    save_image(make_grid(images, rows, cols), path)


# ---- state -----------------------------------------------------------------------------------------------------
def state_dict(run: TrainingRun) -> dict[str, Any]:
    """Everything needed to continue exactly. Collective (gathers per-rank RNG and loss state)."""
    per_rank = {
        "rng": rng_state(run.generators),
        "pl_mean": run.loss.pl_mean.detach().cpu(),
        "ada": run.ada.state_dict() if run.ada is not None else None,
        "data_pos": run.data.pos,  # items this rank consumed (a check that every rank stepped)
        "checksum": _checksum(run.G, run.D),  # equal on every rank while gradients are averaged correctly
    }
    ranks = gather_objects(per_rank)
    return {
        "G": run.G.state_dict(),
        "D": run.D.state_dict(),
        "G_ema": run.G_ema.state_dict(),
        "G_opt": run.G_opt.state_dict(),
        "D_opt": run.D_opt.state_dict(),
        "augment_p": float(run.augment.p) if run.augment is not None else 0.0,
        "progress": {
            "cur_nimg": run.cur_nimg,
            "batch_idx": run.batch_idx,
            "cur_tick": run.cur_tick,
            "elapsed_sec": run.elapsed,
            "lod_levels": list(run.lod_levels) if run.lod_levels is not None else None,  # when Adam was last reset
        },
        "world_size": run.dist.world_size,
        "ranks": ranks,
        "config": run.cfg.to_json(),
    }


def _checksum(*nets: nn.Module) -> float:
    with torch.no_grad():
        return float(sum(p.detach().double().sum().item() for net in nets for p in net.parameters()))


def restore_state(run: TrainingRun, state: dict[str, Any]) -> None:
    """Load a state written by `state_dict` into a freshly set-up run (a damaged or mismatched state is a
    one-line StyleGANError)."""
    try:
        run.G.load_state_dict(state["G"])
        run.D.load_state_dict(state["D"])
        run.G_ema.load_state_dict(state["G_ema"])
        run.G_opt.load_state_dict(state["G_opt"])
        run.D_opt.load_state_dict(state["D_opt"])
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError) as e:
        detail = " ".join(str(e).split())[:300]
        raise StyleGANError(f"the saved training state does not match this configuration: {detail}") from None
    try:
        _restore_progress(run, state)
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        detail = " ".join(str(e).split())[:200]
        raise StyleGANError(
            f"{run.run_dir / STATE_FILENAME}: damaged training state ({type(e).__name__}: {detail})"
        ) from None


def _restore_progress(run: TrainingRun, state: dict[str, Any]) -> None:
    progress = state["progress"]
    run.cur_nimg = int(progress["cur_nimg"])
    run.batch_idx = int(progress["batch_idx"])
    run.cur_tick = int(progress["cur_tick"])
    run.tick_start_nimg = run.cur_nimg
    run.elapsed_before = float(progress["elapsed_sec"])
    levels = progress.get("lod_levels")
    run.lod_levels = (int(levels[0]), int(levels[1])) if levels is not None else None
    if run.augment is not None:
        run.augment.p.fill_(float(state["augment_p"]))
    ranks = state["ranks"]
    if int(state["world_size"]) == run.dist.world_size:
        mine = ranks[run.dist.rank]
        set_rng_state(mine["rng"], run.generators)
    else:
        mine = ranks[0]
        run.reporter.log(
            f"warning: the state was saved by {state['world_size']} processes, this run has "
            f"{run.dist.world_size}: random streams restart (continues, but not bit-exactly)"
        )
    run.loss.pl_mean = mine["pl_mean"].to(run.device)
    if run.ada is not None and mine.get("ada"):
        run.ada.load_state_dict(mine["ada"])


# ---- signals ---------------------------------------------------------------------------------------------------
class StopRequest:
    """SIGINT / SIGTERM set a flag checked after every step (a second SIGINT, a second or more later, aborts at once).

    Entered before the run is set up (the CLI enters one before it reads the dataset), so that a signal during the
    set-up stops the run after its first step, saved. Until `reporter` is set, the note goes to stderr."""

    def __init__(self, reporter: Reporter | None = None) -> None:
        self.requested = False
        self._since = 0.0  # when the stop was requested
        self.reporter = reporter
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:  # a repeat within a second (a process group signalled twice, a double tap) is the same
            if signum == signal.SIGINT and time.monotonic() - self._since >= 1.0:
                raise KeyboardInterrupt
            return
        self.requested, self._since = True, time.monotonic()
        note = (
            f"{signal.Signals(signum).name} received: saving the state after this step "
            "(Ctrl-C again to abort without saving)"
        )
        if self.reporter is not None:
            self.reporter.log(note)
        elif os.environ.get("RANK", "0") == "0":
            print(note, file=sys.stderr, flush=True)

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread() and not self._previous:
            for s in (signal.SIGINT, signal.SIGTERM):
                self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h)
        self._previous.clear()


# ---- the loop --------------------------------------------------------------------------------------------------
def write_run_files(run: TrainingRun) -> None:
    """config.json, reals.png and fakes_init.png of a new run (rank 0)."""
    if not run.dist.is_main:
        return
    info = run.data.dataset.info()
    meta = {
        "config": run.cfg.to_dict(),
        "dataset": {k: (list(v) if isinstance(v, tuple) else v) for k, v in info.__dict__.items()},
        "world_size": run.dist.world_size,
        "versions": {"torch": torch.__version__},
    }
    from ..fileio import atomic_write_bytes

    atomic_write_bytes(run.run_dir / "config.json", json.dumps(meta, indent=2, sort_keys=True).encode())
    save_reals(run, run.run_dir / "reals.png")
    save_fakes(run, run.run_dir / "fakes_init.png")


def _train_loop(run: TrainingRun, stop_req: StopRequest, *, resume: bool) -> bool:
    """Steps until the run is complete (False) or a stop was requested and the state saved (True)."""
    cfg, reporter, dist_info, device = run.cfg, run.reporter, run.dist, run.device
    if resume:
        reporter.rewind(run.cur_tick, run.cur_nimg)
        reporter.log(f"resuming {run.run_dir.name} at kimg {run.kimg:.3f} (step {run.batch_idx})")
    else:
        write_run_files(run)
    reporter.log(
        f"training {cfg.kimg:g} kimg on {run.data.dataset.name} ({len(run.data.dataset)} images), batch "
        f"{run.step.batch} = {dist_info.world_size} x {run.rounds} x {run.batch_gpu}, device {device}, "
        f"{run.precision_note or 'precision ' + cfg.precision}"
    )
    if cfg.progressive is not None:
        p = cfg.progressive
        reporter.log(
            f"progressive growing from {p.initial_res}x{p.initial_res}: {p.training_kimg:g} kimg per resolution, "
            f"{p.transition_kimg:g} kimg fade-ins; now lod {run.step.lod:.2f} ({run.step.resolution}x"
            f"{run.step.resolution}, batch {run.step.batch}, lr G {run.step.G_lr:g} D {run.step.D_lr:g})"
        )
    if device.type == "cpu" and cfg.precision == "fp32" and native_bf16(device) is not None:
        speedup = bf16_speedup(device)
        if speedup is not None and speedup >= MIN_CPU_SPEEDUP:
            reporter.log(
                f"note: this CPU runs bfloat16 natively ({speedup:.1f}x float32's speed in a convolution): "
                "precision bf16 (or auto) trains faster"
            )
    if run.mixed_fp16:
        reporter.log(
            f"mixed precision: the blocks of the {num_fp16_res(cfg)} highest resolutions of G and D run in float16 "
            "(non-finite gradients are zeroed, as in StyleGAN2-ADA)"
        )
    stopped = False
    while run.cur_nimg < run.total_nimg:
        t0 = time.monotonic()
        streak = run.nonfinite_streak
        begin_step(run)
        batch = fetch_batch(run)
        for i in range(len(run.phases)):
            run_phase(run, i, batch)
        update_ema(run)
        run.cur_nimg += run.step.batch
        run.batch_idx += 1
        adjust_ada(run)
        check_divergence(run, run.nonfinite_streak == streak)
        show_progress(run, time.monotonic() - t0)
        done = run.cur_nimg >= run.total_nimg
        stopped = bool(all_reduce_sum(torch.tensor([1.0 if stop_req.requested else 0.0])).item() > 0)
        tick_ended = done or stopped or run.cur_nimg >= run.tick_start_nimg + cfg.kimg_per_tick * 1000
        if tick_ended:
            end_tick(run)
        maybe_snapshot(run, tick_ended=tick_ended, force=done or stopped)
        if stopped:
            break
    return stopped


def train(
    cfg: TrainConfig,
    run_dir: str | Path,
    *,
    device: torch.device | str = "cpu",
    reporter: Reporter | None = None,
    resume: bool = False,
    stop: StopRequest | None = None,
) -> TrainResult:
    """Train (or continue, with `resume=True`, from `run_dir/training-state.pt`) until `cfg.kimg`.

    Under torchrun each process calls this; the global batch is split across them and only rank 0 writes.
    Returns when the run is complete or after a SIGINT/SIGTERM (state saved, `stopped_early=True`).
    """
    device = torch.device(device)
    dist_info = init_distributed(device.type)
    if device.type == "cuda" and dist_info.world_size > 1:
        device = torch.device("cuda", dist_info.local_rank)
    run_dir = Path(run_dir)
    lock = RunLock(run_dir)
    refused = None
    if dist_info.is_main:
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except StyleGANError as e:
            refused = str(e)
        except OSError as e:  # a read-only or full disk, a file in the way
            refused = f"{run_dir}: cannot train in this folder ({e.strerror or e})"
    refused = gather_objects(refused)[0]  # every rank stops when rank 0 may not train here
    if refused is not None:
        raise StyleGANError(refused)
    try:
        return _train_locked(cfg, run_dir, device, dist_info, reporter, resume, stop)
    except OSError as e:  # an unwritable or full disk, a file that vanished: one line naming it
        if e.filename is None and e.errno not in _DISK_ERRORS:
            raise
        where = e.filename if e.filename is not None else run_dir
        what = str(e) if isinstance(e, OutputError) else f"{where}: {e.strerror or e}"  # OutputError names its path
        raise StyleGANError(
            f"{what}; the files already written (the last snapshot and {STATE_FILENAME}) are "
            "intact: free some space or fix the folder, then resume"
        ) from None
    finally:
        lock.release()


#: Errors of the disk a run writes to.
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}


def _train_locked(
    cfg: TrainConfig,
    run_dir: Path,
    device: torch.device,
    dist_info: DistInfo,
    reporter: Reporter | None,
    resume: bool,
    stop: StopRequest | None,
) -> TrainResult:
    """`train` once the run folder is locked."""
    reporter = reporter if reporter is not None else Reporter(run_dir, enabled=dist_info.is_main)
    # Signals are handled from here on: one that arrives while the run is set up stops it after its first step.
    stop = stop if stop is not None else StopRequest()
    if stop.reporter is None:
        stop.reporter = reporter
    with stop as stop_req:
        run = setup_run(cfg, run_dir, device=device, dist_info=dist_info, reporter=reporter, resume=resume)
        try:
            stopped = _train_loop(run, stop_req, resume=resume)
        except BaseException:  # a second Ctrl-C, a full disk: the data-loader workers must end with the process
            run.data.close()
            raise
    reporter.log("stopped: state saved, resume with --resume" if stopped else f"done: {run.kimg:.3f} kimg")
    reporter.close()
    run.data.close()
    return TrainResult(run_dir, run.cur_nimg, run.batch_idx, stopped, run.last_snapshot, run.last_state)

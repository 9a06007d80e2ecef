"""Starting and continuing runs: the configuration of a new run (from a dataset, a preset and the user's settings),
fine-tuning from a network, which settings may change when a run resumes, and run folder names (`00003-desc`).

`prepare_run` decides all of it and returns a `RunPlan`; `start_run` trains it. A dry run prints the plan instead.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import torch

from ..errors import SettingError, StyleGANError
from ..networks import v1
from ..networks.config import DiscriminatorConfig, GeneratorConfig
from .config import TrainConfig, TrainOptions, build_config, describe_cost, grows
from .distributed import gather_objects, init_distributed
from .state import STATE_FILENAME

if TYPE_CHECKING:
    from .loop import StopRequest

#: Settings (TrainOptions fields) that may change when a run resumes; the others come from its config.json.
RESUMABLE: tuple[str, ...] = (
    "kimg",
    "snap",
    "snap_minutes",
    "kimg_per_tick",
    "workers",
    "data_path",
    "metrics",
    "compile",
    "precision",
)

Notify = Callable[[str], None]


def make_config(
    preset: str, options: TrainOptions, *, world_size: int = 1, notify: Notify | None = None
) -> TrainConfig:
    """The configuration of a new run on the dataset `options.data_path`: the preset resolved for its size and labels
    on `world_size` processes, the options applied, and the fine-tuning policy when `options.resume_from` is set.
    Notes for the user (the dataset's labels) go to `notify`."""
    from ..data.dataset import ImageDataset

    assert options.data_path is not None
    cond = bool(options.cond)
    ds = ImageDataset(options.data_path, use_labels=cond)
    classes = ""
    if ds.class_names:
        names = list(ds.class_names)
        classes = ": " + ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
    if notify is not None and ds.has_labels:
        notify(
            f"conditional training on {ds.label_dim} classes{classes}"
            if cond
            else f"note: {ds.path.name} has labels ({ds.label_dim} classes{classes}); "
            "add --cond to train a conditional model"
        )
    try:
        cfg = build_config(
            preset,
            resolution=ds.resolution,
            img_channels=ds.num_channels,
            c_dim=ds.label_dim if cond else 0,
            gpus=world_size,
            options=options,
        )
    finally:
        ds.close()
    if options.resume_from:
        cfg = fine_tune_from(cfg, options.resume_from, keep_growth=options.lod_initial_res is not None)
    cfg.check_sizes(world_size)  # batch / processes / micro-batch / mbstd group errors now, not in the loop
    return cfg


def fine_tune_from(cfg: TrainConfig, source: str, *, keep_growth: bool = False) -> TrainConfig:
    """`cfg` set up to fine-tune the network `source`: its architecture (read from the file, no weights built), the
    run's minibatch-stddev group and Freeze-D, and StyleGAN2-ADA's `--resume` policy: no EMA ramp-up (G_ema starts
    from a trained network; a ramp-up would first make it a copy of G) and ADA p may move five times faster
    (ada_kimg 100) to suit the new data. A trained network does not grow again: it trains at full resolution from
    the start (unless `keep_growth`, the user chose the initial resolution, and the networks can grow); the
    preset's tables give the full resolution's batch and learning rates."""
    from .. import io as sgio

    info = sgio.inspect(source)
    g_info = info.nets.get("G_ema") or info.nets.get("G")
    if g_info is None:
        raise SettingError(f"{{resume_from}} {source}: the checkpoint holds no generator", "resume_from")
    G = g_info.config
    assert isinstance(G, (GeneratorConfig, v1.GeneratorConfig))
    if (G.img_resolution, G.img_channels) != (cfg.G.img_resolution, cfg.G.img_channels):
        raise SettingError(
            f"{{resume_from}} {source}: the network makes {G.img_resolution}x{G.img_resolution}x{G.img_channels} "
            f"images but the dataset is {cfg.G.img_resolution}x{cfg.G.img_resolution}x{cfg.G.img_channels}",
            "resume_from",
        )
    if G.c_dim != cfg.G.c_dim:
        raise SettingError(
            f"{{resume_from}} {source}: the network has c_dim={G.c_dim}, the run needs {cfg.G.c_dim} "
            "(check {cond} and the dataset's labels)",
            "resume_from",
            "cond",
            "cond",
        )
    d_info = info.nets.get("D")
    D = d_info.config if d_info is not None else None
    group = cfg.D.mbstd_group_size
    if isinstance(G, v1.GeneratorConfig):
        if not isinstance(D, v1.DiscriminatorConfig):
            D = v1.DiscriminatorConfig(
                c_dim=G.c_dim,
                img_resolution=G.img_resolution,
                img_channels=G.img_channels,
                channel_base=G.channel_base,
                channel_max=G.channel_max,
                blur_filter=G.blur_filter,
            )
        D = dataclasses.replace(D, mbstd_group_size=group if group is not None else D.mbstd_group_size)
    else:
        if not isinstance(D, DiscriminatorConfig):
            base = cfg.D if isinstance(cfg.D, DiscriminatorConfig) else DiscriminatorConfig(c_dim=G.c_dim)
            D = dataclasses.replace(
                base,
                img_resolution=G.img_resolution,
                img_channels=G.img_channels,
                channel_base=G.channel_base,
                channel_max=G.channel_max,
                conv_clamp=G.conv_clamp,
            )
        freeze = cfg.D.freeze_layers if isinstance(cfg.D, DiscriminatorConfig) else 0
        q_dim = cfg.D.q_dim if isinstance(cfg.D, DiscriminatorConfig) else 0  # the run's Q head (info codes)
        D = dataclasses.replace(D, mbstd_group_size=group, freeze_layers=freeze, q_dim=q_dim)
    cfg = _grown(cfg, keep_growth and grows(G) and grows(D))
    augment = dataclasses.replace(cfg.augment, kimg=100.0)
    return dataclasses.replace(cfg, G=G, D=D, resume_from=str(source), ema_rampup=None, augment=augment)


def _grown(cfg: TrainConfig, keep_growth: bool) -> TrainConfig:
    """`cfg` training at full resolution from the start: no progressive growing, with the batch sizes and learning
    rates its tables give the full resolution (unchanged when `keep_growth` or when `cfg` does not grow)."""
    if cfg.progressive is None or keep_growth:
        return cfg
    step = cfg.schedule(10**18)  # long after the growth ended
    return dataclasses.replace(
        cfg,
        progressive=None,
        batch=step.batch,
        batch_gpu=step.batch_gpu,
        G_opt=dataclasses.replace(cfg.G_opt, lr=step.G_lr),
        D_opt=dataclasses.replace(cfg.D_opt, lr=step.D_lr),
    )


def _check_loaded(obj: object, where: str = "") -> None:
    """ValueError naming the first field of a loaded configuration whose value has the wrong kind: a nested
    configuration that is not an object, a number that is not finite, text or null where a number belongs."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value, kind, name = getattr(obj, f.name), hints[f.name], where + f.name
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            if not isinstance(value, kind):
                raise ValueError(f"{name} must be an object, got {value!r}")
            _check_loaded(value, name + ".")
            continue
        union = typing.get_origin(kind) in (typing.Union, types.UnionType)
        allowed = set(typing.get_args(kind)) if union else {kind}
        if value is None and type(None) in allowed:
            continue
        if dataclasses.is_dataclass(value) and type(value) in allowed:  # one of several configurations (G, D, ...)
            _check_loaded(value, name + ".")
            continue
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if float in allowed and number:
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        elif int in allowed and not (number and isinstance(value, int)):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        elif allowed <= {str, type(None)} and not isinstance(value, str):
            raise ValueError(f"{name} must be text, got {value!r}")


def resume_config(run_dir: Path, options: TrainOptions) -> TrainConfig:
    """The configuration of the run in `run_dir` (its config.json) with the settings `options` gives, which must
    all be RESUMABLE."""
    refuse_on_resume(options.given())
    try:
        saved = json.loads((run_dir / "config.json").read_text())
        cfg = TrainConfig.from_dict(saved["config"])
        _check_loaded(cfg)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as e:
        raise StyleGANError(f"{run_dir}/config.json: cannot read the run's configuration ({e})") from None
    return options.apply(cfg)


def refuse_on_resume(settings: list[str]) -> None:
    """An error naming the `settings` that may not change when a run resumes (any not in RESUMABLE)."""
    bad = sorted(set(settings) - set(RESUMABLE))
    if bad:
        raise SettingError(
            f"{', '.join('{' + b + '}' for b in bad)} cannot change when resuming (the run's config.json is used); "
            f"only {', '.join('{' + r + '}' for r in RESUMABLE[:-1])} and {{{RESUMABLE[-1]}}} may",
            *bad,
            *RESUMABLE,
        )


def find_run_to_resume(target: str, outdir: str | os.PathLike[str] | None, notify: Notify | None = None) -> Path:
    """`latest` -> the run under `outdir` whose training state was saved last (a note goes to `notify` when a run
    folder changed after it has no state: that run stopped before its first save); otherwise `target` is a run
    folder (or its state file)."""
    if target == "latest":
        if outdir is None:
            raise SettingError("{resume} latest needs {outdir} (the folder that holds the runs)", "resume", "outdir")
        root = Path(outdir)
        folders = [d for d in root.glob("*") if d.is_dir()] if root.is_dir() else []
        runs = sorted((d for d in folders if (d / STATE_FILENAME).is_file()), key=_state_time)
        if not runs:
            raise SettingError(f"{{resume}} latest: no run with a {STATE_FILENAME} under {root}", "resume")
        chosen = runs[-1]
        newer = sorted(
            (d for d in folders if RUN_NAME.match(d.name) and not (d / STATE_FILENAME).exists()),
            key=lambda d: d.stat().st_mtime,
        )
        newer = [d for d in newer if d.stat().st_mtime > _state_time(chosen)]
        if newer and notify is not None:
            notify(
                f"note: {newer[-1].name} is newer but has no {STATE_FILENAME} (it stopped before its first save); "
                f"resuming {chosen.name}"
            )
        return chosen
    p = Path(target)
    if p.is_file() and p.name == STATE_FILENAME:
        return p.parent
    if not (p / STATE_FILENAME).is_file():
        raise SettingError(f"{{resume}} {p}: not a run folder with a {STATE_FILENAME}", "resume")
    return p


#: The name of a run folder: its number, a dash, its description.
RUN_NAME = re.compile(r"^(\d+)-")


def _state_time(run_dir: Path) -> float:
    return (run_dir / STATE_FILENAME).stat().st_mtime


#: The lock file of a run folder; a process that trains in the folder holds an exclusive lock on it.
LOCK_FILENAME = "train.lock"


class RunLock:
    """An exclusive lock on a run folder while a process trains in it: `train.lock`, holding the pid, with an
    `fcntl.flock` lock. The operating system releases the lock when the process ends, however it ends, so the file
    a killed process leaves behind does not block the next run. Where `fcntl` is missing (Windows) nothing is
    locked."""

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.path = Path(run_dir) / LOCK_FILENAME
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock, or raise a StyleGANError naming the process that holds it."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        f = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.seek(0)
            pid = f.read().strip() or "?"
            f.close()
            raise StyleGANError(
                f"{self.path.parent}: another process (pid {pid}) is training in this run folder; wait for it to end "
                "or stop it (Ctrl-C or SIGTERM saves its state), then resume"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._file = f

    def release(self) -> None:
        """Give the lock up (the file stays, empty)."""
        if self._file is not None:
            self._file.truncate(0)
            self._file.close()  # closing releases the flock
            self._file = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def run_description(cfg: TrainConfig, extra: str | None = None) -> str:
    """A new run's folder name without its number: `<dataset>-<preset>-batch<N>-gamma<G>[-<augment>][-<extra>]`
    (`wgangp` instead of the gamma for the WGAN-GP loss)."""
    loss = "wgangp" if cfg.loss.kind == "wgan-gp" else f"gamma{cfg.loss.r1_gamma:g}"
    desc = f"{Path(cfg.data.path).stem}-{cfg.preset}-batch{cfg.batch}-{loss}"
    if cfg.augment.kind != "none":
        desc += f"-{cfg.augment.kind}"
    if extra:
        desc += f"-{extra}"
    return desc


def next_run_dir(outdir: Path, description: str) -> Path:
    """`outdir/NNNNN-description`, numbered one past the highest run number under `outdir` (from 00000)."""
    ids = [int(m.group(1)) for d in outdir.glob("*") if (m := RUN_NAME.match(d.name)) and d.is_dir()]
    return outdir / f"{max(ids, default=-1) + 1:05d}-{description}"


def new_run_dir(outdir: Path, description: str) -> Path:
    """Create and return the next free `outdir/NNNNN-description` (two runs started together get different
    numbers)."""
    run_dir = next_run_dir(outdir, description)
    number = int(run_dir.name.split("-", 1)[0])
    while True:
        try:
            run_dir.mkdir(parents=True)
            return run_dir
        except FileExistsError:
            number += 1
            run_dir = outdir / f"{number:05d}-{description}"
        except OSError as e:
            raise StyleGANError(f"{outdir}: cannot create a run folder there ({e.strerror or e})") from None


@dataclass(frozen=True)
class RunPlan:
    """A run about to start (`description` is its folder name without the number, which `start_run` chooses) or to
    continue (`description` is None and `folder` is the run's folder)."""

    config: TrainConfig
    folder: Path  # the run's folder when resuming, else the folder that holds the runs
    description: str | None
    world_size: int
    is_main: bool  # the process that prints and writes files

    @property
    def resume(self) -> bool:
        """True when the plan continues a run."""
        return self.description is None

    @property
    def run_dir(self) -> Path:
        """The run's folder (`NNNNN-description` for a new run, as its number is not chosen yet)."""
        return self.folder if self.description is None else self.folder / f"NNNNN-{self.description}"

    def cost(self) -> str:
        """What the run will do and cost (`describe_cost`)."""
        return describe_cost(self.config, self.world_size)


def prepare_run(
    options: TrainOptions,
    *,
    preset: str | None = None,
    outdir: Path | None = None,
    resume: str | None = None,
    description: str | None = None,
    device: torch.device,
    notify: Notify | None = None,
) -> RunPlan:
    """Plan a new run (dataset `options.data_path`, `preset` or `auto`, runs under `outdir`, `description` added to
    the folder name) or, with `resume` (`latest` under `outdir`, or a run folder), the continuation of a run, where
    only RESUMABLE settings may be given. Joins the torchrun process group, if any."""
    from .loop import configure_backends

    configure_backends(device)
    dist_info = init_distributed(device.type)
    if resume:
        if options.resume_from:
            raise SettingError(
                "{resume} continues a run; {resume_from} starts a new one: give one of them", "resume", "resume_from"
            )
        given = options.given() + (["preset"] if preset else []) + (["description"] if description else [])
        refuse_on_resume(given)
        run_dir = find_run_to_resume(resume, outdir, notify if dist_info.is_main else None)
        cfg = resume_config(run_dir, options)
        return RunPlan(cfg, run_dir, None, dist_info.world_size, dist_info.is_main)
    if not options.data_path or not outdir:
        raise SettingError(
            "{data_path} and {outdir} are required (or {resume} to continue a run)", "data_path", "outdir", "resume"
        )
    cfg = make_config(preset or "auto", options, world_size=dist_info.world_size, notify=notify)
    return RunPlan(cfg, Path(outdir), run_description(cfg, description), dist_info.world_size, dist_info.is_main)


def start_run(plan: RunPlan, device: torch.device, stop: StopRequest | None = None) -> Path:
    """Train the planned run (a new run gets the next free number under its folder); returns the run folder.
    `stop`: the signal handler to use (see `StopRequest`), when the caller entered one already."""
    from .loop import train

    run_dir = plan.folder
    if plan.description is not None:
        run_dir = gather_objects(new_run_dir(plan.folder, plan.description) if plan.is_main else None)[0]
    train(plan.config, run_dir, device=device, resume=plan.resume, stop=stop)
    return run_dir

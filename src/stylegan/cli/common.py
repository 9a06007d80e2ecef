"""Shared CLI pieces: parameter types, the click options of several commands, device choice, one-line errors."""

from __future__ import annotations

import math
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..device import DEVICE_NAMES, pick_device
from ..errors import SettingError, StyleGANError
from ..generation import MAX_IMAGES
from ..latents import parse_range

if TYPE_CHECKING:
    from ..networks import Generator


def _flag(param: click.Parameter | None) -> str:
    """How the user spelled an option: its long name (`--seeds`), else its short one, else the setting's name."""
    if param is None:
        return "value"
    opts = list(getattr(param, "opts", []))
    long = [o for o in opts if o.startswith("--")]
    return (long or opts or [param.human_readable_name])[0]


class Number(click.ParamType):
    """A finite int or float in [min, max] (bounds open with `min_open` / `max_open`). A bad value is a one-line
    user error naming the option (exit status 1), not click's usage screen: NaN, inf, huge and negative values are
    refused here, before any work starts."""

    def __init__(
        self,
        kind: type[int] | type[float],
        min: float | None = None,
        max: float | None = None,
        *,
        min_open: bool = False,
        max_open: bool = False,
        what: str = "",
    ) -> None:
        self.kind, self.min, self.max, self.min_open, self.max_open = kind, min, max, min_open, max_open
        self.what = what
        self.name = "integer" if kind is int else "float"

    def _range_text(self) -> str:
        lo = "(" if self.min_open else "["
        hi = ")" if self.max_open else "]"
        return f"{lo}{self.min if self.min is not None else '-inf'}, {self.max if self.max is not None else 'inf'}{hi}"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int | float:
        flag = _flag(param)
        what = f"{self.what} " if self.what else ""
        if isinstance(value, bool):
            raise StyleGANError(f"{flag} {value!r}: expected a number")
        if isinstance(value, (int, float)):
            number: int | float = value
        else:
            text = str(value).strip()
            try:
                number = int(text) if self.kind is int else float(text)
            except ValueError:
                kind = "an integer" if self.kind is int else "a number"
                raise StyleGANError(f"{flag} {text[:40]!r}: expected {kind}") from None
        if not math.isfinite(number):
            raise StyleGANError(f"{flag} {value!r}: {what}must be a finite number")
        too_low = self.min is not None and (number <= self.min if self.min_open else number < self.min)
        too_high = self.max is not None and (number >= self.max if self.max_open else number > self.max)
        if too_low or too_high:
            raise StyleGANError(f"{flag} {str(value)[:40]}: {what}must be in {self._range_text()}")
        return self.kind(number)


def Int(min: int | None = None, max: int | None = None, **kwargs: Any) -> Number:
    """A finite integer option in [min, max]."""
    return Number(int, min, max, **kwargs)


def Float(min: float | None = None, max: float | None = None, **kwargs: Any) -> Number:
    """A finite float option in [min, max] (open bounds with `min_open` / `max_open`)."""
    return Number(float, min, max, **kwargs)


#: An RNG seed: NVIDIA's scripts draw z with numpy's RandomState, which takes [0, 2**32).
SEED = Int(0, 2**32 - 1, what="a seed")
#: The most optimisation or training steps of a projection or an encoder run.
MAX_STEPS = 100_000_000
#: The longest video, in seconds (a day).
MAX_DURATION = 86_400.0


class RangeList(click.ParamType):
    """Comma-separated integers and inclusive ranges: `0-3,7` -> [0, 1, 2, 3, 7]; seeds in [0, 2**32), at most
    `MAX_IMAGES` of them (counted before any list is made, so `0-1000000000` is refused at once)."""

    name = "range"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> list[int]:
        if isinstance(value, list):
            return value
        try:
            return parse_range(str(value), lo=0, hi=2**32, max_count=MAX_IMAGES, what="seeds")
        except ValueError as e:
            raise StyleGANError(f"{_flag(param)}: {e}") from None


class GridShape(click.ParamType):
    """`RxC` grid shape (rows x columns), e.g. `4x8`: at most `MAX_IMAGES` cells (the grid's pixel count is checked
    against the network's resolution once it is known)."""

    name = "RxC"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        try:
            r, c = str(value).lower().split("x")
            rows, cols = int(r), int(c)
            if rows < 1 or cols < 1:
                raise ValueError
        except ValueError:
            raise StyleGANError(f"{_flag(param)}: expected ROWSxCOLS such as 4x8, got {str(value)[:40]!r}") from None
        if rows * cols > MAX_IMAGES:
            raise StyleGANError(
                f"{_flag(param)} {rows}x{cols}: {rows * cols} cells, more than the {MAX_IMAGES} a grid may hold"
            )
        return rows, cols


class Command(click.Command):
    """A command showing a library `SettingError` with its flags (`face_index` -> `--face-index`, or `flags`)."""

    def __init__(self, *args: Any, flags: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.flags = dict(flags or {})

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SettingError as e:
            long = {p.name: [o for o in p.opts if o.startswith("--")] for p in self.params if p.name}
            names = {name: opts[0] for name, opts in long.items() if opts}
            raise StyleGANError(e.render({**names, **self.flags})) from None


class Group(click.Group):
    """A command group whose sub-commands are `Command`s."""

    command_class = Command


#: The most numbers a comma-separated list option (`--steps -3,0,3`, `--weights`) may hold.
MAX_LIST = 10_000


def floats(text: str, flag: str, *, limit: float = 1e6) -> list[float]:
    """Comma-separated finite numbers in [-limit, limit], e.g. `-3,0,3`; a user error names `flag`."""
    parts = [x for x in text.replace(" ", "").split(",") if x]
    if len(parts) > MAX_LIST:
        raise StyleGANError(f"{flag}: {len(parts)} numbers, more than {MAX_LIST}")
    try:
        vals = [float(x) for x in parts]
    except ValueError:
        raise StyleGANError(f"{flag}: expected comma-separated numbers such as -3,0,3, got {text[:40]!r}") from None
    if not vals:
        raise StyleGANError(f"{flag}: no numbers in {text!r}")
    bad = [x for x in vals if not (math.isfinite(x) and abs(x) <= limit)]
    if bad:
        raise StyleGANError(f"{flag}: {bad[0]} is not a finite number in [-{limit:g}, {limit:g}]")
    return vals


device_option = click.option(
    "--device",
    type=click.Choice(DEVICE_NAMES),
    default="auto",
    show_default=True,
    help="Where to run; auto = CUDA, then MPS, then CPU.",
)
network_option = click.option(
    "--network",
    "network",
    metavar="NAME|PATH|URL",
    default=None,
    help="Registry name, checkpoint file (.safetensors, NVIDIA .pkl, rosinality .pt) or URL. Default: the bundled "
    "`emoji` network.",
)
trunc_option = click.option(
    "--trunc",
    "--psi",
    "psi",
    type=Float(-100, 100, what="truncation"),
    default=1.0,
    show_default=True,
    help="Truncation psi: w' = w_avg + psi (w - w_avg). 1 = off, 0.5-0.7 = cleaner but less varied.",
)
cutoff_option = click.option(
    "--trunc-cutoff",
    "truncation_cutoff",
    type=Int(0, 10_000),
    default=None,
    help="Truncate only layers < K (default: all layers).",
)
class_option = click.option(
    "--class", "class_idx", type=Int(0, 2**31 - 1), default=None, help="Class label for conditional networks."
)
noise_option = click.option(
    "--noise-mode",
    type=click.Choice(["const", "random", "none"]),
    default="const",
    show_default=True,
    help="Per-pixel noise: the network's stored maps (const), fresh noise (random), or none.",
)
#: The largest batch any command runs at once.
MAX_BATCH = 4096
batch_option = click.option("--batch", "batch_size", type=Int(1, MAX_BATCH), default=8, show_default=True)
#: Frames per second of a video (GIF players cap far below this anyway).
MAX_FPS = 240.0
fps_option = click.option("--fps", type=Float(0, MAX_FPS, min_open=True), default=30.0, show_default=True)
LATENT_HELP = "seed:N (seed:0-3 for several) or a latent file (projected_w.npz, encoder output .npz, .npy)."
latent_option = click.option("--latent", "latent", required=True, help=LATENT_HELP)


def outdir_option(help: str) -> Any:
    """The required `--outdir` folder option (a path that is a file is refused by the writer, in one line)."""
    return click.option("--outdir", type=click.Path(path_type=Path), required=True, help=help)


def face_index_option(help: str) -> Any:
    """`--face-index`: which face of a photo (0 = the largest)."""
    return click.option("--face-index", type=Int(0, 10_000), default=None, help=help)


def perceptual_option(help: str = "Which LPIPS network (see `stylegan project`).") -> Any:
    """`--perceptual`: which LPIPS network."""
    choice = click.Choice(["auto", "nvidia", "offline"])
    return click.option("--perceptual", type=choice, default="auto", show_default=True, help=help)


def loss_option(default: str | None, help: str | None = None) -> Any:
    """`--loss lpips|mse`: the projection distance."""
    choice = click.Choice(["lpips", "mse"])
    return click.option("--loss", type=choice, default=default, show_default=default is not None, help=help)


def w_avg_samples_option(default: int | None, help: str | None = None) -> Any:
    """`--w-avg-samples`: z samples for a projection's w_avg."""
    kind = Int(1, 100_000)
    return click.option("--w-avg-samples", type=kind, default=default, show_default=default is not None, help=help)


def space_option(default: str | None, help: str | None = None) -> Any:
    """`--space w|w+`: the latent space of a projection."""
    choice = click.Choice(["w", "w+"])
    return click.option("--space", type=choice, default=default, show_default=default is not None, help=help)


class Terminated(BaseException):
    """Raised in the main thread when SIGTERM or SIGHUP arrives, so that every `finally` (and every atomic write's
    clean-up) runs before the process exits. A command that has its own handler (training) replaces it meanwhile."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


_MAIN_PID = os.getpid()


def _terminate(signum: int, frame: object) -> None:
    if os.getpid() != _MAIN_PID:  # a forked worker: die of the signal, as it would without this handler
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise Terminated(signum)


def run_cli(group: click.Group, argv: Sequence[str]) -> None:
    """Run the click group; a StyleGANError (a user mistake) prints one line `error: ...` and exits with 1.

    A `SettingError` that no `Command` rendered names each setting as the option of the same name (`fp16` is
    shown as `--fp16`). SIGTERM and SIGHUP unwind like Ctrl-C (temp files are removed, finished files stay) and
    exit with 128 + the signal number after one line `stopped by SIGTERM`.
    """
    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _terminate)
    try:
        group.main(args=list(argv), prog_name="stylegan", standalone_mode=True)
    except Terminated as e:
        click.echo(f"stopped by {signal.Signals(e.signum).name}", err=True)
        sys.exit(128 + e.signum)
    except StyleGANError as e:
        if isinstance(e, SettingError):
            message = e.render({name: "--" + name.replace("_", "-") for name in e.settings})
        else:
            message = str(e)
        click.echo(f"error: {message}", err=True)
        sys.exit(1)


def load_network_for_cli(network: str | None, device: str | None = None) -> Generator:
    """Load the generator a command was pointed at (or the default network) onto the chosen device, in eval mode."""
    from ..io import load, resolve_network

    return load(resolve_network(network), device=pick_device(device))

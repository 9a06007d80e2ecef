"""Shared CLI pieces: the click options of several commands, SettingError rendering, device choice, one-line errors
and signals. Parameter types are in `params`."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..device import DEVICE_NAMES, pick_device
from ..errors import SettingError, StyleGANError
from .params import Float, Int

if TYPE_CHECKING:
    from ..networks import Generator


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
    help="Truncate only layers < K (default: all layers; 8 for StyleGAN v1 networks, as NVIDIA's code).",
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


#: click >= 8.2 raises this for a group called without a sub-command (older versions print the help themselves).
_NO_ARGS_IS_HELP: tuple[type[Exception], ...] = tuple(
    t for t in [getattr(click.exceptions, "NoArgsIsHelpError", None)] if isinstance(t, type)
)


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
        code = group.main(args=list(argv), prog_name="stylegan", standalone_mode=False)
    except click.Abort:  # Ctrl-C outside a command's own handling, as click reports it
        click.echo("Aborted!", err=True)
        sys.exit(1)
    except click.ClickException as e:  # a usage mistake (bad option value, unknown option): one line too
        if isinstance(e, _NO_ARGS_IS_HELP):  # `stylegan` or `stylegan dataset` alone: the help, as click shows it
            e.show()
            sys.exit(e.exit_code)
        message = " ".join(e.format_message().split()).rstrip(".")
        ctx = getattr(e, "ctx", None)
        hint = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
        click.echo(f"error: {message}{hint}", err=True)
        sys.exit(e.exit_code)
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
    sys.exit(code if isinstance(code, int) else 0)


def load_network_for_cli(network: str | None, device: str | None = None) -> Generator:
    """Load the generator a command was pointed at (or the default network) onto the chosen device, in eval mode."""
    from ..io import load, resolve_network

    return load(resolve_network(network), device=pick_device(device))

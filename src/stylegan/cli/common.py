"""Shared CLI pieces: parameter types, the click options of several commands, device choice, one-line errors."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..device import DEVICE_NAMES, pick_device
from ..errors import SettingError, StyleGANError
from ..latents import parse_range

if TYPE_CHECKING:
    from ..networks import Generator


class RangeList(click.ParamType):
    """Comma-separated integers and inclusive ranges: `0-3,7` -> [0, 1, 2, 3, 7]."""

    name = "range"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> list[int]:
        if isinstance(value, list):
            return value
        try:
            return parse_range(str(value))
        except ValueError as e:
            self.fail(str(e), param, ctx)


class GridShape(click.ParamType):
    """`RxC` grid shape (rows x columns), e.g. `4x8`."""

    name = "RxC"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        try:
            r, c = str(value).lower().split("x")
            rows, cols = int(r), int(c)
            if rows < 1 or cols < 1:
                raise ValueError
            return rows, cols
        except ValueError:
            self.fail(f"expected ROWSxCOLS such as 4x8, got {value!r}", param, ctx)


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


def floats(text: str, flag: str) -> list[float]:
    """Comma-separated numbers, e.g. `-3,0,3`; a user error names `flag`."""
    try:
        vals = [float(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise StyleGANError(f"{flag}: expected comma-separated numbers such as -3,0,3, got {text!r}") from None
    if not vals:
        raise StyleGANError(f"{flag}: no numbers in {text!r}")
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
    type=float,
    default=1.0,
    show_default=True,
    help="Truncation psi: w' = w_avg + psi (w - w_avg). 1 = off, 0.5-0.7 = cleaner but less varied.",
)
cutoff_option = click.option(
    "--trunc-cutoff",
    "truncation_cutoff",
    type=click.IntRange(min=0),
    default=None,
    help="Truncate only layers < K (default: all layers).",
)
class_option = click.option(
    "--class", "class_idx", type=click.IntRange(min=0), default=None, help="Class label for conditional networks."
)
noise_option = click.option(
    "--noise-mode",
    type=click.Choice(["const", "random", "none"]),
    default="const",
    show_default=True,
    help="Per-pixel noise: the network's stored maps (const), fresh noise (random), or none.",
)
batch_option = click.option("--batch", "batch_size", type=click.IntRange(min=1), default=8, show_default=True)
fps_option = click.option("--fps", type=click.FloatRange(min=0, min_open=True), default=30.0, show_default=True)
LATENT_HELP = "seed:N (seed:0-3 for several) or a latent file (projected_w.npz, encoder output .npz, .npy)."
latent_option = click.option("--latent", "latent", required=True, help=LATENT_HELP)


def outdir_option(help: str) -> Any:
    """The required `--outdir` folder option."""
    return click.option("--outdir", type=click.Path(file_okay=False, path_type=Path), required=True, help=help)


def face_index_option(help: str) -> Any:
    """`--face-index`: which face of a photo (0 = the largest)."""
    return click.option("--face-index", type=click.IntRange(min=0), default=None, help=help)


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
    kind = click.IntRange(min=1)
    return click.option("--w-avg-samples", type=kind, default=default, show_default=default is not None, help=help)


def space_option(default: str | None, help: str | None = None) -> Any:
    """`--space w|w+`: the latent space of a projection."""
    choice = click.Choice(["w", "w+"])
    return click.option("--space", type=choice, default=default, show_default=default is not None, help=help)


def run_cli(group: click.Group, argv: Sequence[str]) -> None:
    """Run the click group; a StyleGANError (a user mistake) prints one line `error: ...` and exits with 1.

    A `SettingError` that no `Command` rendered names each setting as the option of the same name (`fp16` is
    shown as `--fp16`).
    """
    try:
        group.main(args=list(argv), prog_name="stylegan", standalone_mode=True)
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

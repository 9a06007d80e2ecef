"""Shared CLI pieces: parameter types, device choice, and turning user errors into one clear line."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click
import torch

from ..errors import StyleGANError
from ..io.pretrained import BUNDLED_NETWORK
from ..latents import parse_range


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


def pick_device(name: str | None = None) -> torch.device:
    """`cpu`, `cuda`, `mps`, or None for the best available one. Asking for a missing device is a user error."""
    if name is None or name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise StyleGANError("--device cuda was requested but no CUDA device is available; use --device cpu")
    if name == "mps" and not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
        raise StyleGANError("--device mps was requested but MPS is not available; use --device cpu")
    return torch.device(name)


device_option = click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda", "mps"]),
    default="auto",
    show_default=True,
    help="Where to run; auto = CUDA, then MPS, then CPU.",
)


def run_cli(group: click.Group, argv: Sequence[str]) -> None:
    """Run the click group; a StyleGANError (a user mistake) prints one line `error: ...` and exits with 1."""
    try:
        group.main(args=list(argv), prog_name="stylegan", standalone_mode=True)
    except StyleGANError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)


#: The network used when a command gets no --network: the one shipped inside the package (works offline).
DEFAULT_NETWORK: str | None = BUNDLED_NETWORK


def load_network_for_cli(network: str | None, device: str | None = None, which: str = "G_ema"):
    """Load the network a command was pointed at (or the default one) onto the chosen device, in eval mode."""
    from ..io import load

    if network is None:
        if DEFAULT_NETWORK is None:
            raise StyleGANError("--network is required: a registry name, a checkpoint file or a URL")
        network = DEFAULT_NETWORK
    return load(network, which=which, device=pick_device(device))  # type: ignore[arg-type]

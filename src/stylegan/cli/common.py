"""Shared CLI pieces: parameter types, device choice, and turning user errors into one clear line."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

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


device_option = click.option(
    "--device",
    type=click.Choice(DEVICE_NAMES),
    default="auto",
    show_default=True,
    help="Where to run; auto = CUDA, then MPS, then CPU.",
)


def run_cli(group: click.Group, argv: Sequence[str]) -> None:
    """Run the click group; a StyleGANError (a user mistake) prints one line `error: ...` and exits with 1.

    A `SettingError` names the setting as its option: `fp16` is shown as `--fp16`.
    """
    try:
        group.main(args=list(argv), prog_name="stylegan", standalone_mode=True)
    except StyleGANError as e:
        message = e.message_for("--" + e.setting.replace("_", "-")) if isinstance(e, SettingError) else str(e)
        click.echo(f"error: {message}", err=True)
        sys.exit(1)


def load_network_for_cli(network: str | None, device: str | None = None) -> Generator:
    """Load the generator a command was pointed at (or the default network) onto the chosen device, in eval mode."""
    from ..io import load, resolve_network

    return load(resolve_network(network), device=pick_device(device))

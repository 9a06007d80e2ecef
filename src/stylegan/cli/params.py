"""Click parameter types shared by the commands: bounded finite numbers, seed ranges, grid shapes, number lists.

Each refuses a bad value with one line naming the option (exit status 1), never click's usage screen.
"""

from __future__ import annotations

import math
from typing import Any

import click

from ..errors import StyleGANError
from ..generation import MAX_IMAGES
from ..latents import parse_range


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


class FloatList(click.ParamType):
    """Comma-separated finite numbers, e.g. `0.5,-1` -> [0.5, -1.0] (at most 64 of them)."""

    name = "numbers"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> list[float]:
        if isinstance(value, list):
            return value
        parts = [p.strip() for p in str(value).split(",")]
        try:
            out = [float(p) for p in parts]
            if len(out) > 64 or not all(math.isfinite(v) for v in out):
                raise ValueError
        except ValueError:
            raise StyleGANError(
                f"{_flag(param)}: expected up to 64 comma-separated numbers such as 0.5,-1, got {str(value)[:40]!r}"
            ) from None
        return out


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

"""Progress bars for people and for logs.

On a terminal (or in a Jupyter notebook) `progress_bar` draws a tqdm bar that disappears when done. When stderr is
not a terminal (a log file, CI, a job scheduler) it prints a plain line instead, every 10 % and at the end, and
never a carriage return:

    generating: 40/100 img (40%)

>>> import io
>>> log = io.StringIO()
>>> with progress_bar(4, "demo", enabled=True, stream=log) as bar:
...     for _ in range(4):
...         bar.update(1)
>>> print(log.getvalue(), end="")
demo: 1/4 img (25%)
demo: 2/4 img (50%)
demo: 3/4 img (75%)
demo: 4/4 img (100%)
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TextIO

#: Show a progress bar (when not asked either way) for more items than this.
PROGRESS_THRESHOLD = 8
#: Percent steps between two plain lines when stderr is not a terminal.
LINE_EVERY_PERCENT = 10


class ProgressBar:
    """The no-op bar, and the interface of every bar: `update(n)`, `advance_to(done, total)`, `close()`."""

    def update(self, n: int = 1) -> None:
        """Count `n` more items done."""

    def advance_to(self, done: int, total: int | None = None) -> None:
        """Set the count of items done (and the total, when it became known or changed)."""

    def close(self) -> None:
        """Finish the bar (a terminal bar is erased; a plain-line bar prints its last line)."""

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _TerminalBar(ProgressBar):
    """A tqdm bar (tqdm.auto: a widget in a notebook)."""

    def __init__(self, total: int | None, desc: str, unit: str, unit_scale: bool, initial: int, stream: TextIO) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(
            total=total,
            initial=initial,
            desc=desc,
            unit=unit,
            unit_scale=unit_scale,
            unit_divisor=1024,
            leave=False,
            file=stream,
        )

    def update(self, n: int = 1) -> None:
        self._bar.update(n)

    def advance_to(self, done: int, total: int | None = None) -> None:
        if total is not None and total != self._bar.total:
            self._bar.total = total
            self._bar.refresh()
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def _format_bytes(n: float) -> str:
    """`512 B`, `3.0 MiB`, ...

    >>> _format_bytes(512), _format_bytes(3 * 2**20), _format_bytes(5 * 2**40)
    ('512 B', '3.0 MiB', '5120.0 GiB')
    """
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KiB", "MiB"):
        n /= 1024
        if n < 1024:
            return f"{n:.1f} {unit}"
    return f"{n / 1024:.1f} GiB"


class _LineBar(ProgressBar):
    """Plain lines `desc: done/total unit (pct%)` every LINE_EVERY_PERCENT percent and at the end."""

    def __init__(self, total: int | None, desc: str, unit: str, unit_scale: bool, initial: int, stream: TextIO) -> None:
        self.total, self.n = total, initial
        self._desc, self._unit, self._bytes, self._stream = desc, unit, unit_scale, stream
        self._printed_step = -1  # the last percent step printed (pct // LINE_EVERY_PERCENT)
        self._printed_n: int | None = None
        self._closed = False

    def _line(self) -> str:
        done = _format_bytes(self.n) if self._bytes else str(self.n)
        if not self.total:
            return f"{self._desc}: {done}" + ("" if self._bytes else f" {self._unit}")
        of = f"{_format_bytes(self.total)}" if self._bytes else f"{self.total} {self._unit}"
        return f"{self._desc}: {done}/{of} ({100 * self.n // self.total}%)"

    def _print(self) -> None:
        print(self._line(), file=self._stream, flush=True)
        self._printed_n = self.n

    def _maybe_print(self) -> None:
        if not self.total:
            return
        step = 100 * min(self.n, self.total) // self.total // LINE_EVERY_PERCENT
        if step > self._printed_step:
            self._printed_step = step
            self._print()

    def update(self, n: int = 1) -> None:
        self.n += n
        self._maybe_print()

    def advance_to(self, done: int, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        self.n = done
        self._maybe_print()

    def close(self) -> None:
        if not self._closed and self.n != self._printed_n and (self.n or self.total):
            self._print()
        self._closed = True


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress_bar(
    total: int | None,
    desc: str,
    *,
    unit: str = "img",
    enabled: bool | None = None,
    unit_scale: bool = False,
    initial: int = 0,
    stream: TextIO | None = None,
) -> ProgressBar:
    """A progress bar on `stream` (stderr by default): drawn by tqdm on a terminal or in a notebook, plain lines
    every 10 % and at the end otherwise (see the module docstring). Use as a context manager or call `close()`.

    Args:
        total: items to do (None or 0 = not known yet: `advance_to(done, total)` can set it later).
        desc: what is being done, e.g. "generating".
        unit: what one item is, e.g. "img", "frame", "step".
        enabled: True = always a bar, False = a no-op bar, None = a bar when `total` > PROGRESS_THRESHOLD.
        unit_scale: the items are bytes: show KiB, MiB, ...
        initial: items already done (e.g. a resumed download).
        stream: where to write (for tests); None = `sys.stderr` at the time of the call.
    """
    show = (total or 0) > PROGRESS_THRESHOLD if enabled is None else enabled
    if not show:
        return ProgressBar()
    out = stream if stream is not None else sys.stderr
    bar = _TerminalBar if _is_terminal(out) or (stream is None and _in_notebook()) else _LineBar
    return bar(total, desc, unit, unit_scale, initial, out)


__all__ = ["PROGRESS_THRESHOLD", "ProgressBar", "progress_bar"]

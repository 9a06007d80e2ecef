"""Training statistics and progress: a `Reporter` object passed to the loop (no module-level state).

Rank 0's reporter writes `log.txt` (every printed line), `stats.jsonl` (one JSON record per tick) and, when
the `tensorboard` package is installed, TensorBoard events; it also draws a live progress line on a terminal.
Other ranks' reporters only accumulate, so that statistics can be averaged over all processes.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import torch
from torch import Tensor


def format_duration(seconds: float) -> str:
    """`1h02m`, `3m05s`, `12s`."""
    if not math.isfinite(seconds):
        return "?"
    s = int(round(max(seconds, 0)))
    if s >= 86400:
        return f"{s // 86400}d{s % 86400 // 3600:02d}h"
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


class Reporter:
    """Accumulates named statistics between ticks, writes them, and shows progress.

    Args:
        run_dir: where log.txt, stats.jsonl and TensorBoard events go (None = nowhere).
        enabled: False on ranks other than 0: nothing is printed or written.
        stream: where lines go (stderr by default, so stdout stays clean for `--dry-run` output).
        live: draw the one-line live progress (None = only when `stream` is a terminal).
        tensorboard: write TensorBoard events when the package is installed.
    """

    def __init__(
        self,
        run_dir: str | Path | None = None,
        *,
        enabled: bool = True,
        stream: TextIO | None = None,
        live: bool | None = None,
        tensorboard: bool = True,
    ) -> None:
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.live = live if live is not None else bool(getattr(self.stream, "isatty", lambda: False)())
        self._acc: dict[str, Tensor] = {}  # name -> [count, sum, sum of squares] (float64)
        self._live_len = 0
        self._last_live = 0.0
        self._tb: Any = None
        self._tensorboard = tensorboard
        self._purge_step: int | None = None
        if enabled and self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)

    # ---- statistics --------------------------------------------------------------------------------------------
    def add(self, name: str, value: Tensor | float) -> None:
        """Accumulate one value or a tensor of values (e.g. per-sample losses) under `name`."""
        v = torch.as_tensor(value).detach().flatten().to("cpu", torch.float64)
        v = v[torch.isfinite(v)]
        acc = self._acc.get(name)
        if acc is None:
            acc = self._acc[name] = torch.zeros(3, dtype=torch.float64)
        acc += torch.stack([torch.tensor(float(v.numel()), dtype=torch.float64), v.sum(), v.square().sum()])

    def reduce(self, all_reduce_sum: Callable[[Tensor], Tensor]) -> None:
        """Sum the accumulators over processes (every rank must call it with the same names)."""
        names = sorted(self._acc)
        if not names:
            return
        flat = all_reduce_sum(torch.stack([self._acc[n] for n in names]))
        for n, row in zip(names, flat):
            self._acc[n] = row

    def means(self) -> dict[str, float]:
        """Mean of every statistic since the last `reset`."""
        return {n: float(a[1] / a[0]) if a[0] > 0 else float("nan") for n, a in sorted(self._acc.items())}

    def stds(self) -> dict[str, float]:
        """Standard deviation of every statistic since the last `reset`."""
        out = {}
        for n, a in sorted(self._acc.items()):
            mean = a[1] / a[0] if a[0] > 0 else torch.tensor(float("nan"))
            out[n] = float((a[2] / a[0] - mean**2).clamp(min=0).sqrt()) if a[0] > 0 else float("nan")
        return out

    def reset(self) -> None:
        """Forget the accumulated statistics (called after each tick)."""
        self._acc.clear()

    # ---- output ------------------------------------------------------------------------------------------------
    def progress(self, text: str, *, force: bool = False) -> None:
        """Redraw the live progress line (at most 4 times a second unless forced)."""
        if not (self.enabled and self.live):
            return
        now = time.monotonic()
        if not force and now - self._last_live < 0.25:
            return
        self._last_live = now
        pad = max(self._live_len - len(text), 0)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._live_len = len(text)

    def _clear_live(self) -> None:
        if self._live_len:
            self.stream.write("\r" + " " * self._live_len + "\r")
            self._live_len = 0

    def log(self, text: str) -> None:
        """A permanent line: printed (above the live line) and appended to log.txt."""
        if not self.enabled:
            return
        self._clear_live()
        self.stream.write(text + "\n")
        self.stream.flush()
        if self.run_dir is not None:
            with open(self.run_dir / "log.txt", "a", encoding="utf-8") as f:
                f.write(text + "\n")

    def _tensorboard_writer(self) -> Any:
        """The TensorBoard writer, opened at the first record (None when the package is not installed)."""
        if self._tb is None and self._tensorboard and self.run_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is optional
                self._tensorboard = False
                return None
            self._tb = SummaryWriter(str(self.run_dir), purge_step=self._purge_step)
        return self._tb

    def rewind(self, tick: int, step: int) -> None:
        """Forget what a previous session wrote after the state it resumes from: stats.jsonl keeps the records of
        ticks before `tick` (unreadable lines, such as one cut off by a kill, go too), and TensorBoard hides the
        events of steps after `step` (a new event file with `purge_step`)."""
        if not self.enabled or self.run_dir is None:
            return
        self._purge_step = step + 1
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        path = self.run_dir / "stats.jsonl"
        if not path.is_file():
            return
        kept, dropped = [], 0
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
                keep = int(record["Progress/tick"]) < tick
            except (ValueError, KeyError, TypeError):
                keep = False
            if keep:
                kept.append(line + "\n")
            else:
                dropped += 1
        if dropped:
            from ..fileio import atomic_write_bytes

            atomic_write_bytes(path, "".join(kept).encode("utf-8"))

    def write_stats(self, record: dict[str, float], step: int) -> None:
        """Append a record to stats.jsonl and its scalars to TensorBoard (x axis: `step`, e.g. kimg)."""
        if not self.enabled or self.run_dir is None:
            return
        with open(self.run_dir / "stats.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
        if self._tensorboard_writer() is not None:
            for name, value in record.items():
                if isinstance(value, (int, float)) and math.isfinite(value):
                    self._tb.add_scalar(name, value, global_step=step)
            self._tb.flush()

    def close(self) -> None:
        """Finish the live line and close TensorBoard."""
        if self.enabled:
            self._clear_live()
        if self._tb is not None:
            self._tb.close()
            self._tb = None

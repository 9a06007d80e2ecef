"""The stream of real images for training: a reproducible, resumable order over the dataset, split across ranks.

The order is a fresh seeded permutation of the dataset per epoch; rank r takes every world_size-th item of the
global stream starting at r. The position in the stream is just a count of items, so resuming is a `seek`.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..data.dataset import ImageDataset
from .config import TrainConfig


class StreamSampler(torch.utils.data.Sampler[int]):
    """Infinite sequence of dataset indices for one rank, starting at item `start` of that rank's stream."""

    def __init__(self, size: int, *, seed: int = 0, rank: int = 0, world_size: int = 1, start: int = 0) -> None:
        self.size = size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.start = start
        self._perm_epoch = -1
        self._perm: np.ndarray | None = None

    def index_at(self, pos: int) -> int:
        """Dataset index of this rank's item number `pos`."""
        g = pos * self.world_size + self.rank
        epoch, i = divmod(g, self.size)
        if epoch != self._perm_epoch:
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = torch.randperm(self.size, generator=gen).numpy()
            self._perm_epoch = epoch
        assert self._perm is not None
        return int(self._perm[i])

    def __iter__(self) -> Iterator[int]:
        pos = self.start
        while True:
            yield self.index_at(pos)
            pos += 1


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _ignore_stop_signals(worker_id: int) -> None:
    """DataLoader worker set-up: ignore SIGINT and SIGTERM (the training process handles them), then unblock them."""
    for s in _STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


class BatchStream:
    """Batches of (uint8 images [B, C, H, W], float labels [B, label_dim]) for one rank, in stream order.

    With `workers == 0` images are decoded in the training process (fastest for small data on a CPU);
    otherwise a DataLoader with that many worker processes reads ahead.
    """

    def __init__(
        self,
        dataset: ImageDataset,
        *,
        batch: int,
        seed: int,
        rank: int,
        world_size: int,
        workers: int = 0,
        pin_memory: bool = False,
    ) -> None:
        self.dataset = dataset
        self.batch = batch
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.workers = workers
        self.pin_memory = pin_memory
        self.pos = 0
        self._sampler = StreamSampler(len(dataset), seed=seed, rank=rank, world_size=world_size)
        self._iter: Iterator[tuple[Tensor, Tensor]] | None = None
        self._batches: Any = None  # the DataLoader's iterator, whose workers `close` stops

    @classmethod
    def open(cls, cfg: TrainConfig, *, rank: int, world_size: int, batch: int, pin_memory: bool = False) -> BatchStream:
        """The dataset of `cfg.data`, opened with its labels / mirroring / subset settings."""
        d = cfg.data
        dataset = ImageDataset(
            d.path, use_labels=d.cond, xflip=d.mirror, max_size=d.max_size, seed=cfg.seed, cache=d.cache
        )
        return cls(
            dataset,
            batch=batch,
            seed=cfg.seed,
            rank=rank,
            world_size=world_size,
            workers=d.workers,
            pin_memory=pin_memory,
        )

    def seek(self, pos: int) -> None:
        """Continue from this rank's item number `pos` (items already consumed)."""
        self.pos = pos
        self._stop_loader()

    def set_batch(self, batch: int) -> None:
        """Batches of `batch` items from now on (progressive growing changes the batch with the resolution)."""
        if batch != self.batch:
            self.batch = batch
            self._stop_loader()  # the workers read ahead in the old size; a new loader starts at `pos`

    def _stop_loader(self) -> None:
        self._iter = None
        batches, self._batches = self._batches, None
        shutdown = getattr(batches, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()

    def _loader_iter(self) -> Iterator[tuple[Tensor, Tensor]]:
        """The DataLoader's batches. Its worker processes ignore SIGINT and SIGTERM: a signal to the whole process
        group (Ctrl-C, `timeout`, Slurm, systemd) is the training process's to handle (finish the step, save the
        state); workers end when it closes the loader, or soon after it dies. SIGINT and SIGTERM stay blocked while
        the workers start, so none arrives before they ignore it."""
        sampler = StreamSampler(
            len(self.dataset), seed=self.seed, rank=self.rank, world_size=self.world_size, start=self.pos
        )
        loader = torch.utils.data.DataLoader(
            self.dataset,
            batch_size=self.batch,
            sampler=sampler,
            num_workers=self.workers,
            pin_memory=self.pin_memory,
            prefetch_factor=2,
            persistent_workers=False,
            generator=torch.Generator().manual_seed(0),
            worker_init_fn=_ignore_stop_signals,
        )
        if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
            yield from loader
            return
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        try:
            batches = self._batches = iter(loader)  # starts the workers, which inherit the blocked mask
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        yield from batches

    def next(self) -> tuple[Tensor, Tensor]:
        """The next batch of this rank."""
        if self.workers > 0:
            if self._iter is None:
                self._iter = self._loader_iter()
            images, labels = next(self._iter)
        else:
            items = [self.dataset[self._sampler.index_at(self.pos + i)] for i in range(self.batch)]
            images = torch.from_numpy(np.stack([im for im, _ in items]))
            labels = torch.from_numpy(np.stack([lab for _, lab in items]))
        self.pos += self.batch
        return images, labels

    def random_labels(self, n: int, generator: torch.Generator) -> Tensor:
        """Labels of `n` random dataset items (what conditional generation is trained on)."""
        idx = torch.randint(len(self.dataset), [n], generator=generator, device=generator.device).cpu()
        return torch.from_numpy(np.stack([self.dataset.get_label(int(i)) for i in idx]))

    def grid_indices(self, n: int, seed: int) -> list[int]:
        """`n` dataset items for the reals / fakes grids: a seeded choice, covering every class when labelled."""
        rng = np.random.RandomState(seed % (1 << 31))
        order = rng.permutation(len(self.dataset))
        if not self.dataset.use_labels:
            return [int(order[i % len(order)]) for i in range(n)]
        by_class: dict[int, list[int]] = {}
        for i in order:
            by_class.setdefault(int(np.argmax(self.dataset.get_label(int(i)))), []).append(int(i))
        classes = sorted(by_class)
        out: list[int] = []
        while len(out) < n:  # round-robin over classes, so every row shows each class in turn
            for k in classes:
                bucket = by_class[k]
                out.append(bucket[len(out) // len(classes) % len(bucket)])
                if len(out) == n:
                    break
        return out

    def close(self) -> None:
        """Stop worker processes and close files.

        The workers ignore SIGTERM, so they are stopped here, by the loader's own shutdown (they would outlive an
        interpreter that exits without it, and its exit would wait for them forever)."""
        self._stop_loader()
        self.dataset.close()

"""Feature statistics of real and generated images, as NVIDIA's metrics compute them, and the on-disk cache of the
real-image statistics.

Reals: the dataset's uint8 images in file order (no x-flip), the first `max_items` of them, grayscale repeated to
three channels. Fakes: `G(z, c, truncation_psi=1, noise_mode="random")` with z ~ N(0, I) and c a random dataset
label (conditional networks), quantised like NVIDIA's `(x * 127.5 + 128).clamp(0, 255).to(uint8)`.

Randomness is reproducible and private: everything is drawn inside `torch.random.fork_rng` seeded with `seed`
(z, then the generator's per-pixel noise, batch after batch) and labels from `numpy.random.RandomState(seed)`, so
a metric neither depends on nor disturbs the caller's random state (a training loop's, for one).

Cache: `<cache>/metrics/stats/<dataset>-<detector>-<key>.npz` (plain arrays, read with `allow_pickle=False`),
keyed by the sha256 of the dataset's content, the detector file's sha256 and the options. The dataset's content
hash itself is memoised in `<cache>/metrics/dataset-hashes.json` while the files' names, sizes and mtimes stay
the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from ..errors import StyleGANError
from ..fileio import atomic_open, atomic_write_bytes
from .detectors import Detector, metrics_cache_dir

log = logging.getLogger(__name__)

FeatureMode = Literal["features", "probabilities"]
_CACHE_FORMAT = 1


class FeatureStats:
    """Running statistics of feature vectors: mean and (biased, 1/N) covariance in float64, and optionally every
    vector, as NVIDIA's `FeatureStats`.

    >>> s = FeatureStats(capture_all=True)
    >>> s.append(np.array([[0.0, 2.0], [2.0, 0.0]]))
    >>> s.mean.tolist(), s.cov.tolist(), s.num_items
    ([1.0, 1.0], [[1.0, -1.0], [-1.0, 1.0]], 2)
    """

    def __init__(self, capture_all: bool = False, max_items: int | None = None) -> None:
        self.capture_all = capture_all
        self.max_items = max_items
        self.num_items = 0
        self.num_features: int | None = None
        self._sum: np.ndarray | None = None
        self._outer: np.ndarray | None = None
        self._all: list[np.ndarray] = []

    @property
    def is_full(self) -> bool:
        return self.max_items is not None and self.num_items >= self.max_items

    def append(self, x: np.ndarray | Tensor) -> None:
        """Add feature vectors [N, D] (beyond `max_items` they are ignored)."""
        x = x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x)
        x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
        if self.max_items is not None:
            x = x[: max(self.max_items - self.num_items, 0)]
        if self.num_features is None:
            self.num_features = x.shape[1]
            self._sum = np.zeros(self.num_features, np.float64)
            self._outer = np.zeros((self.num_features, self.num_features), np.float64)
        elif x.shape[1] != self.num_features:
            raise ValueError(f"expected {self.num_features} features, got {x.shape[1]}")
        if not len(x):
            return
        x64 = x.astype(np.float64)
        self._sum += x64.sum(axis=0)
        self._outer += x64.T @ x64
        if self.capture_all:
            self._all.append(x)
        self.num_items += len(x)

    def _need(self) -> tuple[np.ndarray, np.ndarray]:
        """(sum, outer), or an error when nothing was collected."""
        if self.num_items == 0 or self._sum is None or self._outer is None:
            raise StyleGANError("no feature vectors were collected (empty dataset or zero samples)")
        return self._sum, self._outer

    @property
    def mean(self) -> np.ndarray:
        total, _ = self._need()
        return total / self.num_items

    @property
    def cov(self) -> np.ndarray:
        """Biased covariance, E[x x^T] - mean mean^T (NVIDIA's definition)."""
        mean = self.mean
        _, outer = self._need()
        return outer / self.num_items - np.outer(mean, mean)

    def get_all(self) -> np.ndarray:
        """Every captured vector, float32 [N, D]."""
        if not self.capture_all:
            raise ValueError("these statistics were collected without capture_all")
        self._need()
        return np.concatenate(self._all, axis=0)

    # ---- persistence: a plain .npz, no pickles --------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str], meta: dict[str, Any]) -> Path:
        """Write an .npz (sum, outer, num_items, meta JSON, and the vectors when captured) atomically."""
        total, outer = self._need()
        arrays: dict[str, Any] = {
            "sum": total,
            "outer": outer,
            "num_items": np.array(self.num_items, np.int64),
            "meta": np.array(json.dumps(meta)),
        }
        if self.capture_all:
            arrays["features"] = self.get_all()
        path = Path(path)
        with atomic_open(path) as f:
            np.savez(f, **arrays)
        return path

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> tuple[FeatureStats, dict[str, Any]]:
        with np.load(path, allow_pickle=False) as data:
            stats = cls(capture_all="features" in data.files)
            stats._sum = data["sum"]
            stats._outer = data["outer"]
            stats.num_items = int(data["num_items"])
            stats.num_features = int(stats._sum.shape[0])
            if stats.capture_all:
                stats._all = [data["features"]]
            meta = json.loads(str(data["meta"]))
        return stats, meta


# ---------------------------------------------------------------------------------------------------------
# Image preparation


def quantize_fakes(img: Tensor) -> Tensor:
    """Generator output [N, C, H, W] in [-1, 1] -> uint8, NVIDIA's way: (x * 127.5 + 128).clamp(0, 255), truncated.

    >>> quantize_fakes(torch.tensor([-1.0, -0.004, 0.0, 0.9961, 1.0]).reshape(1, 1, 1, 5)).flatten().tolist()
    [0, 127, 128, 255, 255]
    """
    return (img * 127.5 + 128).clamp(0, 255).to(torch.uint8)


@contextmanager
def private_rng(seed: int, device: torch.device | str) -> Iterator[None]:
    """Seed torch's global generators for the block and restore the caller's state afterwards."""
    device = torch.device(device)
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class LabelSampler:
    """Random class labels c for a conditional generator, drawn as NVIDIA's metrics draw them: the label of a
    uniformly random dataset item (`numpy.random.RandomState(seed)`). Unconditional networks get None."""

    def __init__(self, c_dim: int, dataset: Any | None, seed: int, device: torch.device | str) -> None:
        self.c_dim = c_dim
        self.device = torch.device(device)
        self.rng = np.random.RandomState(seed % (1 << 32))
        self.dataset = dataset
        if c_dim == 0:
            return
        if dataset is None:
            raise StyleGANError(f"this network is conditional ({c_dim} classes): pass --data so labels can be drawn")
        if not getattr(dataset, "has_labels", False):
            raise StyleGANError(
                f"this network is conditional ({c_dim} classes) but {dataset.path} has no dataset.json labels"
            )
        if dataset.label_dim != c_dim:
            raise StyleGANError(
                f"this network has {c_dim} classes but {dataset.path} has labels of dimension {dataset.label_dim}"
            )

    def __call__(self, n: int) -> Tensor | None:
        if self.c_dim == 0:
            return None
        dataset = self.dataset
        assert dataset is not None  # a conditional sampler has one (checked in __init__)
        idx = [int(self.rng.randint(len(dataset))) for _ in range(n)]
        return torch.from_numpy(np.stack([dataset.get_label(i) for i in idx])).to(self.device)


def open_dataset(data: Any, use_labels: bool = False) -> Any:
    """An `ImageDataset` for a path (or the dataset itself), read in file order, without x-flip; with labels on when
    `use_labels` and the dataset has them (LabelSampler reports a dataset without labels)."""
    from ..data import ImageDataset

    if data is None:
        raise StyleGANError("this metric needs a dataset: pass --data (a dataset folder or zip)")
    base = data if isinstance(data, ImageDataset) else ImageDataset(Path(data))
    if use_labels and base.has_labels and not base.use_labels:
        return ImageDataset(base.path, use_labels=True, resolution=base.resolution)
    return base


def _bar(total: int, progress: bool | None, desc: str) -> Any:
    from ..progress import progress_bar

    return progress_bar(total, desc, enabled=progress)


# ---------------------------------------------------------------------------------------------------------
# Dataset content hash and the statistics cache


def _dataset_files(path: Path) -> list[tuple[str, Path]]:
    if path.is_file():
        return [(path.name, path)]
    files = sorted(p for p in path.rglob("*") if p.is_file())
    out = []
    for p in files:
        rel = p.relative_to(path).as_posix()
        if not any(part.startswith(".") for part in rel.split("/")):
            out.append((rel, p))
    return out


def dataset_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 over the names and bytes of a dataset's files (or of the zip), memoised by names, sizes and mtimes."""
    root = Path(path).resolve()
    if not root.exists():
        raise StyleGANError(f"{root}: no such dataset")
    files = _dataset_files(root)
    signature = hashlib.sha256()
    for rel, p in files:
        st = p.stat()
        signature.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    memo_path = metrics_cache_dir() / "dataset-hashes.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    entry = memo.get(str(root))
    if isinstance(entry, dict) and entry.get("signature") == signature.hexdigest():
        return str(entry["sha256"])
    h = hashlib.sha256()
    for rel, p in files:
        h.update(f"{rel}\0{p.stat().st_size}\n".encode())
        with open(p, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    digest = h.hexdigest()
    memo[str(root)] = {"signature": signature.hexdigest(), "sha256": digest}
    try:
        atomic_write_bytes(memo_path, json.dumps(memo, indent=0).encode())
    except OSError as e:  # a read-only cache only costs a re-hash next time
        log.warning("could not write %s: %s", memo_path, e)
    return digest


def stats_cache_path(dataset_name: str, detector: Detector, key: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in dataset_name)[:60]
    return metrics_cache_dir() / "stats" / f"{safe}-{detector.info.name}-{digest}.npz"


def _run_detector(detector: Detector, images: Tensor, mode: FeatureMode) -> Tensor:
    return detector.features(images) if mode == "features" else detector.probabilities(images)


def real_feature_stats(
    data: Any,
    detector: Detector,
    *,
    max_items: int | None = None,
    capture_all: bool = False,
    mode: FeatureMode = "features",
    batch_size: int = 32,
    cache: bool = True,
    progress: bool | None = None,
    desc: str = "reals",
) -> tuple[FeatureStats, dict[str, Any]]:
    """Detector statistics of the first `max_items` real images (all when None), from the cache when possible.

    Returns the statistics and a description of the dataset (path, name, sha256, images used, cache file).
    """
    dataset = open_dataset(data, use_labels=False)
    num = len(dataset) if max_items is None else min(len(dataset), max_items)
    info: dict[str, Any] = {"path": str(dataset.path), "name": dataset.name, "num_images": len(dataset), "used": num}
    cache_file: Path | None = None
    if cache:
        info["sha256"] = dataset_sha256(dataset.path)
        base = {
            "format": _CACHE_FORMAT,
            "dataset_sha256": info["sha256"],
            "detector": detector.info.name,
            "detector_sha256": detector.info.sha256,
            "mode": mode,
            "num_items": num,
            "xflip": False,
        }
        for all_ in [True] if capture_all else [False, True]:  # a capture_all entry also has mean and cov
            candidate = stats_cache_path(dataset.name, detector, {**base, "capture_all": all_})
            if candidate.is_file():
                try:
                    stats, _meta = FeatureStats.from_file(candidate)
                except (OSError, ValueError, KeyError) as e:
                    log.warning("ignoring unreadable statistics cache %s: %s", candidate, e)
                    continue
                info["cache"] = str(candidate)
                info["cached"] = True
                return stats, info
        cache_file = stats_cache_path(dataset.name, detector, {**base, "capture_all": capture_all})

    stats = FeatureStats(capture_all=capture_all, max_items=num)
    bar = _bar(num, progress, desc)
    try:
        for start in range(0, num, batch_size):
            idx = range(start, min(start + batch_size, num))
            images = torch.from_numpy(np.stack([dataset[i][0] for i in idx]))
            stats.append(_run_detector(detector, images, mode))
            bar.update(len(idx))
    finally:
        bar.close()
    if cache_file is not None:
        info["cached"] = False
        try:
            stats.save(cache_file, {**info, "detector": detector.info.to_dict(), "mode": mode})
            info["cache"] = str(cache_file)
        except OSError as e:  # a read-only or full cache only costs a recomputation next time
            log.warning("could not cache the dataset statistics in %s: %s", cache_file, e)
    return stats, info


def generate_images(
    G: Any,
    num: int,
    *,
    labels: LabelSampler,
    batch_size: int = 32,
    device: torch.device | str | None = None,
) -> Iterator[Tensor]:
    """Yield quantised fakes uint8 [B, C, H, W] for the FID/KID/PR/IS protocol (psi = 1, noise_mode='random'),
    `num` in total. Call it inside `private_rng(seed, device)` for reproducible noise (the metrics do)."""
    device = torch.device(device) if device is not None else next(G.parameters()).device
    for start in range(0, num, batch_size):
        n = min(batch_size, num - start)
        z = torch.randn([n, G.z_dim], device=device)
        c = labels(n)
        img = G(z, c, truncation_psi=1, noise_mode="random")
        yield quantize_fakes(img)


@torch.no_grad()
def fake_feature_stats(
    G: Any,
    detector: Detector,
    num: int,
    *,
    labels: LabelSampler,
    capture_all: bool = False,
    mode: FeatureMode = "features",
    batch_size: int = 32,
    seed: int = 0,
    progress: bool | None = None,
    desc: str = "fakes",
    hook: Callable[[Tensor], None] | None = None,
) -> FeatureStats:
    """Detector statistics of `num` generated images (see the module docstring for the sampling protocol).
    `hook(images_uint8)` sees every batch (tests use it)."""
    device = next(G.parameters()).device
    stats = FeatureStats(capture_all=capture_all, max_items=num)
    bar = _bar(num, progress, desc)
    try:
        with private_rng(seed, device):
            for images in generate_images(G, num, labels=labels, batch_size=batch_size, device=device):
                if hook is not None:
                    hook(images)
                stats.append(_run_detector(detector, images, mode))
                bar.update(len(images))
    finally:
        bar.close()
    return stats

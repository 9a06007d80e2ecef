"""Metrics with NVIDIA's protocol: FID, KID, precision/recall, Inception score and perceptual path length.

>>> from stylegan.metrics import parse_metric
>>> parse_metric("fid50k_full").protocol()
{'kind': 'fid', 'num_gen': 50000, 'max_real': None}

Entry points: `compute_metric(G, name, data=...)` (and `compute_metrics` for several), `parse_metric` /
`list_metrics` (the registry), `load_detector` (Inception / VGG16 feature networks), `load_perceptual`
(LPIPS-VGG16 for PPL and projection), and the pure functions `frechet_distance`, `kernel_inception_distance`,
`precision_recall`, `inception_score`, `filtered_mean`.
"""

from .compute import MetricResult, append_jsonl, compute_metric, compute_metrics, default_jsonl_path
from .detectors import Detector, DetectorInfo, load_detector, metrics_cache_dir
from .feature_stats import FeatureStats, dataset_sha256, quantize_fakes
from .fid import frechet_distance
from .inception_score import inception_score
from .kid import kernel_inception_distance
from .perceptual import LPIPSVGG16, load_perceptual
from .ppl import filtered_mean, perceptual_path_length, ppl_images
from .precision_recall import precision_recall
from .registry import STANDARD_METRICS, MetricSpec, list_metrics, parse_metric, parse_metric_list

__all__ = [
    "LPIPSVGG16",
    "STANDARD_METRICS",
    "Detector",
    "DetectorInfo",
    "FeatureStats",
    "MetricResult",
    "MetricSpec",
    "append_jsonl",
    "compute_metric",
    "compute_metrics",
    "dataset_sha256",
    "default_jsonl_path",
    "filtered_mean",
    "frechet_distance",
    "inception_score",
    "kernel_inception_distance",
    "list_metrics",
    "load_detector",
    "load_perceptual",
    "metrics_cache_dir",
    "parse_metric",
    "parse_metric_list",
    "perceptual_path_length",
    "ppl_images",
    "precision_recall",
    "quantize_fakes",
]

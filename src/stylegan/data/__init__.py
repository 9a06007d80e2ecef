"""Datasets: NVIDIA-compatible reader, `prepare` (dataset-tool operations) and `check` (reports)."""

from .check import CheckReport, check_dataset
from .dataset import DatasetInfo, ImageDataset
from .imageops import TRANSFORMS, decode_image, fit_image, to_channels
from .prepare import PrepareReport, archive_name, prepare_dataset

__all__ = [
    "TRANSFORMS",
    "CheckReport",
    "DatasetInfo",
    "ImageDataset",
    "PrepareReport",
    "archive_name",
    "check_dataset",
    "decode_image",
    "fit_image",
    "prepare_dataset",
    "to_channels",
]

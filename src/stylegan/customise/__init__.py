"""Customised generation: a classifier for labelled datasets, dataset filtering, and a Z-code generator that steers
a frozen network towards a class."""

from .classifier import Classifier, ClassifierConfig, load_classifier, save_classifier, train_classifier
from .filter import FilterReport, filter_dataset
from .zgen import ZCodeGenerator, evaluate_zgen, load_zgen, save_zgen, train_zgen, zgen_images, zgen_latents

__all__ = [
    "Classifier",
    "ClassifierConfig",
    "FilterReport",
    "ZCodeGenerator",
    "evaluate_zgen",
    "filter_dataset",
    "load_classifier",
    "load_zgen",
    "save_classifier",
    "save_zgen",
    "train_classifier",
    "train_zgen",
    "zgen_images",
    "zgen_latents",
]

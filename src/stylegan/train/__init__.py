"""StyleGAN2 training: configuration, losses, augmentation, the loop, resumable state, starting and resuming runs."""

from .config import AugmentConfig, DataConfig, OptimizerConfig, TrainConfig, TrainOptions, build_config
from .loop import TrainResult, train
from .losses import LossSettings, StyleGAN2Loss
from .reporting import Reporter
from .runs import RESUMABLE, RunPlan, make_config, prepare_run, start_run

__all__ = [
    "RESUMABLE",
    "AugmentConfig",
    "DataConfig",
    "LossSettings",
    "OptimizerConfig",
    "Reporter",
    "RunPlan",
    "StyleGAN2Loss",
    "TrainConfig",
    "TrainOptions",
    "TrainResult",
    "build_config",
    "make_config",
    "prepare_run",
    "start_run",
    "train",
]

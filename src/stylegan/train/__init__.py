"""StyleGAN2 training: configuration and presets, losses, augmentation, the loop, resumable state."""

from .config import TRAIN_PRESETS, AugmentConfig, DataConfig, OptimizerConfig, TrainConfig, build_config
from .loop import TrainResult, train
from .losses import LossSettings, StyleGAN2Loss
from .reporting import Reporter

__all__ = [
    "TRAIN_PRESETS",
    "AugmentConfig",
    "DataConfig",
    "LossSettings",
    "OptimizerConfig",
    "Reporter",
    "StyleGAN2Loss",
    "TrainConfig",
    "TrainResult",
    "build_config",
    "train",
]

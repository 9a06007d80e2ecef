"""stylegan: StyleGAN2 in pure PyTorch."""

from .io import load, save
from .networks import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig

__version__ = "0.1.0"

__all__ = ["Discriminator", "DiscriminatorConfig", "Generator", "GeneratorConfig", "__version__", "load", "save"]

"""stylegan: StyleGAN2 in pure PyTorch."""

from .networks import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig

__version__ = "0.1.0"

__all__ = ["Discriminator", "DiscriminatorConfig", "Generator", "GeneratorConfig", "__version__"]

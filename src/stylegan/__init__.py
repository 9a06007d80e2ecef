"""stylegan: StyleGAN2 in pure PyTorch.

>>> import stylegan
>>> from stylegan.testing import tiny_generator
>>> stylegan.generate(tiny_generator(), seeds=[7], psi=0.7).images.shape
(1, 16, 16, 3)
"""

from importlib.metadata import PackageNotFoundError, version

from .generation import GeneratedImages, StyleMix, generate, generate_files, iter_generate, style_mix
from .io import load, save
from .networks import Discriminator, DiscriminatorConfig, Generator, GeneratorConfig

try:
    __version__ = version("stylegan")  # pyproject.toml's version, as installed
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Discriminator",
    "DiscriminatorConfig",
    "GeneratedImages",
    "Generator",
    "GeneratorConfig",
    "StyleMix",
    "__version__",
    "generate",
    "generate_files",
    "iter_generate",
    "load",
    "save",
    "style_mix",
]

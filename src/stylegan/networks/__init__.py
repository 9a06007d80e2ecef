"""StyleGAN2 networks: Generator (MappingNetwork + SynthesisNetwork) and Discriminator."""

from .config import ARCHITECTURES, DiscriminatorConfig, GeneratorConfig, channels_at
from .discriminator import Discriminator, DiscriminatorBlock, DiscriminatorEpilogue, MinibatchStdLayer
from .generator import Generator
from .mapping import MappingNetwork
from .synthesis import SynthesisBlock, SynthesisLayer, SynthesisNetwork, ToRGBLayer

__all__ = [
    "ARCHITECTURES",
    "DiscriminatorConfig",
    "GeneratorConfig",
    "channels_at",
    "Discriminator",
    "DiscriminatorBlock",
    "DiscriminatorEpilogue",
    "MinibatchStdLayer",
    "Generator",
    "MappingNetwork",
    "SynthesisBlock",
    "SynthesisLayer",
    "SynthesisNetwork",
    "ToRGBLayer",
]

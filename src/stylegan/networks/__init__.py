"""StyleGAN2 networks: Generator (MappingNetwork + SynthesisNetwork) and Discriminator; StyleGAN (version 1) in
`stylegan.networks.v1` (its generator is also a `Generator`)."""

from . import v1
from .config import ARCHITECTURES, DiscriminatorConfig, GeneratorConfig, channels_at
from .discriminator import Discriminator, DiscriminatorBlock, DiscriminatorEpilogue, MinibatchStdLayer
from .generator import AnyGeneratorConfig, Generator, stylegan2_config
from .mapping import MappingNetwork
from .synthesis import SynthesisBlock, SynthesisLayer, SynthesisNetwork, ToRGBLayer

#: A discriminator of either version.
AnyDiscriminator = Discriminator | v1.Discriminator
AnyDiscriminatorConfig = DiscriminatorConfig | v1.DiscriminatorConfig
#: The configuration of any network.
NetworkConfig = AnyGeneratorConfig | AnyDiscriminatorConfig


def count_parameters(cfg: NetworkConfig) -> tuple[int, int]:
    """(parameters, buffer values) of the network `cfg` describes, of either version (nothing is built)."""
    from .config import count_parameters as count_v2

    if isinstance(cfg, (v1.GeneratorConfig, v1.DiscriminatorConfig)):
        return v1.count_parameters(cfg)
    return count_v2(cfg)


def weights_nbytes(cfg: NetworkConfig) -> int:
    """Bytes the network's float32 weights and buffers take (from `count_parameters`; nothing is built)."""
    return 4 * sum(count_parameters(cfg))


def build_network(cfg: NetworkConfig) -> Generator | AnyDiscriminator:
    """The network (random weights) that `cfg` describes."""
    if isinstance(cfg, (GeneratorConfig, v1.GeneratorConfig)):
        return Generator(cfg)
    return v1.Discriminator(cfg) if isinstance(cfg, v1.DiscriminatorConfig) else Discriminator(cfg)


def config_from_dict(d: dict, kind: str) -> NetworkConfig:
    """A configuration read from JSON: `kind` "G" or "D"; a `"version": 1` key selects StyleGAN (v1)."""
    if kind not in ("G", "D"):
        raise ValueError(f"kind must be 'G' or 'D', got {kind!r}")
    if isinstance(d, dict) and "version" in d:
        return (v1.GeneratorConfig if kind == "G" else v1.DiscriminatorConfig).from_dict(d)
    return (GeneratorConfig if kind == "G" else DiscriminatorConfig).from_dict(d)


__all__ = [
    "AnyDiscriminator",
    "AnyDiscriminatorConfig",
    "AnyGeneratorConfig",
    "NetworkConfig",
    "build_network",
    "config_from_dict",
    "count_parameters",
    "stylegan2_config",
    "v1",
    "weights_nbytes",
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

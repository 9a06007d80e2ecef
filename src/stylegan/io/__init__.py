"""Checkpoints: our safetensors format, safe readers for NVIDIA (PyTorch and TF) and rosinality files, and
the registry of published networks.

>>> import tempfile, stylegan.io
>>> from stylegan.testing import tiny_generator
>>> path = stylegan.io.save(tempfile.mkdtemp() + "/tiny.safetensors", G_ema=tiny_generator())
>>> stylegan.io.inspect(path).nets["G_ema"].config.img_resolution
16
"""

from .checkpoint import (
    FORMAT,
    CheckpointInfo,
    LoadedNetworks,
    NetworkInfo,
    detect_format,
    inspect,
    load,
    read_checkpoint,
    save,
)
from .conversion import ConvertResult, convert
from .pretrained import (
    BUNDLED_NETWORK,
    PretrainedNetwork,
    cache_dir,
    download,
    list_pretrained,
    register,
    resolve,
    resolve_network,
)

__all__ = [
    "BUNDLED_NETWORK",
    "FORMAT",
    "CheckpointInfo",
    "ConvertResult",
    "LoadedNetworks",
    "NetworkInfo",
    "PretrainedNetwork",
    "cache_dir",
    "convert",
    "detect_format",
    "download",
    "inspect",
    "list_pretrained",
    "load",
    "read_checkpoint",
    "register",
    "resolve",
    "resolve_network",
    "save",
]

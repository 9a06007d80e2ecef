"""Small model files: one `.safetensors` holding a module's weights and string metadata (format tag, JSON config).

Classifiers, Z-code generators, encoders and face-swap models are stored this way: loading needs no code from the
file (no pickle) and any damaged or foreign file becomes one StyleGANError naming it.

>>> import tempfile, torch
>>> path = tempfile.mkdtemp() + "/lin.safetensors"
>>> _ = save_module_file(path, torch.nn.Linear(2, 1), {"format": "demo/1"})
>>> state, meta = read_module_file(path, "demo/1", "demo model", "make one first")
>>> sorted(state), meta["format"]
(['bias', 'weight'], 'demo/1')
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor

from ..errors import StyleGANError


def save_module_file(path: str | os.PathLike[str], module: torch.nn.Module, metadata: dict[str, str]) -> Path:
    """Write `module`'s state dict (on the CPU) and `metadata` to one .safetensors file, atomically."""
    from safetensors.torch import save

    from ..fileio import atomic_write_bytes

    data = save({k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}, metadata=metadata)
    atomic_write_bytes(path, data)
    return Path(path)


def read_module_file(
    path: str | os.PathLike[str], file_format: str, what: str, hint: str
) -> tuple[dict[str, Tensor], dict[str, str]]:
    """(state dict, metadata) of a file written by `save_module_file` whose metadata "format" is `file_format`.

    A missing, unreadable or foreign file is one StyleGANError: "PATH: no such WHAT file (HINT)", "PATH: not a
    WHAT file (...)"."""
    from safetensors import safe_open

    path = Path(path)
    a = "an" if what[:1].lower() in "aeiou" else "a"
    if not path.is_file():
        raise StyleGANError(f"{path}: no such {what} file ({hint})")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}  # safe_open has no iteration
    except Exception as e:  # any unreadable file is the same user error
        raise StyleGANError(f"{path}: not {a} {what} file ({type(e).__name__})") from None
    if meta.get("format") != file_format:
        raise StyleGANError(f"{path}: not a stylegan {what} file ({hint})")
    return state, meta


__all__ = ["read_module_file", "save_module_file"]

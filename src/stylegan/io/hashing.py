"""Content hashes: of a file (sha256 of its bytes) and of a network (sha256 of its state dict).

>>> from stylegan.testing import tiny_generator
>>> len(network_hash(tiny_generator()))
64
"""

from __future__ import annotations

import hashlib
import os

import torch


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def network_hash(G: torch.nn.Module) -> str:
    """Hex sha256 over a network's state dict (names, dtypes, shapes, values, in name order): its content identity.

    Files made for one network (directions, calibrations, samples) record it, so that using them with another
    network can be refused.
    """
    h = hashlib.sha256()
    for name, t in sorted(G.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


__all__ = ["file_sha256", "network_hash"]

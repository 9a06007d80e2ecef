"""Improved precision and recall (Kynkäänniemi et al. 2019) as NVIDIA computes it.

Each feature set defines a manifold: the union of balls around its vectors, the radius of a vector being the
distance to its k-th nearest neighbour in the same set (`kthvalue(k + 1)` of its distance row, the +1 skipping
itself). Precision = the share of generated vectors inside the real manifold; recall = the share of real vectors
inside the generated manifold ("inside" = within the radius of at least one vector, `<=`).

Like NVIDIA, features and radii are rounded to float16 and distances are compared in float16; NVIDIA computes the
distances themselves in float16 on the GPU, we compute them in float32 (float16 on CUDA) and round them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def _distances(rows: Tensor, cols: Tensor, col_batch_size: int) -> Tensor:
    work = torch.float16 if rows.device.type == "cuda" else torch.float32
    out = [torch.cdist(rows.to(work)[None], c.to(work)[None])[0] for c in cols.split(col_batch_size)]
    return torch.cat(out, dim=1).to(torch.float16)


def manifold_radii(features: Tensor, nhood_size: int = 3, row_batch_size: int = 10000) -> Tensor:
    """Distance of each vector to its k-th nearest neighbour in the set (itself excluded), float16 [N]."""
    if len(features) <= nhood_size:
        raise ValueError(f"precision/recall with k={nhood_size} needs more than {nhood_size} vectors per set")
    kth = [
        _distances(batch, features, row_batch_size).to(torch.float32).kthvalue(nhood_size + 1, dim=1).values
        for batch in features.split(row_batch_size)
    ]
    return torch.cat(kth).to(torch.float16)


def in_manifold(probes: Tensor, manifold: Tensor, radii: Tensor, row_batch_size: int = 10000) -> Tensor:
    """Whether each probe lies within the radius of at least one manifold vector, bool [N]."""
    inside = [(_distances(b, manifold, row_batch_size) <= radii[None]).any(dim=1) for b in probes.split(row_batch_size)]
    return torch.cat(inside)


def precision_recall(
    real_features: np.ndarray | Tensor,
    gen_features: np.ndarray | Tensor,
    *,
    nhood_size: int = 3,
    row_batch_size: int = 10000,
    device: torch.device | str = "cpu",
) -> tuple[float, float]:
    """(precision, recall) of generated against real feature vectors [N, D].

    >>> real = np.arange(10.0)[:, None]                 # radius of each point: distance to its 3rd neighbour
    >>> fake = np.array([[0.5], [4.0], [100.0], [-3.0]])  # -3 is exactly 3 from 0, whose radius is 3
    >>> precision_recall(real, fake, nhood_size=3)[0]
    0.75
    """
    real = torch.as_tensor(np.asarray(real_features, np.float32)).to(device).to(torch.float16)
    gen = torch.as_tensor(np.asarray(gen_features, np.float32)).to(device).to(torch.float16)
    results = []
    for manifold, probes in ((real, gen), (gen, real)):
        radii = manifold_radii(manifold, nhood_size, row_batch_size)
        results.append(float(in_manifold(probes, manifold, radii, row_batch_size).to(torch.float64).mean()))
    return results[0], results[1]

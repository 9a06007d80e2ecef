"""Kernel Inception distance (Bińkowski et al. 2018): the unbiased estimate of the squared MMD with the cubic
polynomial kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets, as NVIDIA computes it: 100 subsets of
m = min(n_real, n_fake, 1000) vectors drawn without replacement, and

    KID = (1 / (S m)) sum_s [ (sum_{i!=j} k(x_i,x_j) + k(y_i,y_j)) / (m - 1) - 2 sum_{i,j} k(x_i,y_j) / m ].
"""

from __future__ import annotations

import numpy as np


def kernel_inception_distance(
    real_features: np.ndarray,
    gen_features: np.ndarray,
    *,
    num_subsets: int = 100,
    max_subset_size: int = 1000,
    seed: int = 0,
) -> float:
    """KID of two feature sets [N, D] (float64 arithmetic). Subsets come from `numpy.random.RandomState(seed)`,
    fakes first, as in NVIDIA's loop.

    >>> x = np.ones((5, 4)); y = np.zeros((5, 4))       # point masses: exactly k(a,a) + k(b,b) - 2 k(a,b)
    >>> kernel_inception_distance(x, y, num_subsets=3)  # (1+1)^3 + 1 - 2*1
    7.0
    """
    real = np.asarray(real_features, np.float64)
    gen = np.asarray(gen_features, np.float64)
    n = real.shape[1]
    m = min(real.shape[0], gen.shape[0], max_subset_size)
    if m < 2:
        raise ValueError("KID needs at least 2 real and 2 generated feature vectors")
    rng = np.random.RandomState(seed % (1 << 32))
    t = 0.0
    for _ in range(num_subsets):
        x = gen[rng.choice(gen.shape[0], m, replace=False)]
        y = real[rng.choice(real.shape[0], m, replace=False)]
        a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
        b = (x @ y.T / n + 1) ** 3
        t += (a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m
    return float(t / num_subsets / m)

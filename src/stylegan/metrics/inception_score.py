"""Inception score (Salimans et al. 2016) as NVIDIA computes it: class probabilities of the generated images
(softmax without the output bias), cut into 10 consecutive splits; per split exp(mean_x KL(p(y|x) || p(y))) with
p(y) the split's mean; the result is the mean and standard deviation over splits.
"""

from __future__ import annotations

import numpy as np


def inception_score(probs: np.ndarray, num_splits: int = 10) -> tuple[float, float]:
    """(mean, std) of the Inception score of class probabilities [N, classes].

    >>> inception_score(np.eye(4)[[0, 1, 2, 3] * 5], num_splits=5)   # 4 equally used, certain classes -> 4
    (4.0, 0.0)
    """
    p = np.asarray(probs, np.float64)
    n = len(p)
    if n < num_splits:
        raise ValueError(f"the Inception score needs at least {num_splits} samples, got {n}")
    scores = []
    for i in range(num_splits):
        part = p[i * n // num_splits : (i + 1) * n // num_splits]
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = part * (np.log(part) - np.log(np.mean(part, axis=0, keepdims=True)))
        kl = np.nan_to_num(kl, nan=0.0)  # 0 log 0 = 0
        scores.append(np.exp(np.mean(np.sum(kl, axis=1))))
    return float(np.mean(scores)), float(np.std(scores))

"""Fréchet Inception distance (Heusel et al. 2017): the Fréchet distance between Gaussians fitted to the detector
features of real and generated images,

    FID = |mu_r - mu_g|^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)).

NVIDIA evaluates the trace of the matrix square root with `scipy.linalg.sqrtm` (real part). `method="sqrtm"` does
exactly that; the default `method="eigh"` computes the same number without the general square root: the
eigenvalues of S_r S_g equal those of the symmetric L^T S_g L (S_r = L L^T, Cholesky; an eigendecomposition of
S_r when it is singular), so Tr((S_r S_g)^(1/2)) = sum sqrt(eig). It agrees with sqrtm to ~1e-9 relative on
well-conditioned matrices and is several times faster for 2048-d features.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

FrechetMethod = Literal["eigh", "sqrtm"]


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray, method: FrechetMethod = "eigh") -> float:
    """Tr((sigma1 sigma2)^(1/2)) for symmetric positive semi-definite sigma1, sigma2."""
    s1 = np.asarray(sigma1, np.float64)
    s2 = np.asarray(sigma2, np.float64)
    if method == "sqrtm":
        import scipy.linalg

        root = scipy.linalg.sqrtm(s1 @ s2)  # NVIDIA passes disp=False, which only adds an error estimate
        root = root[0] if isinstance(root, tuple) else root
        return float(np.real(np.trace(root)))
    if method != "eigh":
        raise ValueError(f"method must be 'eigh' or 'sqrtm', got {method!r}")
    try:
        L = np.linalg.cholesky(s1)
    except np.linalg.LinAlgError:  # singular sigma1 (fewer samples than features): use its PSD square root
        w, v = np.linalg.eigh(s1)
        L = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    m = L.T @ s2 @ L
    eig = np.linalg.eigvalsh((m + m.T) / 2)
    return float(np.sqrt(np.clip(eig, 0, None)).sum())


def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, method: FrechetMethod = "eigh"
) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    >>> round(frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4 * np.eye(2)), 6)  # |1|^2*2 + 2*(1-2)^2
    4.0
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shape mismatch: mu {mu1.shape} vs {mu2.shape}, sigma {s1.shape} vs {s2.shape}")
    m = float(np.square(mu1 - mu2).sum())
    return float(m + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt_product(s1, s2, method))

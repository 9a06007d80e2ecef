"""The metric formulas on synthetic data with known answers: Fréchet distance against a direct scipy computation,
KID (unbiased MMD, cubic kernel) and precision/recall (k-NN radii) on clusters, Inception score, PPL filtering."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from stylegan.metrics import (
    FeatureStats,
    filtered_mean,
    frechet_distance,
    inception_score,
    kernel_inception_distance,
    precision_recall,
)
from stylegan.metrics.fid import trace_sqrt_product
from stylegan.metrics.precision_recall import in_manifold, manifold_radii


def _random_spd(rng: np.random.RandomState, d: int, rank: int | None = None) -> np.ndarray:
    a = rng.randn(d, rank or d)
    return a @ a.T / (rank or d) + (0 if rank else 0.1) * np.eye(d)


def _scipy_fid(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """The textbook computation, written out directly."""
    root = scipy.linalg.sqrtm(s1 @ s2)
    root = root[0] if isinstance(root, tuple) else root
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.real(np.trace(root)))


@pytest.mark.parametrize("method", ["eigh", "sqrtm"])
def test_frechet_distance_matches_scipy_on_known_gaussians(method: str) -> None:
    rng = np.random.RandomState(0)
    for d in (1, 5, 32):
        mu1, mu2 = rng.randn(d), rng.randn(d)
        s1, s2 = _random_spd(rng, d), _random_spd(rng, d)
        np.testing.assert_allclose(
            frechet_distance(mu1, s1, mu2, s2, method=method), _scipy_fid(mu1, s1, mu2, s2), rtol=1e-8, atol=1e-9
        )


def test_frechet_distance_closed_form_for_diagonal_covariances() -> None:
    # Commuting covariances: FID = |mu1 - mu2|^2 + sum (sigma1_i - sigma2_i)^2 with sigma the standard deviations.
    sd1, sd2 = np.array([1.0, 2.0, 0.5]), np.array([3.0, 2.0, 0.25])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 1 + 0 + 4 + (1 - 3) ** 2 + 0 + 0.25**2
    assert frechet_distance(mu1, np.diag(sd1**2), mu2, np.diag(sd2**2)) == pytest.approx(expected, rel=1e-12)
    assert frechet_distance(mu1, np.diag(sd1**2), mu1, np.diag(sd1**2)) == pytest.approx(0, abs=1e-12)


def test_frechet_distance_of_sampled_gaussians_and_singular_covariances() -> None:
    rng = np.random.RandomState(1)
    d = 16
    # Fewer samples than dimensions -> singular covariance: the eigh route falls back from Cholesky.
    s1, s2 = _random_spd(rng, d, rank=5), _random_spd(rng, d, rank=7)
    assert trace_sqrt_product(s1, s2) == pytest.approx(np.real(np.trace(scipy.linalg.sqrtm(s1 @ s2))), rel=1e-6)
    # FeatureStats (biased covariance, as NVIDIA's) of samples from N(mu, S) converge to the analytic FID.
    mu_a, mu_b = np.zeros(d), np.full(d, 0.5)
    sa, sb = _random_spd(rng, d), _random_spd(rng, d)
    a = FeatureStats()
    b = FeatureStats()
    a.append(rng.multivariate_normal(mu_a, sa, size=20000))
    b.append(rng.multivariate_normal(mu_b, sb, size=20000))
    assert frechet_distance(a.mean, a.cov, b.mean, b.cov) == pytest.approx(_scipy_fid(mu_a, sa, mu_b, sb), rel=0.05)


def test_feature_stats_are_biased_mean_and_covariance() -> None:
    rng = np.random.RandomState(2)
    x = rng.randn(50, 4).astype(np.float32)
    s = FeatureStats(capture_all=True, max_items=40)
    s.append(x[:25])
    s.append(torch.from_numpy(x[25:]))  # tensors too; beyond max_items is dropped
    assert s.num_items == 40 and s.is_full
    np.testing.assert_allclose(s.mean, x[:40].astype(np.float64).mean(0), rtol=1e-12)
    np.testing.assert_allclose(s.cov, np.cov(x[:40].astype(np.float64).T, bias=True), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(s.get_all(), x[:40])


def _kid_reference(real: np.ndarray, gen: np.ndarray, num_subsets: int, m: int, seed: int) -> float:
    """Unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3, written as explicit sums over index pairs."""
    rng = np.random.RandomState(seed)
    d = real.shape[1]

    def k(u: np.ndarray, v: np.ndarray) -> float:
        return (float(u @ v) / d + 1) ** 3

    total = 0.0
    for _ in range(num_subsets):
        x = gen[rng.choice(len(gen), m, replace=False)]
        y = real[rng.choice(len(real), m, replace=False)]
        kxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
        kyy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
        kxy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
        total += kxx + kyy - 2 * kxy
    return total / num_subsets


def test_kid_point_masses_equal_the_exact_mmd() -> None:
    a, b = np.array([1.0, 2.0, 0.0]), np.array([0.0, -1.0, 3.0])
    d = 3
    k = lambda u, v: (u @ v / d + 1) ** 3  # noqa: E731
    exact = k(a, a) + k(b, b) - 2 * k(a, b)
    real, gen = np.tile(a, (30, 1)), np.tile(b, (20, 1))
    assert kernel_inception_distance(real, gen, num_subsets=7) == pytest.approx(exact, rel=1e-12)


def test_kid_matches_explicit_unbiased_estimator_and_subset_rule() -> None:
    rng = np.random.RandomState(3)
    real = rng.randn(40, 6) + np.array([0.5, 0, 0, 0, 0, 1.0])
    gen = rng.randn(30, 6)
    # m = min(n_real, n_gen, max_subset_size); subsets drawn fakes first from RandomState(seed)
    got = kernel_inception_distance(real, gen, num_subsets=5, max_subset_size=12, seed=4)
    assert got == pytest.approx(_kid_reference(real, gen, 5, 12, 4), rel=1e-10)
    got = kernel_inception_distance(real, gen, num_subsets=3, max_subset_size=1000, seed=0)
    assert got == pytest.approx(_kid_reference(real, gen, 3, 30, 0), rel=1e-10)


def test_kid_of_same_and_separated_clusters() -> None:
    rng = np.random.RandomState(5)
    same = kernel_inception_distance(rng.randn(400, 8), rng.randn(300, 8), num_subsets=20, max_subset_size=200)
    apart = kernel_inception_distance(rng.randn(400, 8), rng.randn(300, 8) + 2, num_subsets=20, max_subset_size=200)
    assert abs(same) < 0.05 and apart > 1.0  # unbiased: ~0 for one distribution; clearly positive otherwise


def test_precision_recall_radii_use_the_kth_neighbour_excluding_self() -> None:
    pts = torch.tensor([[0.0], [1.0], [3.0], [6.0], [10.0]])
    # distances from 0: 1, 3, 6, 10 -> 3rd neighbour 6; from 10: 4, 7, 9, 10 -> 9
    radii = manifold_radii(pts, 3)
    np.testing.assert_array_equal(radii.float().numpy(), [6.0, 5.0, 3.0, 5.0, 9.0])
    probes = torch.tensor([[-6.0], [-6.5], [19.0], [19.5]])  # on the radius of 0 (inside), beyond it, 10 + 9, beyond
    np.testing.assert_array_equal(in_manifold(probes, pts, radii).numpy(), [True, False, True, False])
    real = pts.numpy()
    assert precision_recall(real, np.array([[19.0], [19.5], [-3.0], [100.0]]), nhood_size=3)[0] == 0.5
    with pytest.raises(ValueError, match="more than 3"):
        precision_recall(real, real[:3], nhood_size=3)


def test_precision_recall_on_clusters_with_known_answers() -> None:
    rng = np.random.RandomState(6)
    real = 0.1 * rng.randn(200, 16)
    # fakes: a near-copy of every real vector (inside the real manifold, and covering it) plus 50 far away ones
    # -> precision = 200 / 250, recall = 1
    gen = np.concatenate([real + 1e-3 * rng.randn(200, 16), 50 + 0.1 * rng.randn(50, 16)])
    p, r = precision_recall(real, gen, nhood_size=3, row_batch_size=64)  # batching does not change the answer
    assert (p, r) == (0.8, 1.0)
    # mode collapse: all fakes in a tiny region of the real cluster -> precision 1, recall small
    p, r = precision_recall(real, 0.001 * rng.randn(100, 16), nhood_size=3)
    assert p == 1.0 and r < 0.2


def test_inception_score_known_values() -> None:
    probs = np.eye(5)[np.arange(100) % 5]  # certain and uniform over 5 classes in every split
    mean, std = inception_score(probs, num_splits=10)
    assert mean == pytest.approx(5.0) and std == pytest.approx(0.0, abs=1e-12)
    assert inception_score(np.full((50, 7), 1 / 7), num_splits=10) == pytest.approx((1.0, 0.0))
    # two classes, p(y|x) = (0.9, 0.1) or (0.1, 0.9) equally often: IS = exp(KL((.9,.1) || (.5,.5)))
    p = np.array([[0.9, 0.1], [0.1, 0.9]] * 20)
    kl = 0.9 * np.log(0.9 / 0.5) + 0.1 * np.log(0.1 / 0.5)
    assert inception_score(p, num_splits=10)[0] == pytest.approx(np.exp(kl))
    with pytest.raises(ValueError):
        inception_score(probs[:5], num_splits=10)


def test_ppl_percentile_filter_is_lower_and_higher() -> None:
    dist = np.arange(1000.0)
    # 1st percentile with 'lower' = element 9 (index floor(9.99)); 99th with 'higher' = element 990 (ceil(989.01))
    assert filtered_mean(dist) == pytest.approx(np.arange(9, 991).mean())
    rng = np.random.RandomState(7)
    d = rng.exponential(size=333)
    lo, hi = np.sort(d)[int(np.floor(0.01 * 332))], np.sort(d)[int(np.ceil(0.99 * 332))]
    assert filtered_mean(d) == pytest.approx(d[(d >= lo) & (d <= hi)].mean())
